"""The validation calls the simulator makes to the site, as Asaas's "mecanismo para validação de saque via webhooks".

About five seconds after a cash-out is created Asaas POSTs `{"type": ..., <object>: {...}}` to the configured URL
with the `asaas-access-token` header and expects `{"status": "APPROVED"}` or `{"status": "REFUSED",
"refuseReason": ...}`; it "pode falhar no máximo três vezes, após a terceira falha a transferência será cancelada
automaticamente". Transfers (asaas_sim/transfers.py) and, with "Ativar autorização de saque para estornos Pix",
PIX refunds (asaas_sim/api.py) are asked about; the admin page can send any type.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import requests
from flask import Flask

from .host import socketio

log = logging.getLogger(__name__)
VALIDATION_ATTEMPTS = 3


# The cash-out kinds Asaas's validation mechanism asks about, and the key of the object in its request body
# (the simulator's reading: the docs name the types; each body carries the object under the type's name).
VALIDATION_TYPES = {
    "TRANSFER": "transfer",
    "PIX_REFUND": "pixRefund",
    "BILL": "bill",
    "PIX_QR_CODE": "pixQrCode",
    "MOBILE_PHONE_RECHARGE": "mobilePhoneRecharge",
    "PAYMENT_SPLIT": "paymentSplit",
}


def ask(app: Flask, kind: str, obj: dict[str, Any]) -> str:
    """One validation request: APPROVED, REFUSED, or "" when the site did not answer usably."""
    headers = {"asaas-access-token": app.config["ASAAS_TRANSFER_VALIDATION_TOKEN"], "Content-Type": "application/json"}
    body = json.dumps({"type": kind, VALIDATION_TYPES[kind]: obj})
    if app.config["ASAAS_SIM_DELIVERY"] == "inline":
        answer = app.test_client().post("/payment/transfer-validation", data=body, headers=headers)
        status, payload = answer.status_code, answer.get_json(silent=True)
    else:
        try:
            reply = requests.post(app.config["ASAAS_SIM_VALIDATION_URL"], data=body, headers=headers, timeout=10)
            status, payload = reply.status_code, reply.json()
        except (requests.RequestException, ValueError):
            status, payload = 0, None
    verdict = payload.get("status") if status == 200 and isinstance(payload, dict) else None
    log.info("event=sim_cashout_validation type=%s id=%s answer=%s", kind, obj.get("id"), verdict)
    return verdict if verdict in ("APPROVED", "REFUSED") else ""


def ask_thrice(app: Flask, kind: str, obj: dict[str, Any], delays: tuple[float, ...]) -> str:
    """Up to three attempts, as Asaas makes; "" when all three failed."""
    for attempt in range(VALIDATION_ATTEMPTS):
        delay = delays[min(attempt, len(delays) - 1)]
        if delay:
            socketio(app).sleep(delay)
        if answer := ask(app, kind, obj):
            return answer
    return ""

"""Asaas transfer callbacks: TRANSFER_* webhooks (through /payment/webhook) and the transfer validation webhook.

- TRANSFER_* deliveries arrive at `/payment/webhook` with the same token and are stored and processed like
  payment deliveries (payments/deliveries.py dispatches them by prefix to payouts' `process_webhook`); 200 for
  anything authentic we stored.
- `POST /payment/transfer-validation`: Asaas's security mechanism asks whether a transfer is ours
  (`asaas-access-token` = ASAAS_TRANSFER_VALIDATION_TOKEN). Answers `{"status": "APPROVED"}` or
  `{"status": "REFUSED", "refuseReason": ...}`; a wrong token gets 401 and touches nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, current_app, request

from ..db import DatabaseUnavailable
from ..extensions import csrf
from ..payouts import validation
from .usecases import perform
from .webhook import TOKEN_HEADER, token_ok

bp = Blueprint("transfer_callbacks", __name__)
log = logging.getLogger(__name__)


@bp.post("/payment/transfer-validation")
@csrf.exempt
def validate_transfer() -> Any:
    if not token_ok(request.headers.get(TOKEN_HEADER), current_app.config["ASAAS_TRANSFER_VALIDATION_TOKEN"]):
        log.warning("event=transfer_validation_unauthorized ip=%s", request.remote_addr)
        return {"error": "unauthorized"}, 401
    raw = request.get_data(cache=False)
    if len(raw) > current_app.config["WEBHOOK_MAX_BYTES"]:
        return {"error": "body too large"}, 413
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        body = None
    try:
        verdict = perform(validation.validate, body)
    except DatabaseUnavailable:
        # Not answering 200 lets Asaas try again (it cancels the transfer after three failures).
        return {"error": "could not check the transfer now"}, 503
    return verdict.as_answer(), 200

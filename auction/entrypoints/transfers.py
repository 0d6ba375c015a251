"""Asaas transfer callbacks: TRANSFER_* webhooks (through /payment/webhook) and the transfer validation webhook.

- TRANSFER_* deliveries arrive at `/payment/webhook` with the same token; webhook.py hands them here
  (after the token and size checks). Stored first (503 if that fails, so Asaas retries), then applied;
  200 for anything authentic we stored, as for payments.
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
from ..extensions import csrf, get_db
from ..payouts import deliveries, validation
from .webhook import TOKEN_HEADER, register_processor, token_ok

bp = Blueprint("transfer_callbacks", __name__)
log = logging.getLogger(__name__)


def receive_transfer(raw: bytes) -> tuple[dict[str, Any], int]:
    try:
        delivery = deliveries.parse(raw)
    except ValueError as exc:
        log.info("event=transfer_webhook_malformed reason=%s", exc)
        return {"error": str(exc)}, 400
    db = get_db()
    try:
        delivery_id, first = deliveries.store(db, delivery)
    except DatabaseUnavailable:
        return {"error": "could not store the event; retry later"}, 503
    try:
        outcome = db.run(deliveries.process, delivery_id)
    except DatabaseUnavailable:
        return {"error": "could not process the event now; retry later"}, 503
    except Exception as exc:
        log.exception("event=transfer_webhook_failed delivery_id=%s", delivery_id)
        db.transaction(deliveries.mark_failed, delivery_id, type(exc).__name__)
        outcome = "failed"
    log.info(
        "event=webhook event_id=%s name=%s transfer=%s first=%s outcome=%s",
        delivery.event_id,
        delivery.event,
        str(delivery.transfer.get("id"))[:64],
        first,
        outcome,
    )
    return {"received": True, "outcome": outcome}, 200


register_processor(deliveries.PREFIX, receive_transfer)


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
        verdict = get_db().run(validation.validate, body)
    except DatabaseUnavailable:
        # Not answering 200 lets Asaas try again (it cancels the transfer after three failures).
        return {"error": "could not check the transfer now"}, 503
    return verdict.as_answer(), 200

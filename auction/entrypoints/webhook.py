"""POST /payment/webhook: Asaas's deliveries, authenticated by the `asaas-access-token` header.

Order of work (see docs/payments.md): authenticate (401, nothing stored), check the
size (413) and that the bytes are a JSON object (400: nothing else is refused), store
the delivery in its own transaction (503 if that fails, so Asaas retries), then
process it and answer 200 -- also for unknown payments, unreadable payment objects,
events of other kinds (CHECKOUT_*, TRANSFER_*, ...) and events we do not know,
because 15 non-200 answers in a row pause the whole Asaas queue. Nothing here calls
Asaas: Asaas waits about 10 s for the answer.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from flask import Blueprint, current_app, request

from ..db import DatabaseUnavailable
from ..extensions import csrf
from ..payments import deliveries
from ..payments.deliveries import Delivery, event_id_of
from ..payments.events import CreditPolicy
from . import metrics
from .usecases import database

bp = Blueprint("payment_webhook", __name__)
log = logging.getLogger(__name__)
TOKEN_HEADER = "asaas-access-token"


def token_ok(sent: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty or missing token never matches."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def parse_delivery(raw: bytes) -> Delivery:
    """The delivery in a body, or ValueError when the bytes are not JSON (or not storable)."""
    try:
        text = raw.decode("utf-8")
        body = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("body is not JSON") from exc
    try:
        # Escapes like \ud800 decode to lone surrogates, which no database column can store.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("body has invalid unicode") from exc
    if not isinstance(body, dict):
        return Delivery(event_id_of({}, text), "(none)", {}, text)  # valid JSON, just not Asaas's shape: kept
    event = body.get("event")
    if not isinstance(event, str):
        # The transfer validation webhook names its kind in "type"; anything else is kept as "(none)".
        event = body.get("type") if isinstance(body.get("type"), str) else "(none)"
    return Delivery(event_id_of(body, text), event, body, text)


def _answer(status: int, **body: Any) -> tuple[dict[str, Any], int]:
    metrics.webhook_answered(status, body.get("outcome") or REFUSED.get(status, "error"))
    return body, status


# The outcome label of a refused delivery (one processed gets its processing's outcome).
REFUSED = {400: "malformed", 401: "unauthorized", 413: "too_large", 503: "not_stored"}


@bp.post("/payment/webhook")
@csrf.exempt
def receive() -> Any:
    if not token_ok(request.headers.get(TOKEN_HEADER), current_app.config["ASAAS_WEBHOOK_TOKEN"]):
        log.warning(
            "event=webhook_unauthorized ip=%s token_present=%s", request.remote_addr, TOKEN_HEADER in request.headers
        )
        return _answer(401, error="unauthorized")
    limit = current_app.config["WEBHOOK_MAX_BYTES"]
    raw = b"" if (request.content_length or 0) > limit else request.stream.read(limit + 1)
    if (request.content_length or 0) > limit or len(raw) > limit:
        log.warning("event=webhook_too_large length=%s limit=%s", request.content_length, limit)
        return _answer(413, error="body too large")
    try:
        delivery = parse_delivery(raw)
    except ValueError as exc:
        log.info("event=webhook_malformed reason=%s", exc)
        return _answer(400, error=str(exc))
    try:
        # Stored and processed in one transaction; stored on its own, as failed, only if processing fails.
        policy = CreditPolicy.from_config(current_app.config)
        delivery_id, first, result = deliveries.receive_delivery(database(), delivery, policy)
    except DatabaseUnavailable:
        # Nothing is known to be stored: Asaas redelivers, and the event id keeps it idempotent.
        log.warning("event=webhook_not_stored event_id=%s", delivery.event_id)
        return _answer(503, error="could not store the event; retry later")
    log.info(
        "event=webhook event_id=%s delivery_id=%s name=%s payment=%s first=%s outcome=%s",
        delivery.event_id,
        delivery_id,
        delivery.event,
        delivery.asaas_payment_id or "-",
        first,
        result.outcome,
    )
    return _answer(200, received=True, outcome=result.outcome)

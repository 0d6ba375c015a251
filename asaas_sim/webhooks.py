"""The simulated account's webhook: registered through the API, its queue interrupted after 15 failures in a row.

Like gateway.py, every function is one transaction's work on a session.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .gateway import SimError, _save, public
from .models import AsaasSimObject

WEBHOOK_ID = "wh_simulator"
PAUSE_AFTER_FAILURES = 15  # Asaas interrupts a webhook's queue after 15 failed deliveries in a row


def _webhook(session: Session, lock: bool = False) -> tuple[AsaasSimObject | None, dict[str, Any]]:
    statement = select(AsaasSimObject).where(AsaasSimObject.id == WEBHOOK_ID, AsaasSimObject.kind == "webhook")
    row = session.scalars(statement.with_for_update() if lock else statement).first()
    if row is None:
        # Before anyone registers one, the simulator sends to the site anyway (ASAAS_SIM_WEBHOOK_URL).
        return None, {"id": WEBHOOK_ID, "enabled": True, "interrupted": False, "_failures": 0, "_implicit": True}
    return row, json.loads(row.body)


def webhooks(session: Session) -> list[dict[str, Any]]:
    row, body = _webhook(session)
    return [] if row is None or body.get("_implicit") else [public(body)]


def save_webhook(session: Session, data: dict[str, Any], webhook_id: str | None = None) -> dict[str, Any]:
    """POST /webhooks (one per simulated account) or PUT /webhooks/{id}."""
    row, body = _webhook(session, lock=True)
    if webhook_id is not None and (row is None or webhook_id != WEBHOOK_ID):
        raise SimError(404, "not_found", f"webhook {webhook_id} not found")
    token = data.get("authToken")
    if token is not None and not 32 <= len(str(token)) <= 255:
        raise SimError(400, "invalid_authToken", "O authToken deve ter entre 32 e 255 caracteres.")
    if data.get("sendType") not in (None, "SEQUENTIALLY", "NON_SEQUENTIALLY"):
        raise SimError(400, "invalid_sendType", "sendType inválido.")
    body.pop("_implicit", None)
    for field in ("name", "url", "email", "enabled", "interrupted", "apiVersion", "sendType", "events"):
        if field in data:
            body[field] = data[field]
    if token is not None:
        body["_authToken"] = str(token)  # never shown back, as Asaas does
    if data.get("interrupted") is False:
        body["_failures"] = 0
    body["authToken"] = None
    body.setdefault("hasPenalty", False)
    return public(_save(session, "webhook", body, row))


def webhook_state(session: Session) -> dict[str, Any]:
    return _webhook(session)[1]


def delivery_result(session: Session, delivered: bool) -> bool:
    """Count a delivery attempt; returns whether the queue is (now) interrupted."""
    row, body = _webhook(session, lock=True)
    body["_failures"] = 0 if delivered else int(body.get("_failures") or 0) + 1
    if body["_failures"] >= PAUSE_AFTER_FAILURES:
        body["interrupted"] = True
    if row is not None or not delivered:
        _save(session, "webhook", body, row)
    return bool(body.get("interrupted"))

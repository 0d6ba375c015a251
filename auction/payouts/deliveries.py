"""TRANSFER_* webhook deliveries: stored in webhook_deliveries like payment deliveries, then applied idempotently.

Stored first in its own transaction (a second copy of an event id only counts an attempt), then
processed from what was stored: the withdrawal is locked and its payout hold moved to the level the
transfer's status means (payouts/events.py), so duplicates and any order of events converge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database
from ..errors import NotFound
from ..models import WebhookDelivery
from ..uow import UnitOfWork
from .events import status_of
from .messages import alert_admins
from .withdrawals import apply_status, lock_for_transfer

PREFIX = "TRANSFER_"
PROCESSED = {"applied", "recorded", "unmatched"}


@dataclass(frozen=True)
class TransferDelivery:
    event_id: str
    event: str
    transfer: dict[str, Any]
    raw_body: str


def parse(raw: bytes) -> TransferDelivery:
    """A TRANSFER_* delivery from its body, or ValueError saying what is wrong."""
    try:
        text = raw.decode("utf-8")
        body = json.loads(text)
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("body is not JSON") from exc
    if not isinstance(body, dict):
        raise ValueError("body is not a JSON object")
    event, transfer, event_id = body.get("event"), body.get("transfer"), body.get("id")
    if not isinstance(event, str) or not event.startswith(PREFIX):
        raise ValueError("missing TRANSFER_ event")
    if not isinstance(transfer, dict) or not isinstance(transfer.get("id"), str | int) or not str(transfer["id"]):
        raise ValueError("missing transfer.id")
    if not isinstance(event_id, str | int) or not str(event_id) or len(str(event_id)) > 191:
        raise ValueError("missing or overlong event id")
    return TransferDelivery(str(event_id), event, transfer, text)


def _insert(session: Session, delivery: TransferDelivery) -> tuple[int, bool]:
    existing = session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.event_id == delivery.event_id))
    if existing is not None:
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == existing).values(attempts=WebhookDelivery.attempts + 1)
        )
        return existing, False
    row = WebhookDelivery(
        event_id=delivery.event_id,
        event=delivery.event[:64],
        raw_body=delivery.raw_body,
        outcome="received",
        received_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row.id, True


def store(db: Database, delivery: TransferDelivery) -> tuple[int, bool]:
    return db.transaction(_insert, delivery)


def process(uow: UnitOfWork, delivery_id: int, force: bool = False) -> str:
    """Apply a stored TRANSFER_* delivery; returns its outcome (`duplicate` for one processed before)."""
    session = uow.session
    row = session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound("no such delivery")
    if row.outcome in PROCESSED and not force:
        return "duplicate"
    transfer = json.loads(row.raw_body)["transfer"]
    withdrawal = lock_for_transfer(session, transfer)
    status = status_of(row.event, transfer)
    if withdrawal is None:
        row.outcome, row.detail = "unmatched", f"unknown transfer {str(transfer.get('id'))[:200]}"
        if not force:
            # Money leaving the Asaas account through a transfer this site did not ask for is for a person to see.
            alert_admins(
                uow,
                f"Asaas reports {row.event} for transfer {str(transfer.get('id'))[:64]}, not one of our withdrawals.",
            )
    else:
        moved = apply_status(uow, withdrawal, status, transfer)
        row.outcome = "applied" if moved else "recorded"
        row.detail = f"withdrawal {withdrawal.id} transfer {withdrawal.asaas_transfer_id} {status}"[:255]
    row.processed_at = clock.now()
    return row.outcome


def process_webhook(uow: UnitOfWork, delivery_id: int, force: bool, body: dict[str, Any]) -> tuple[str, str | None]:
    """The webhook's processor for TRANSFER_* deliveries, stored and dispatched like payment deliveries
    (create_app plugs it into payments/deliveries.py); the outcome and detail it recorded on the row."""
    transfer = body.get("transfer")
    if not isinstance(transfer, dict) or not str(transfer.get("id") or ""):
        return "stored", "no transfer object"
    process(uow, delivery_id, force=force)
    row = uow.session.get(WebhookDelivery, delivery_id)  # the one `process` locked and updated: no query
    assert row is not None
    return row.outcome, row.detail


def mark_failed(session: Session, delivery_id: int, detail: str) -> None:
    row = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if row is not None:
        row.outcome, row.detail, row.processed_at = "failed", detail[:255], clock.now()

"""Reads for pages and commands: a user's payments, stored deliveries, unmatched money, payment links."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import NotFound
from ..models import Payment, PaymentLink, WebhookDelivery
from .levels import Outcome


def list_user_payments(session: Session, user_id: int, limit: int = 100) -> list[Payment]:
    """The user's top-ups and link payments, newest first (status, value, credited, refunded)."""
    return list(
        session.scalars(select(Payment).where(Payment.user_id == user_id).order_by(Payment.id.desc()).limit(limit))
    )


def list_deliveries(
    session: Session, *, outcome: str | None = None, limit: int = 100, before_id: int | None = None
) -> list[WebhookDelivery]:
    """Stored webhook deliveries, newest first; filter by outcome; page with `before_id`."""
    statement = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if outcome:
        statement = statement.where(WebhookDelivery.outcome == outcome)
    if before_id:
        statement = statement.where(WebhookDelivery.id < before_id)
    return list(session.scalars(statement))


def get_delivery(session: Session, delivery_id: int) -> dict[str, Any]:
    """One delivery with its raw body as received (the token is a header and is never stored)."""
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise NotFound("no such delivery")
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event": row.event,
        "asaas_payment_id": row.asaas_payment_id,
        "outcome": row.outcome,
        "detail": row.detail,
        "attempts": row.attempts,
        "received_at": clock.isoformat(row.received_at),
        "processed_at": clock.isoformat(row.processed_at),
        "raw_body": row.raw_body,
    }


def webhook_backlog(session: Session, *, scan: int) -> tuple[int, float | None]:
    """Deliveries not processed yet or whose processing failed (they wait for Asaas's retry or an admin's
    re-process), among the newest `scan` (a bounded read for metrics), and the seconds the oldest has waited."""
    newest = session.scalar(select(func.max(WebhookDelivery.id))) or 0
    waiting, oldest = session.execute(
        select(func.count(), func.min(WebhookDelivery.received_at)).where(
            WebhookDelivery.id > newest - scan, WebhookDelivery.outcome.in_((Outcome.RECEIVED, Outcome.FAILED))
        )
    ).one()
    return int(waiting), clock.seconds_since(oldest)


def list_unmatched(session: Session, limit: int = 100) -> dict[str, list[Any]]:
    """Money nobody could be matched to: link payments without a user, and deliveries for unknown payments."""
    payments = list(
        session.scalars(select(Payment).where(Payment.user_id.is_(None)).order_by(Payment.id.desc()).limit(limit))
    )
    deliveries = list_deliveries(session, outcome=Outcome.UNMATCHED, limit=limit)
    return {"payments": payments, "deliveries": deliveries}


def list_payment_links(session: Session) -> list[PaymentLink]:
    """Every payment link, newest first."""
    return list(session.scalars(select(PaymentLink).order_by(PaymentLink.id.desc())))


def delivery_id_for_event(session: Session, event_id: str) -> int:
    """The stored delivery of an Asaas event id (`flask payments replay`), or NotFound."""
    row_id = session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id))
    if row_id is None:
        raise NotFound(f"no delivery with event id {event_id}")
    return row_id


def failed_delivery_count(session: Session) -> int:
    """Stored deliveries whose processing failed (they wait for a redelivery or an admin's reprocess)."""
    return session.scalar(select(func.count(WebhookDelivery.id)).where(WebhookDelivery.outcome == Outcome.FAILED)) or 0

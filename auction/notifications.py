"""Notifications: stored for the notifications page and pushed live over the socket."""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import clock
from .models import Notification
from .uow import UnitOfWork

log = logging.getLogger(__name__)


def notify(
    uow: UnitOfWork,
    user_id: int,
    kind: str,
    message: str,
    *,
    auction_id: int | None = None,
    payment_id: int | None = None,
) -> Notification:
    """Store a notification and queue its live `notification` event."""
    session = uow.session
    row = Notification(
        user_id=user_id,
        kind=kind,
        message=message[:500],
        auction_id=auction_id,
        payment_id=payment_id,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    uow.outbox.to_user(user_id, "notification", as_payload(row) | {"unread": unread_count(session, user_id)})
    # The default "email" is a log line; it names the user id, never personal data.
    log.info("event=notification user_id=%s kind=%s", user_id, kind)
    return row


def as_payload(row: Notification) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "message": row.message,
        "auction_id": row.auction_id,
        "payment_id": row.payment_id,
        "read": row.read_at is not None,
        "created_at": clock.isoformat(row.created_at),
    }


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def list_for(session: Session, user_id: int, limit: int = 100) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc()).limit(limit)
        )
    )


def mark_read(session: Session, user_id: int, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (only their own: the user id is part of the filter)."""
    statement = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_ids is not None:
        statement = statement.where(Notification.id.in_(notification_ids))
    return session.execute(statement.values(read_at=clock.now())).rowcount

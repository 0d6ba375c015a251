"""Notifications: stored for the notifications page and pushed live over the socket."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from . import clock
from .models import Notification
from .uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Note:
    user_id: int
    kind: str
    message: str
    auction_id: int | None = None
    payment_id: int | None = None


def notify(
    uow: UnitOfWork,
    user_id: int,
    kind: str,
    message: str,
    *,
    auction_id: int | None = None,
    payment_id: int | None = None,
) -> int:
    """Store a notification and queue its live `notification` event; returns its id."""
    return notify_all(uow, [Note(user_id, kind, message, auction_id, payment_id)])[0]


def notify_all(uow: UnitOfWork, notes: Sequence[Note]) -> list[int]:
    """Store the notifications with one INSERT and queue their live events, each with its user's unread count
    (one query for all of them); returns their ids."""
    if not notes:
        return []
    session = uow.session
    now = clock.now()
    rows = [
        {
            "user_id": note.user_id,
            "kind": note.kind,
            "message": note.message[:500],
            "auction_id": note.auction_id,
            "payment_id": note.payment_id,
            "read_at": None,
            "created_at": now,
            # Every notification is also a candidate alert: the dispatcher decides, off the caller's path,
            # whether its kind goes out by e-mail or push (auction.alerts.dispatch).
            "alert_pending": True,
        }
        for note in notes
    ]
    ids = session.connection().execute(_INSERT, rows).scalars().all()
    unread = unread_counts(session, {note.user_id for note in notes})
    for row_id, row in zip(ids, rows, strict=True):
        payload = {
            "id": row_id,
            "kind": row["kind"],
            "message": row["message"],
            "auction_id": row["auction_id"],
            "payment_id": row["payment_id"],
            "read": False,
            "created_at": clock.isoformat(now),
            "unread": unread.get(row["user_id"], 0),
        }
        uow.outbox.to_user(row["user_id"], "notification", payload)
        # The default "email" is a log line; it names the user id, never personal data.
        log.info("event=notification user_id=%s kind=%s", row["user_id"], row["kind"])
    return list(ids)


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
    return unread_counts(session, {user_id}).get(user_id, 0)


def unread_counts(session: Session, user_ids: set[int]) -> dict[int, int]:
    """user id -> unread notifications, for users with any."""
    rows = session.connection().execute(_UNREAD, {"users": sorted(user_ids)}).all()
    return {user_id: count for user_id, count in rows}


# Built once: bids notify in their hot path (bench.bid_cpu).
_INSERT = insert(Notification.__table__).returning(Notification.__table__.c.id, sort_by_parameter_order=True)
_UNREAD = (
    select(Notification.user_id, func.count(Notification.id))
    .where(Notification.user_id.in_(bindparam("users", expanding=True)), Notification.read_at.is_(None))
    .group_by(Notification.user_id)
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

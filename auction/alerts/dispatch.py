"""From notifications to deliveries: the alert dispatcher's one round, a unit of work of the jobs process.

A notification is stored with `alert_pending` set in the transaction of the event that caused it (a bid
batch, a finish, a webhook), so an alert exists exactly when its event committed, and nothing on the
event's own path waits for this. The round reads the pending notifications, keeps those whose kind the
user wants on a channel (auction.alerts.preferences), plans one delivery per channel (throttled kinds
through auction.alerts.throttle) and clears the flag, all in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..models import AlertDelivery, Notification, Order, PushSubscription
from ..uow import UnitOfWork
from . import preferences, throttle
from .catalogue import AlertKind, Channel, alert_kind

log = logging.getLogger(__name__)
PENDING = "pending"
SENT = "sent"
DEAD = "dead"
SKIPPED = "skipped"


@dataclass(frozen=True)
class DispatchAlerts:
    # At most one throttled alert (outbid) per user, auction and channel in this window.
    window: timedelta
    limit: int = 500


def dispatch(uow: UnitOfWork, command: DispatchAlerts) -> int:
    """Plan the deliveries of the pending notifications (at most `limit`); returns how many were planned."""
    session = uow.session
    notes = list(
        session.scalars(
            select(Notification)
            .where(Notification.alert_pending.is_(True))
            .order_by(Notification.id)
            .limit(command.limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not notes:
        return 0
    wanted = [(note, kind) for note in notes if (kind := alert_kind(note.kind)) is not None]
    users = {note.user_id for note, _ in wanted}
    prefs = preferences.for_users(session, users)
    subscribed = _subscribed(session, users)
    now = clock.now()
    planned = 0
    for note, kind in wanted:
        for channel in Channel:
            if not prefs[note.user_id].on(kind, channel):
                continue
            if channel is Channel.PUSH and note.user_id not in subscribed:
                continue
            _plan(session, note, kind, channel, now, command.window)
            planned += 1
    session.execute(update(Notification).where(Notification.id.in_([n.id for n in notes])).values(alert_pending=False))
    log.info("event=alerts_dispatched notifications=%d deliveries=%d", len(notes), planned)
    return planned


def _subscribed(session: Session, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    rows = session.scalars(select(PushSubscription.user_id).where(PushSubscription.user_id.in_(sorted(user_ids))))
    return set(rows)


def _plan(
    session: Session, note: Notification, kind: AlertKind, channel: Channel, now: datetime, window: timedelta
) -> None:
    if not kind.throttled or note.auction_id is None:
        session.add(_delivery(session, note, channel, now))
        return
    same = (
        AlertDelivery.user_id == note.user_id,
        AlertDelivery.kind == note.kind,
        AlertDelivery.auction_id == note.auction_id,
        AlertDelivery.channel == channel.value,
    )
    waiting = session.scalar(select(AlertDelivery).where(*same, AlertDelivery.status == PENDING).limit(1))
    last_sent_at = session.scalar(select(func.max(AlertDelivery.sent_at)).where(*same, AlertDelivery.status == SENT))
    decision = throttle.plan(
        now, window, last_sent_at=last_sent_at, waiting_due_at=waiting.due_at if waiting is not None else None
    )
    if decision.merge and waiting is not None:
        waiting.message = note.message
        return
    session.add(_delivery(session, note, channel, decision.due_at))


def _delivery(session: Session, note: Notification, channel: Channel, due_at: datetime) -> AlertDelivery:
    return AlertDelivery(
        user_id=note.user_id,
        kind=note.kind,
        channel=channel.value,
        auction_id=note.auction_id,
        message=note.message,
        path=_path(session, note),
        status=PENDING,
        attempts=0,
        due_at=due_at,
        created_at=clock.now(),
    )


def _path(session: Session, note: Notification) -> str:
    """Where the alert leads: the order of an order's step, else the auction, else the wallet."""
    if note.kind.startswith("order_") and note.auction_id is not None:
        order_id = session.scalar(select(Order.id).where(Order.auction_id == note.auction_id))
        if order_id is not None:
            return f"/orders/{order_id}"
    if note.auction_id is not None:
        return f"/auctions/{note.auction_id}"
    return "/wallet"

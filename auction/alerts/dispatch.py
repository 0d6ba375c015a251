"""From notifications to deliveries: the alert dispatcher's one round, a unit of work of the jobs process.

A notification is stored with `alert_pending` set in the transaction of the event that caused it (a bid
batch, a finish, a webhook), so an alert exists exactly when its event committed, and nothing on the
event's own path waits for this. The round reads the pending notifications, keeps those whose kind the
user wants on a channel that can reach them (auction.alerts.preferences; e-mail only to a proven address,
push only to a subscribed browser), plans one delivery per channel (throttled kinds through
auction.alerts.throttle) and clears the flag, all in one transaction.

Its cost does not grow with the queries per notification: a round reads the users' reach, the throttle state
of every (user, kind, auction, channel) it plans and the orders its links lead to with one query each, then
inserts, updates and clears with one statement each (a bidding war of 200 outbids: about ten statements).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..models import AlertDelivery, Notification, Order, PushSubscription, User
from ..uow import UnitOfWork
from . import preferences, throttle
from .catalogue import AlertKind, Channel, alert_kind

log = logging.getLogger(__name__)
PENDING = "pending"
SENT = "sent"
DEAD = "dead"
SKIPPED = "skipped"
# (user, notification kind, auction, channel): what the throttle counts one window per.
ThrottleKey = tuple[int, str, int, str]


@dataclass(frozen=True)
class DispatchAlerts:
    # At most one throttled alert (outbid) per user, auction and channel in this window.
    window: timedelta
    # Notifications planned per round, at most: a round's transaction stays short however long the queue.
    limit: int = 500
    # False where the site has no VAPID key: no push is planned at all.
    push: bool = True


@dataclass(frozen=True)
class _Note:
    id: int
    user_id: int
    kind: str
    message: str
    auction_id: int | None


@dataclass
class _Waiting:
    """A throttled delivery still pending: a stored one (its id, and its latest text once this round changes
    it) or one this round plans (its row, to be inserted)."""

    due_at: datetime
    id: int | None = None
    message: str | None = None
    row: dict[str, Any] | None = None

    def carry(self, message: str) -> None:
        if self.row is not None:
            self.row["message"] = message
        else:
            self.message = message


def dispatch(uow: UnitOfWork, command: DispatchAlerts) -> int:
    """Plan the deliveries of the pending notifications (at most `limit`); returns how many were planned."""
    session = uow.session
    notes = [
        _Note(*row)
        for row in session.execute(
            select(
                Notification.id, Notification.user_id, Notification.kind, Notification.message, Notification.auction_id
            )
            .where(Notification.alert_pending.is_(True))
            .order_by(Notification.id)
            .limit(command.limit)
            .with_for_update(skip_locked=True)
        )
    ]
    if not notes:
        return 0
    wanted = list(_reachable(session, notes, command.push))
    now = clock.now()
    throttled = {_key(note, channel) for note, kind, channel in wanted if kind.throttled and note.auction_id}
    waiting, last_sent = _throttle_state(session, throttled, since=now - command.window)
    paths = _paths(session, [note for note, _kind, _channel in wanted])
    new: list[dict[str, Any]] = []
    for note, _kind, channel in wanted:
        key = _key(note, channel)
        if key not in throttled:
            new.append(_delivery(note, channel, paths, now))
            continue
        found = waiting.get(key)
        decision = throttle.plan(
            now, command.window, last_sent_at=last_sent.get(key), waiting_due_at=found.due_at if found else None
        )
        if decision.merge and found is not None:
            found.carry(note.message)
            continue
        new.append(_delivery(note, channel, paths, decision.due_at))
        waiting[key] = _Waiting(decision.due_at, row=new[-1])
    _store(session, new, [w for w in waiting.values() if w.id is not None and w.message is not None])
    session.execute(update(Notification).where(Notification.id.in_([n.id for n in notes])).values(alert_pending=False))
    log.info("event=alerts_dispatched notifications=%d deliveries=%d", len(notes), len(new))
    return len(new)


def _key(note: _Note, channel: Channel) -> ThrottleKey:
    return (note.user_id, note.kind, note.auction_id or 0, channel.value)


def _reachable(session: Session, notes: list[_Note], push: bool) -> Iterable[tuple[_Note, AlertKind, Channel]]:
    """Each (notification, alert kind, channel) the user wants and that can reach them: e-mail to a proven
    address, push to a subscribed browser. Nothing else is planned, so nothing else costs a throttle read."""
    alerts = [(note, kind) for note in notes if (kind := alert_kind(note.kind)) is not None]
    users = {note.user_id for note, _kind in alerts}
    if not users:
        return
    prefs = preferences.for_users(session, users)
    proven = select(User.id).where(User.id.in_(sorted(users)), User.email_verified_at.is_not(None))
    verified = set(session.scalars(proven))
    subscribed = _subscribed(session, users) if push else set()
    reach = {Channel.EMAIL: verified, Channel.PUSH: subscribed}
    for note, kind in alerts:
        for channel in Channel:
            if note.user_id in reach[channel] and prefs[note.user_id].on(kind, channel):
                yield note, kind, channel


def _subscribed(session: Session, user_ids: set[int]) -> set[int]:
    rows = session.scalars(select(PushSubscription.user_id).where(PushSubscription.user_id.in_(sorted(user_ids))))
    return set(rows)


def _throttle_state(
    session: Session, keys: set[ThrottleKey], since: datetime
) -> tuple[dict[ThrottleKey, _Waiting], dict[ThrottleKey, datetime]]:
    """For every key: the delivery waiting (pending) and when the last one was sent, two queries for all. A send
    before `since` (a window ago) throttles nothing, so older ones are not read: the history read stays one window
    long however long the site has been sending."""
    if not keys:
        return {}, {}
    same = (
        AlertDelivery.user_id.in_(sorted({k[0] for k in keys})),
        AlertDelivery.kind.in_(sorted({k[1] for k in keys})),
        AlertDelivery.auction_id.in_(sorted({k[2] for k in keys})),
        AlertDelivery.channel.in_(sorted({k[3] for k in keys})),
    )
    columns = (AlertDelivery.user_id, AlertDelivery.kind, AlertDelivery.auction_id, AlertDelivery.channel)
    waiting: dict[ThrottleKey, _Waiting] = {}
    for *key, delivery_id, due_at in session.execute(
        select(*columns, AlertDelivery.id, AlertDelivery.due_at)
        .where(*same, AlertDelivery.status == PENDING)
        .order_by(AlertDelivery.id)
    ):
        if tuple(key) in keys:
            waiting.setdefault(tuple(key), _Waiting(due_at, id=delivery_id))  # type: ignore[arg-type]
    last_sent = {
        tuple(key): sent_at
        for *key, sent_at in session.execute(
            select(*columns, func.max(AlertDelivery.sent_at))
            .where(*same, AlertDelivery.status == SENT, AlertDelivery.sent_at >= since)
            .group_by(*columns)
        )
        if tuple(key) in keys
    }
    return waiting, last_sent  # type: ignore[return-value]


def _store(session: Session, new: list[dict[str, Any]], merged: list[_Waiting]) -> None:
    """The new deliveries with one INSERT; the latest text of those already waiting with one UPDATE."""
    if new:
        session.execute(insert(AlertDelivery), new)
    if merged:
        session.execute(update(AlertDelivery), [{"id": w.id, "message": w.message} for w in merged])


def _delivery(note: _Note, channel: Channel, paths: dict[int, int], due_at: datetime) -> dict[str, Any]:
    return {
        "user_id": note.user_id,
        "kind": note.kind,
        "channel": channel.value,
        "auction_id": note.auction_id,
        "message": note.message,
        "path": _path(note, paths),
        "status": PENDING,
        "attempts": 0,
        "due_at": due_at,
        "created_at": clock.now(),
    }


def _paths(session: Session, notes: list[_Note]) -> dict[int, int]:
    """The order of each auction an order step's notification is about (auction id -> order id), one query."""
    auctions = sorted({n.auction_id for n in notes if n.kind.startswith("order_") and n.auction_id is not None})
    if not auctions:
        return {}
    return dict(session.execute(select(Order.auction_id, Order.id).where(Order.auction_id.in_(auctions))).all())


def _path(note: _Note, orders: dict[int, int]) -> str:
    """Where the alert leads: the order of an order's step, else the auction, else the wallet."""
    if note.kind.startswith("order_") and note.auction_id in orders:
        return f"/orders/{orders[note.auction_id]}"
    if note.auction_id is not None:
        return f"/auctions/{note.auction_id}"
    return "/wallet"

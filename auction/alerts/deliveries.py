"""Sending planned alerts: what is due, and what became of each attempt.

The jobs process reads the due deliveries (`due`, one read transaction), sends them outside any
transaction (a push service or mail server may be slow; nobody waits on it but this job), then records
the outcomes (`record`, one unit of work): sent, skipped with its reason, or failed and tried again after a
back-off, until ALERT_MAX_ATTEMPTS make it dead (listed for admins). An e-mail alert is handed to the mail
outbox in `record`'s transaction, which sends it with its own retries. A crash between sending a push and
recording it sends that push again: alerts are delivered at least once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from .. import clock
from ..models import AlertDelivery, Auction, AuctionStatus, Notification, PushSubscription, User
from ..uow import UnitOfWork
from . import preferences
from .dispatch import DEAD, PENDING, SENT, SKIPPED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    id: int
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        """The Push API's subscription as pywebpush takes it."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class DueAlert:
    id: int
    user_id: int
    kind: str
    channel: str
    auction_id: int | None
    message: str
    path: str
    attempts: int
    # The account's address once its owner proved it (accounts' verification link), else "": no e-mail then.
    email: str
    locale: str
    while_watching: bool
    # Why it should not go after all (the user took the lead back, the auction is over), else None.
    stale: str | None
    subscriptions: tuple[Subscription, ...] = ()


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    # sent | skipped | failed
    result: str
    note: str | None = None
    # Push subscriptions the push service answered 404/410 for: removed.
    gone: tuple[int, ...] = ()
    # An e-mail alert: queued on the mail outbox in `record`'s transaction by this function.
    mail: Callable[[UnitOfWork], None] | None = field(default=None, compare=False)


def backoff(attempts: int, base: float = 30.0, cap: float = 3600.0) -> timedelta:
    """The wait after the `attempts`-th failure: doubling from `base` seconds, at most `cap`."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def waiting(session: Session) -> tuple[int, float | None]:
    """Pending deliveries whose time has come (a throttled one waits for its window: not counted) and the
    seconds the most overdue has waited past its time (the metrics' queue depth)."""
    count, oldest = session.execute(
        select(func.count(), func.min(AlertDelivery.due_at)).where(
            AlertDelivery.status == PENDING, AlertDelivery.due_at <= clock.now()
        )
    ).one()
    return int(count), clock.seconds_since(oldest)


def work(session: Session) -> tuple[bool, bool]:
    """Whether a round has anything to do: (notifications waiting to be planned, deliveries due now). One
    statement on two indexes, so an idle round (alerts on, nobody opted in, no war going on) costs one read."""
    notes = exists().where(Notification.alert_pending.is_(True))
    due_now = exists().where(AlertDelivery.status == PENDING, AlertDelivery.due_at <= clock.now())
    planned, sendable = session.execute(select(notes, due_now)).one()
    return bool(planned), bool(sendable)


def due(session: Session, limit: int = 200) -> list[DueAlert]:
    """The pending deliveries whose time has come, oldest first, with what sending them needs."""
    rows = list(
        session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.status == PENDING, AlertDelivery.due_at <= clock.now())
            .order_by(AlertDelivery.due_at, AlertDelivery.id)
            .limit(limit)
        )
    )
    if not rows:
        return []
    users = {row.user_id for row in rows}
    accounts = {
        uid: (email if verified_at is not None else "", locale)
        for uid, email, verified_at, locale in session.execute(
            select(User.id, User.email, User.email_verified_at, User.locale).where(User.id.in_(sorted(users)))
        )
    }
    prefs = preferences.for_users(session, users)
    subscriptions: dict[int, list[Subscription]] = {}
    for sub in session.scalars(select(PushSubscription).where(PushSubscription.user_id.in_(sorted(users)))):
        subscriptions.setdefault(sub.user_id, []).append(Subscription(sub.id, sub.endpoint, sub.p256dh, sub.auth))
    auctions = _auctions(session, {row.auction_id for row in rows if row.auction_id is not None})
    return [
        DueAlert(
            id=row.id,
            user_id=row.user_id,
            kind=row.kind,
            channel=row.channel,
            auction_id=row.auction_id,
            message=row.message,
            path=row.path,
            attempts=row.attempts,
            email=accounts.get(row.user_id, ("", None))[0],
            locale=prefs[row.user_id].locale or accounts.get(row.user_id, ("", None))[1] or preferences.DEFAULT_LOCALE,
            while_watching=prefs[row.user_id].while_watching,
            stale=_stale(row, auctions.get(row.auction_id) if row.auction_id is not None else None),
            subscriptions=tuple(subscriptions.get(row.user_id, ())),
        )
        for row in rows
    ]


def _auctions(session: Session, ids: set[int]) -> dict[int, tuple[str, int | None]]:
    if not ids:
        return {}
    rows = session.execute(select(Auction.id, Auction.status, Auction.leader_id).where(Auction.id.in_(sorted(ids))))
    return {auction_id: (status, leader_id) for auction_id, status, leader_id in rows}


def _stale(row: AlertDelivery, auction: tuple[str, int | None] | None) -> str | None:
    """An outbid alert that waited out its throttle is moot once the user leads again or the auction ended."""
    if row.kind not in {"outbid", "max_reached", "ending_soon"} or auction is None:
        return None
    status, leader_id = auction
    if status != AuctionStatus.OPEN:
        return "auction_over"
    if row.kind == "outbid" and leader_id == row.user_id:
        return "leading_again"
    return None


def record(uow: UnitOfWork, outcomes: Sequence[Outcome], max_attempts: int) -> None:
    """Store what became of each attempt (one transaction for the round)."""
    session = uow.session
    now = clock.now()
    gone = sorted({sub_id for outcome in outcomes for sub_id in outcome.gone})
    if gone:
        session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        log.info("event=push_subscriptions_removed count=%d", len(gone))
    rows = {
        row.id: row
        for row in session.scalars(
            select(AlertDelivery).where(AlertDelivery.id.in_([o.delivery_id for o in outcomes])).with_for_update()
        )
    }
    for outcome in outcomes:
        row = rows.get(outcome.delivery_id)
        if row is None or row.status != PENDING:
            continue
        row.note = outcome.note[:300] if outcome.note else None
        if outcome.result == SKIPPED:
            row.status = SKIPPED
        elif outcome.result == SENT:
            if outcome.mail is not None:
                outcome.mail(uow)
            row.status, row.sent_at = SENT, now
        else:
            row.attempts += 1
            if row.attempts >= max_attempts:
                row.status = DEAD
                log.warning("event=alert_dead delivery_id=%s channel=%s note=%r", row.id, row.channel, row.note)
            else:
                row.due_at = now + backoff(row.attempts)
        log.info(
            "event=alert_delivery delivery_id=%s user_id=%s kind=%s channel=%s status=%s",
            row.id,
            row.user_id,
            row.kind,
            row.channel,
            row.status,
        )

"""Sale events (leilões): a catalogue of lots, each an auction of the same bid engine, closing one after another.

A seller creates an event for their own lots, an admin for a house sale (lots of any seller). Adding an
auction makes it lot n, closing on the staggered schedule (`staggering`), with Buy It Now off. A late bid
on a lot pushes the lots after it in the bid's own transaction (`push_later_lots`), so the scheduler,
which finishes every auction at its `ends_at`, closes them in order with no rule of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import lock_existing
from ..errors import Forbidden, Invalid
from ..models import Auction, AuctionStatus, EventRegistration, SaleEvent, User
from ..outbox import Outbox
from ..uow import UnitOfWork
from . import messages, rules, staggering
from .errors import AuctionNotOpen, NotRegistered
from .listing import DESCRIPTION_MAX, MAX_DURATION, TITLE_MAX, TITLE_MIN
from .locking import AuctionRow, lock_auction

TERMS_MAX = 20_000
INTERVAL_MAX = 86_400  # one lot a day at the slowest
SOFT_CLOSE_MAX = 3_600
PREMIUM_MAX_BPS = 5_000  # a buyer's premium above 50 % of the hammer price is a mistake, not a rule
# The lots that may still move: a lot finished or cancelled early keeps its end.
_MOVABLE = (AuctionStatus.SCHEDULED.value, AuctionStatus.OPEN.value)


@dataclass(frozen=True)
class CreateEvent:
    organizer_id: int
    title: str
    description: str
    terms: str  # the edital
    first_close_at: datetime
    lot_interval_seconds: int
    soft_close_seconds: int
    premium_bps: int = 0
    deposit_bps: int | None = None  # caução as a share of the buying power asked for; None: no deposit


def create_event(uow: UnitOfWork, cmd: CreateEvent) -> SaleEvent:
    """The event, with no lots yet; Invalid names the first field that is wrong (the form's names)."""
    _check_text(cmd.title.strip(), "title", TITLE_MIN, TITLE_MAX)
    _check_text(cmd.description, "description", 0, DESCRIPTION_MAX)
    _check_text(cmd.terms.strip(), "terms", 1, TERMS_MAX)
    now = clock.now()
    if not now < cmd.first_close_at <= now + MAX_DURATION:
        raise Invalid("first_close_at: the first lot closes in the future, within 30 days", field="first_close_at")
    _check_int(cmd.lot_interval_seconds, "lot_interval_seconds", 1, INTERVAL_MAX)
    _check_int(cmd.soft_close_seconds, "soft_close_seconds", 0, SOFT_CLOSE_MAX)
    _check_int(cmd.premium_bps, "premium_bps", 0, PREMIUM_MAX_BPS)
    if cmd.deposit_bps is not None:
        _check_int(cmd.deposit_bps, "deposit_bps", 1, 10_000)
    event = SaleEvent(
        organizer_id=cmd.organizer_id,
        title=cmd.title.strip(),
        description=cmd.description,
        terms=cmd.terms.strip(),
        terms_version=1,
        first_close_at=cmd.first_close_at,
        lot_interval_seconds=cmd.lot_interval_seconds,
        soft_close_seconds=cmd.soft_close_seconds,
        premium_bps=cmd.premium_bps,
        deposit_bps=cmd.deposit_bps,
        created_at=now,
    )
    uow.session.add(event)
    uow.session.flush()
    return event


@dataclass(frozen=True)
class UpdateTerms:
    event_id: int
    user_id: int
    terms: str


def update_terms(uow: UnitOfWork, cmd: UpdateTerms) -> int:
    """A new edital text is a new version (bidders registered under an older one accept it again); returns it."""
    event = _organized_event(uow.session, cmd.event_id, cmd.user_id)
    terms = cmd.terms.strip()
    _check_text(terms, "terms", 1, TERMS_MAX)
    if terms != event.terms:
        event.terms, event.terms_version = terms, event.terms_version + 1
    return event.terms_version


@dataclass(frozen=True)
class AddLot:
    event_id: int
    auction_id: int
    user_id: int  # who adds it: the event's organizer


def add_lot(uow: UnitOfWork, cmd: AddLot) -> int:
    """The auction becomes the event's next lot; returns its lot number.

    It must be the organizer's own (any seller's in an admin's house sale), in no event, without bids. It closes
    on the schedule, or later if the lot before it was extended past it (the gap rule of `staggering`).
    """
    session = uow.session
    event = _organized_event(session, cmd.event_id, cmd.user_id)  # the event row lock numbers lots one at a time
    auction = lock_auction(session, cmd.auction_id)
    house = session.get(User, event.organizer_id).is_admin  # type: ignore[union-attr]
    if auction.seller_id != event.organizer_id and not house:
        raise Forbidden("only the seller's own auctions can be lots of their event")
    if auction.event_id is not None:
        raise Invalid("this auction is already a lot of an event", field="auction_id")
    if auction.status not in _MOVABLE or auction.bid_count:
        raise AuctionNotOpen("only an auction without bids, not finished, can become a lot")
    last = session.execute(
        select(Auction.lot_number, Auction.ends_at, Auction.status)
        .where(Auction.event_id == event.id)
        .order_by(Auction.lot_number.desc())
        .limit(1)
    ).first()
    number = (last.lot_number if last is not None else 0) + 1
    interval = timedelta(seconds=event.lot_interval_seconds)
    ends_at = staggering.scheduled_close(event.first_close_at, interval, number)
    if last is not None and last.status in _MOVABLE:
        ends_at = max(ends_at, last.ends_at + interval)
    if ends_at <= clock.now():
        raise Invalid("this lot's closing time has passed: the event is over", field="event_id")
    auction.event_id, auction.lot_number = event.id, number
    auction.ends_at, auction.buy_now_price = ends_at, None
    if auction.status == AuctionStatus.OPEN:
        auction.version += 1
        messages.rescheduled(uow.outbox, auction)
    return number


@dataclass(frozen=True)
class Register:
    event_id: int
    user_id: int
    terms_version: int  # the version of the edital the user read and accepted


def register(uow: UnitOfWork, cmd: Register) -> int:
    """The user's habilitação: they accepted these terms. Terms changed since the page was read are refused (read
    them again); accepting the current version again renews an older registration. Returns the version."""
    event = lock_existing(uow.session, SaleEvent, SaleEvent.id == cmd.event_id, missing="no such event")
    if cmd.terms_version != event.terms_version:
        raise Invalid("the terms changed: read them again and accept the new version", field="terms_version")
    now = clock.now()
    found = uow.session.scalar(
        select(EventRegistration).where(
            EventRegistration.event_id == event.id, EventRegistration.user_id == cmd.user_id
        )
    )
    if found is None:
        uow.session.add(
            EventRegistration(
                event_id=event.id, user_id=cmd.user_id, terms_version=event.terms_version, accepted_at=now
            )
        )
    elif found.terms_version != event.terms_version:
        found.terms_version, found.accepted_at = event.terms_version, now
    return event.terms_version


def registration_of(session: Session, event: SaleEvent, user_id: int) -> int | None:
    """The terms version the user accepted for the event, or None if they never registered."""
    return session.scalar(
        select(EventRegistration.terms_version).where(
            EventRegistration.event_id == event.id, EventRegistration.user_id == user_id
        )
    )


def check_registered(session: Session, pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of these (event id, user id) pairs, the ones whose user accepted the event's current terms: one query for a
    batch of bids. Read in the bid's transaction, so terms changed before it commits refuse the bid."""
    if not pairs:
        return set()
    rows = session.execute(
        select(EventRegistration.event_id, EventRegistration.user_id)
        .join(SaleEvent, SaleEvent.id == EventRegistration.event_id)
        .where(
            EventRegistration.event_id.in_({event_id for event_id, _ in pairs}),
            EventRegistration.user_id.in_({user_id for _, user_id in pairs}),
            EventRegistration.terms_version == SaleEvent.terms_version,
        )
    )
    return {(row.event_id, row.user_id) for row in rows} & pairs


def require_registered(event_id: int | None, user_id: int, registered: set[tuple[int, int]]) -> None:
    if event_id is not None and (event_id, user_id) not in registered:
        raise NotRegistered("register for this event and accept its current terms to bid")


class LotTerms(NamedTuple):
    """What the bid path reads of a lot's event."""

    soft_close_seconds: int
    lot_interval_seconds: int
    premium_bps: int


def lot_terms_of(session: Session, auctions: Sequence[AuctionRow]) -> dict[int, LotTerms]:
    """Event id -> the LotTerms of the events these auctions are lots of (one query for a batch)."""
    event_ids = {auction.event_id for auction in auctions if auction.event_id is not None}
    if not event_ids:
        return {}
    rows = session.execute(
        select(SaleEvent.id, SaleEvent.soft_close_seconds, SaleEvent.lot_interval_seconds, SaleEvent.premium_bps).where(
            SaleEvent.id.in_(event_ids)
        )
    )
    return {row.id: LotTerms(row.soft_close_seconds, row.lot_interval_seconds, row.premium_bps) for row in rows}


def premium_bps_of(session: Session, auction: Auction) -> int:
    """The buyer's premium of the auction's event in basis points (0 for a single auction)."""
    if auction.event_id is None:
        return 0
    return session.scalar(select(SaleEvent.premium_bps).where(SaleEvent.id == auction.event_id)) or 0


def lots_a_bid_may_push(session: Session, auction_ids: set[int], now: datetime) -> set[int]:
    """The lots that bids on these auctions may push: every movable lot after a lot whose end is inside its
    event's soft-close window now. The bid path locks them together with the bid's own auctions, in one
    statement in ascending id (the one lock order of auction rows, docs/events.md "Lock order"), so the push
    later in the transaction takes no lock of its own after the wallets'.

    Read without a lock: a movable lot's end only ever moves later, so a lot outside the window here is
    outside it under the lock too, and a lot added meanwhile (`add_lot`) waits on nothing this bid holds.
    """
    rows = session.connection().execute(_IN_WINDOW, {"auctions": sorted(auction_ids)}).all()
    first: dict[int, int] = {}  # event id -> the lowest lot number inside the window
    for row in rows:
        if rules.extended_end(row.ends_at, now, row.soft_close_seconds) is not None:
            first[row.event_id] = min(first.get(row.event_id, row.lot_number), row.lot_number)
    later: set[int] = set()
    for event_id, number in first.items():
        later.update(session.connection().execute(_LATER_IDS, {"event": event_id, "number": number}).scalars())
    return later


def push_later_lots(
    session: Session, outbox: Outbox, extended: Sequence[AuctionRow], intervals: dict[int, int]
) -> None:
    """After late bids moved these lots' ends (already written in this transaction), push the lots after each.

    Lots are taken in lot order, so a push by an earlier lot is seen by a later extended lot of the same batch.
    The later lots were locked with the batch's auctions (`lots_a_bid_may_push`); FOR UPDATE here takes no new
    lock then, and keeps the read exact should a lot have been added since. Each moved lot's room hears its new
    end.
    """
    for lot in sorted(extended, key=lambda row: (row.event_id, row.lot_number)):
        found = session.connection().execute(_LATER_LOTS, {"event": lot.event_id, "number": lot.lot_number})
        rows = [AuctionRow(**row._mapping) for row in found]
        if not rows or rows[0].id != lot.id:
            continue
        interval = timedelta(seconds=intervals[lot.event_id])
        moved = staggering.pushed(rows[0].ends_at, [(row.id, row.ends_at) for row in rows[1:]], interval)
        if not moved:
            continue
        pushed = [row for row in rows if row.id in moved]
        for row in pushed:
            row.ends_at, row.version = moved[row.id], row.version + 1
        session.connection().execute(
            _PUSH, [{"lot": row.id, "ends_at": row.ends_at, "version": row.version} for row in pushed]
        )
        for row in pushed:
            messages.rescheduled(outbox, row)


_AUCTIONS = Auction.__table__
_LATER_LOTS = (  # every column: a pushed lot's `lot` message is its whole public state
    select(*_AUCTIONS.columns)
    .where(
        _AUCTIONS.c.event_id == bindparam("event"),
        _AUCTIONS.c.lot_number >= bindparam("number"),
        _AUCTIONS.c.status.in_(_MOVABLE),
    )
    .order_by(_AUCTIONS.c.lot_number)
    .with_for_update()
)
_EVENTS = SaleEvent.__table__
_IN_WINDOW = (
    select(_AUCTIONS.c.event_id, _AUCTIONS.c.lot_number, _AUCTIONS.c.ends_at, _EVENTS.c.soft_close_seconds)
    .join(_EVENTS, _EVENTS.c.id == _AUCTIONS.c.event_id)
    .where(_AUCTIONS.c.id.in_(bindparam("auctions", expanding=True)), _AUCTIONS.c.status.in_(_MOVABLE))
)
_LATER_IDS = select(_AUCTIONS.c.id).where(
    _AUCTIONS.c.event_id == bindparam("event"),
    _AUCTIONS.c.lot_number > bindparam("number"),
    _AUCTIONS.c.status.in_(_MOVABLE),
)
_PUSH = (
    update(_AUCTIONS)
    .where(_AUCTIONS.c.id == bindparam("lot"))
    .values(ends_at=bindparam("ends_at"), version=bindparam("version"))
)


def _organized_event(session: Session, event_id: int, user_id: int) -> SaleEvent:
    event = lock_existing(session, SaleEvent, SaleEvent.id == event_id, missing="no such event")
    if event.organizer_id != user_id:
        raise Forbidden("only the event's organizer can change it")
    return event


def _check_text(value: str, field: str, least: int, most: int) -> None:
    if not isinstance(value, str) or not least <= len(value) <= most:
        raise Invalid(f"{field}: between {least} and {most} characters", field=field)


def _check_int(value: Any, field: str, least: int, most: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise Invalid(f"{field}: a whole number from {least} to {most}", field=field)

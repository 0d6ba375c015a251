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
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, or_, select, tuple_, update
from sqlalchemy.orm import Session

from .. import clock, wallet
from ..db import lock_existing
from ..errors import Forbidden, Invalid, NotFound
from ..models import Auction, AuctionStatus, EventRegistration, SaleEvent, User
from ..money import Cents
from ..notifications import notify
from ..outbox import Outbox
from ..uow import UnitOfWork
from . import event_deposits, messages, rules, staggering
from .buying_power import Commitments, deposit_for
from .errors import AuctionNotOpen, NotRegistered, RegistrationPending, RegistrationRejected
from .listing import DESCRIPTION_MAX, MAX_DURATION, TITLE_MAX, TITLE_MIN
from .locking import AuctionRow, lock_auction

TERMS_MAX = 20_000
INTERVAL_MAX = 86_400  # one lot a day at the slowest
SOFT_CLOSE_MAX = 3_600
PREMIUM_MAX_BPS = 5_000  # a buyer's premium above 50 % of the hammer price is a mistake, not a rule
DEPOSIT_MAX = 100_000_000  # R$ 1,000,000: a fixed deposit above it is a typo
BUYING_POWER_MAX = 10_000_000_000  # R$ 100 million
# The lots that may still move: a lot finished or cancelled early keeps its end.
_MOVABLE = event_deposits.MOVABLE


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
    deposit_minimum: Cents | None = None  # the least caução (a fixed one when deposit_bps is None); None: none
    requires_approval: bool = False  # an admin approves each registration (verified e-mail and CPF)


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
    if cmd.deposit_minimum is not None:
        _check_int(cmd.deposit_minimum, "deposit_minimum", 1, DEPOSIT_MAX)
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
        deposit_minimum=cmd.deposit_minimum,
        requires_approval=cmd.requires_approval,
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
    on the schedule, or later if the lot before it was extended past it (the gap rule of `staggering`). An event
    whose lots have all ended takes no more: its deposits went back when the last one ended.
    """
    session = uow.session
    event = _organized_event(session, cmd.event_id, cmd.user_id)  # the event row lock numbers lots one at a time
    if event_deposits.is_over(session, event.id):
        raise Invalid("this lot's closing time has passed: the event is over", field="event_id")
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


class RegistrationStatus(StrEnum):
    """event_registrations.status"""

    APPROVED = "approved"
    PENDING = "pending"  # the event requires approval: an admin decides
    REJECTED = "rejected"


@dataclass(frozen=True)
class Register:
    event_id: int
    user_id: int
    terms_version: int  # the version of the edital the user read and accepted
    buying_power: Cents | None = None  # asked for when the event takes a deposit


def asks_deposit(event: SaleEvent) -> bool:
    return event.deposit_bps is not None or event.deposit_minimum is not None


def register(uow: UnitOfWork, cmd: Register) -> int:
    """The user's habilitação: they accepted these terms. Terms changed since the page was read are refused (read
    them again); accepting the current version again renews an older registration. Returns the version.

    When the event takes a deposit, the user asks for a buying power and its deposit is held (`wallet.deposits`)
    in this transaction: not enough available balance refuses the registration and writes nothing. Asking again
    for a larger buying power holds the difference; a smaller one keeps the current. When the event requires
    approval, a new registration is pending until an admin decides.
    """
    session = uow.session
    # The event's row lock makes one registration of a user at a time, and keeps the end of the event (which
    # releases the deposits under the same lock) from passing one by.
    event = event_deposits.lock_event(session, cmd.event_id)
    if cmd.terms_version != event.terms_version:
        raise Invalid("the terms changed: read them again and accept the new version", field="terms_version")
    if event_deposits.is_over(session, event.id):
        raise AuctionNotOpen("this event is over")
    now = clock.now()
    found = registration_of(session, event, cmd.user_id)
    if found is not None and found.status == RegistrationStatus.REJECTED:
        raise RegistrationRejected("your registration for this event was rejected")
    if found is None:
        status = RegistrationStatus.PENDING if event.requires_approval else RegistrationStatus.APPROVED
        found = EventRegistration(
            event_id=event.id, user_id=cmd.user_id, terms_version=event.terms_version, accepted_at=now, status=status
        )
        session.add(found)
    elif found.terms_version != event.terms_version:
        found.terms_version, found.accepted_at = event.terms_version, now
    if asks_deposit(event):
        _hold_deposit(uow, event, found, cmd.buying_power)
    return event.terms_version


def _hold_deposit(uow: UnitOfWork, event: SaleEvent, registration: EventRegistration, asked: Any) -> None:
    if asked is None and registration.buying_power is not None:
        return  # accepting new terms again: the buying power and its deposit stay
    _check_int(asked, "buying_power", 1, BUYING_POWER_MAX)
    if registration.buying_power is not None and asked <= registration.buying_power:
        return
    held = registration.deposit or 0
    deposit = deposit_for(asked, event.deposit_bps, event.deposit_minimum)
    if deposit > held:
        key = f"event:{event.id}:user:{registration.user_id}:deposit:{deposit}"
        wallet.hold_deposit(uow.session, user_id=registration.user_id, amount=deposit - held, key=key)
        wallet.send_balance(uow, registration.user_id)  # the top bar's balance, live
    registration.buying_power, registration.deposit = asked, max(deposit, held)


def registration_of(session: Session, event: SaleEvent, user_id: int) -> EventRegistration | None:
    """The user's registration for the event, or None if they never registered."""
    return session.scalar(
        select(EventRegistration).where(EventRegistration.event_id == event.id, EventRegistration.user_id == user_id)
    )


@dataclass(frozen=True)
class Standing:
    """A registration that accepted its event's current terms, as the bid path reads it."""

    status: str
    buying_power: Cents | None


def check_registered(session: Session, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Standing]:
    """Of these (event id, user id) pairs, the ones whose user accepted the event's current terms, with their status
    and buying power: two queries for a batch of bids, in the bid's transaction, so terms changed before it commits
    refuse the bid.

    The registrations are locked (FOR UPDATE, in id order) until the bid commits: a bidder's bids in one event
    are decided one transaction at a time, so the buying power is checked against commitments (their leading
    maxima on the other lots, read after the lock, READ COMMITTED) that no other transaction is changing but
    downwards (another bidder outbidding them, which only frees buying power).
    """
    if not pairs:
        return {}
    versions = dict(
        session.execute(
            select(SaleEvent.id, SaleEvent.terms_version).where(SaleEvent.id.in_({event for event, _ in pairs}))
        ).all()
    )
    rows = session.execute(
        select(
            EventRegistration.event_id,
            EventRegistration.user_id,
            EventRegistration.terms_version,
            EventRegistration.status,
            EventRegistration.buying_power,
        )
        .where(tuple_(EventRegistration.event_id, EventRegistration.user_id).in_(sorted(pairs)))
        .order_by(EventRegistration.id)
        .with_for_update()
    )
    return {
        (row.event_id, row.user_id): Standing(row.status, row.buying_power)
        for row in rows
        if row.terms_version == versions.get(row.event_id)
    }


def require_registered(event_id: int | None, user_id: int, registered: dict[tuple[int, int], Standing]) -> None:
    if event_id is None:
        return
    standing = registered.get((event_id, user_id))
    if standing is None:
        raise NotRegistered("register for this event and accept its current terms to bid")
    if standing.status == RegistrationStatus.PENDING:
        raise RegistrationPending("your registration for this event is waiting for an admin's approval")
    if standing.status == RegistrationStatus.REJECTED:
        raise RegistrationRejected("your registration for this event was rejected")


def commitments(session: Session, registered: dict[tuple[int, int], Standing]) -> Commitments | None:
    """The commitments of the bidders of a batch who have a buying power (None: nobody has one): what they lead
    (their maximum) or won (the hammer price) in those events, read after `check_registered` locked them."""
    power = {
        pair: standing.buying_power
        for pair, standing in registered.items()
        if standing.buying_power is not None and standing.status == RegistrationStatus.APPROVED
    }
    if not power:
        return None
    events = {event for event, _ in power}
    users = {user for _, user in power}
    premiums = dict(session.execute(select(SaleEvent.id, SaleEvent.premium_bps).where(SaleEvent.id.in_(events))).all())
    found = Commitments(power, premiums)
    rows = session.execute(
        select(
            Auction.id,
            Auction.event_id,
            Auction.status,
            Auction.leader_id,
            Auction.leader_max,
            Auction.winner_id,
            Auction.final_price,
        ).where(
            Auction.event_id.in_(events),
            or_(
                and_(Auction.status == AuctionStatus.OPEN, Auction.leader_id.in_(users)),
                and_(Auction.status == AuctionStatus.FINISHED, Auction.winner_id.in_(users)),
            ),
        )
    )
    for row in rows:
        if row.status == AuctionStatus.OPEN:
            found.record(row.event_id, row.id, row.leader_id, row.leader_max)
        else:
            found.record(row.event_id, row.id, row.winner_id, row.final_price)
    return found


@dataclass(frozen=True)
class DecideRegistration:
    registration_id: int
    admin_id: int
    approve: bool  # False: reject (its deposit goes back)


def decide_registration(uow: UnitOfWork, cmd: DecideRegistration) -> EventRegistration:
    """An admin approves a pending registration (its bidder has confirmed their e-mail address and has a CPF or
    CNPJ on file) or rejects it, which gives its deposit back. A registration is decided once."""
    session = uow.session
    admin = session.get(User, cmd.admin_id)
    if admin is None or not admin.is_admin:
        raise Forbidden("only an admin may approve or reject a registration")
    event_id = session.scalar(select(EventRegistration.event_id).where(EventRegistration.id == cmd.registration_id))
    if event_id is None:
        raise NotFound("no such registration")
    event = event_deposits.lock_event(session, event_id)  # deposits change under their event's lock
    registration = session.get(EventRegistration, cmd.registration_id)
    if registration.status != RegistrationStatus.PENDING:
        raise Invalid("this registration was already decided")
    if cmd.approve:
        bidder = session.get(User, registration.user_id)
        if bidder is None or bidder.email_verified_at is None:
            raise Invalid("the bidder has not confirmed their e-mail address")
        if not bidder.cpf_cnpj:
            raise Invalid("the bidder has no CPF on file")
        registration.status = RegistrationStatus.APPROVED
        notify(
            uow, registration.user_id, "registration", f"Your registration for “{event.title}” was approved: bid away."
        )
    else:
        registration.status = RegistrationStatus.REJECTED
        if event_deposits.release(session, registration):
            wallet.send_balance(uow, registration.user_id)
        notify(
            uow,
            registration.user_id,
            "registration",
            f"Your registration for “{event.title}” was rejected; any deposit is back in your wallet.",
        )
    registration.decided_by, registration.decided_at = admin.id, clock.now()
    return registration


@dataclass(frozen=True)
class PendingRegistration:
    id: int
    event_id: int
    event_title: str
    username: str
    email_verified: bool
    has_cpf: bool
    buying_power: Cents | None
    deposit: Cents
    accepted_at: datetime


def pending_registrations(session: Session, limit: int = 200) -> list[PendingRegistration]:
    """Registrations waiting for an admin, oldest first, with what approving them needs."""
    rows = session.execute(
        select(
            EventRegistration.id,
            EventRegistration.event_id,
            SaleEvent.title,
            User.username,
            User.email_verified_at,
            User.cpf_cnpj,
            EventRegistration.buying_power,
            EventRegistration.deposit,
            EventRegistration.accepted_at,
        )
        .join(SaleEvent, SaleEvent.id == EventRegistration.event_id)
        .join(User, User.id == EventRegistration.user_id)
        .where(EventRegistration.status == RegistrationStatus.PENDING)
        .order_by(EventRegistration.id)
        .limit(limit)
    )
    return [
        PendingRegistration(
            row.id,
            row.event_id,
            row.title,
            row.username,
            row.email_verified_at is not None,
            bool(row.cpf_cnpj),
            row.buying_power,
            row.deposit,
            row.accepted_at,
        )
        for row in rows
    ]


def deposits_of(session: Session, user_id: int) -> list[tuple[int, str, Cents]]:
    """The deposits the user has held now: (event id, event title, amount), for their wallet page."""
    rows = session.execute(
        select(SaleEvent.id, SaleEvent.title, EventRegistration.deposit)
        .join(SaleEvent, SaleEvent.id == EventRegistration.event_id)
        .where(EventRegistration.user_id == user_id, EventRegistration.deposit > 0)
        .order_by(SaleEvent.id)
    )
    return [(row.id, row.title, row.deposit) for row in rows]


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
    end, and the event's room one message for the whole cascade (`messages.lots_pushed`).
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
        messages.lots_pushed(outbox, lot.event_id, pushed, intervals[lot.event_id])


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

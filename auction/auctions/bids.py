"""Placing bids: the pure decisions of `rules` (folded by `batch`), applied to the database and the wallet.

Bids are decided in batches per auction (group commit, see entrypoints/sockets/bid_queue.py): every
bid of a batch is decided in arrival order under ONE row lock on the auction and written in ONE
transaction, so one commit (one fsync) serves them all. Per bid: validate the input, check the
auction is open and not the bidder's own, decide with `rules.decide`, check the bidder can pay
what the decision needs (against their wallet as the batch has left it). Per batch: insert all bid
rows at once, move each touched wallet once (holds made and released inside the batch are netted),
and queue one `new_bid` for the room, one `outbid` and notification per outbid user, one `wallet`
per touched user. `place` is a batch of one.

A leader raising their own maximum is private: it is recorded (a bid row marked `is_raise`, the
hold of the difference) and acked, but the room hears of it only if it moves the price (a reserve
reached), and public histories leave such rows out, since a maximum is never revealed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from .. import clock, wallet
from ..errors import Invalid, NotFound, ServiceError
from ..models import Auction, AuctionStatus, Bid
from ..money import Cents
from ..uow import UnitOfWork
from . import batch, messages, rules, sale_events
from .buying_power import Commitments
from .errors import AuctionNotOpen, OwnAuction
from .listing import cents_field
from .locking import AuctionRow, lock_auction_rows, state_of


@dataclass(frozen=True)
class PlaceBid:
    """A bid as the client sent it: `amount` and `max_amount` are checked here, not trusted."""

    auction_id: int
    bidder_id: int
    amount: object
    max_amount: object = None
    soft_close_seconds: int = 120


@dataclass(frozen=True)
class BidOutcome:
    """What the bidder's ack says."""

    auction_id: int
    bid_id: int
    price: Cents
    leading: bool
    max_amount: Cents
    next_min: Cents
    bid_count: int
    ends_at: datetime
    extended: bool
    raised: bool = False  # the leader raised their own maximum (private: the room heard nothing)

    def as_ack(self) -> dict[str, Any]:
        return {
            "ok": True,
            "auction_id": self.auction_id,
            "bid_id": self.bid_id,
            "amount": self.price,
            "leading": self.leading,
            "max_amount": self.max_amount,
            "next_min": self.next_min,
            "bid_count": self.bid_count,
            "ends_at": clock.isoformat(self.ends_at),
            "extended": self.extended,
            "raised": self.raised,
            "server_time": clock.isoformat(clock.now()),
        }


def amounts(amount: object, max_amount: object) -> tuple[Cents, Cents]:
    """The bid and its proxy maximum as cents; a plain bid is its own maximum."""
    amount = cents_field("amount", amount)
    if max_amount is None:
        return amount, amount
    max_amount = cents_field("max_amount", max_amount)
    if max_amount < amount:
        raise Invalid("max_amount: must not be below amount", field="max_amount")
    return amount, max_amount


def place(uow: UnitOfWork, cmd: PlaceBid) -> BidOutcome:
    """Place one bid: a batch of one. Raises what refused it (TooLow, AuctionNotOpen, InsufficientFunds, ...)."""
    [outcome] = place_batch(uow, [cmd])
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


def place_batch(uow: UnitOfWork, commands: Sequence[PlaceBid]) -> list[BidOutcome | ServiceError]:
    """Decide bids on any number of auctions in this transaction; each gets its outcome or its refusal.

    Each auction's bids are decided in arrival order. A refusal of one bid (its amount, its funds, an
    auction that does not exist) refuses only that bid.
    """
    if not commands:
        return []
    session = uow.session
    # The batch's moment is taken before its locks: the lots a bid may push are chosen with the same `now` that
    # then decides the extension, so no lot enters the soft-close window between the two.
    now = clock.now()
    wanted = {cmd.auction_id for cmd in commands}
    # A late bid on a lot pushes the lots after it: they are locked now, with the batch's own auctions, in
    # ascending id, not after the wallets in lot order (an inversion that deadlocked; docs/events.md).
    auctions = lock_auction_rows(session, wanted | sale_events.lots_a_bid_may_push(session, wanted, now))
    results: list[BidOutcome | ServiceError | None] = [None] * len(commands)
    offers: dict[int, list[_Offered]] = {}
    lots = {
        (auction.event_id, cmd.bidder_id)
        for cmd in commands
        if (auction := auctions.get(cmd.auction_id)) is not None and auction.event_id is not None
    }
    registered = sale_events.check_registered(session, lots)
    limits = sale_events.commitments(session, registered)
    for index, cmd in enumerate(commands):
        try:
            amount, maximum = amounts(cmd.amount, cmd.max_amount)
            auction = auctions.get(cmd.auction_id)
            if auction is None:
                raise NotFound("no such auction")
            if auction.status != AuctionStatus.OPEN or now >= auction.ends_at:
                raise AuctionNotOpen("this auction is not open for bids")
            if auction.seller_id == cmd.bidder_id:
                raise OwnAuction("you cannot bid on your own auction")
            sale_events.require_registered(auction.event_id, cmd.bidder_id, registered)
        except ServiceError as refusal:
            # A refusal is kept as a value, without the traceback of its raise: that traceback holds this
            # frame, which holds `results`, which holds the refusal, a reference cycle only the garbage
            # collector frees. On a hot auction most bids are refused, and those cycles (with every frame
            # and request they reach) were most of what the collector had to walk, stalling the hub.
            results[index] = refusal.with_traceback(None)
            continue
        offers.setdefault(cmd.auction_id, []).append(_Offered(index, cmd, batch.Offer(cmd.bidder_id, amount, maximum)))
    if offers:
        work = [(auctions[auction_id], offers[auction_id]) for auction_id in sorted(offers)]
        _decide_and_write(uow, work, results, now, limits)
    return [result for result in results if result is not None]


@dataclass(frozen=True, slots=True)
class _Offered:
    index: int  # the command's place in the batch
    command: PlaceBid
    offer: batch.Offer


@dataclass
class _Decided:
    auction: AuctionRow
    offers: list[_Offered]
    before: rules.AuctionState
    held: dict[int, Cents]  # the hold on this auction before the batch: its leader's maximum (plus premium)
    decided: batch.BatchResult
    ids: list[int] = field(default_factory=list)  # bid row ids, in `decided.rows` order
    public: bool = False  # the room hears of the batch (its version moved)
    extended: bool = False  # some bid of the batch extended the auction (soft close)
    soft_close: int | None = None  # a sale event's lot: the event's soft-close window, not the command's


def _decide_and_write(
    uow: UnitOfWork,
    work: list[tuple[AuctionRow, list[_Offered]]],
    results: list[BidOutcome | ServiceError | None],
    now: datetime,
    limits: Commitments | None = None,
) -> None:
    """Decide every auction's offers (ascending auction id) against the wallets (and, in sale events, the
    bidders' buying power) as the auctions before it left them, then write them all with one statement per
    table."""
    session = uow.session
    users: set[int] = set()
    for auction, offered in work:
        users.update(item.offer.bidder_id for item in offered)
        if auction.leader_id is not None:
            users.add(auction.leader_id)
    locked = wallet.lock_balances(session, users)
    cash = {user_id: row.available for user_id, row in locked.items()}
    events = sale_events.lot_terms_of(session, [auction for auction, _ in work])
    plans: list[_Decided] = []
    for auction, offered in work:
        event = events.get(auction.event_id) if auction.event_id is not None else None
        before = state_of(auction, event.premium_bps if event else 0)
        held = {before.leader_id: before.leader_hold} if before.leader_id is not None else {}
        check_lead = None
        if limits is not None and auction.event_id is not None:
            check_lead = partial(limits.check, auction.event_id, auction.id)
        decided = batch.decide_batch(
            before, [item.offer for item in offered], cash, held, wallet.check_funds, check_lead
        )
        if check_lead is not None:
            limits.record(auction.event_id, auction.id, decided.state.leader_id, decided.state.leader_max)
        for user_id, final in decided.holds.items():
            cash[user_id] = cash.get(user_id, 0) - (final - held.get(user_id, 0))
        plans.append(
            _Decided(auction, offered, before, held, decided, soft_close=event.soft_close_seconds if event else None)
        )

    _insert_rows(session, plans, now)
    changed: list[dict[str, Any]] = []
    for plan in plans:
        values = _outcomes(plan, results, now)
        if values is not None:
            changed.append(values)
    if not changed:
        return
    session.connection().execute(_UPDATE_AUCTION, changed)
    touched = _move_holds(session, plans, locked)
    live = [plan for plan in plans if plan.decided.accepted]
    reached = [(plan.auction, user) for plan in live if (user := batch.max_reached(plan.before, plan.decided.state))]
    messages.outbid_all(uow, [(plan.auction, sorted(plan.decided.outbid)) for plan in live], now, reached)
    for plan in live:
        if plan.public:
            rows = plan.decided.rows
            added = [
                _row_view(plan.auction.id, rows[i], plan.ids[i], now)
                for i in range(len(rows))
                if i not in plan.decided.raise_rows
            ]
            messages.new_bid(uow.outbox, plan.auction, extended=plan.extended, added=added)
    # After the lots' own messages: a pushed lot's message carries a newer version than its new_bid.
    lots = [plan.auction for plan in live if plan.extended and plan.auction.event_id is not None]
    if lots:
        sale_events.push_later_lots(
            session, uow.outbox, lots, {key: value.lot_interval_seconds for key, value in events.items()}
        )
    accepted = {
        item.offer.bidder_id
        for plan in live
        for item, outcome in zip(plan.offers, plan.decided.outcomes, strict=True)
        if not isinstance(outcome, ServiceError)
    }
    # Balances from the rows locked above and the holds just moved: no query per user.
    for user_id in sorted(touched.keys() | accepted):
        row = locked.get(user_id)
        change = touched.get(user_id, 0)
        start = (row.available, row.held, row.frozen) if row is not None else (0, 0, 0)
        balance = wallet.Balance(start[0] - change, start[1] + change, start[2])
        uow.outbox.to_user(user_id, "wallet", balance.as_dict())


def _outcomes(plan: _Decided, results: list[BidOutcome | ServiceError | None], now: datetime) -> dict[str, Any] | None:
    """Each offer's ack or refusal into `results`; the auction's new values (applied to the transient
    row the messages read), or None when the batch accepted nothing."""
    auction, decided, before = plan.auction, plan.decided, plan.before
    bids_before = auction.bid_count
    ends_at, extended = auction.ends_at, False
    counted = 0
    price = before.current_price
    for item, outcome in zip(plan.offers, decided.outcomes, strict=True):
        if isinstance(outcome, ServiceError):
            results[item.index] = outcome
            continue
        decision = outcome.decision
        if not decision.raised_own_max:
            counted += len(decision.bids)
        # A private raise that leaves the price alone gives rivals nothing to answer: no extension.
        new_end = None
        if not decision.raised_own_max or decision.state.current_price != price:
            window = plan.soft_close if plan.soft_close is not None else item.command.soft_close_seconds
            new_end = rules.extended_end(ends_at, now, window)
        price = decision.state.current_price
        if new_end is not None:
            ends_at, extended = new_end, True
        results[item.index] = BidOutcome(
            auction_id=auction.id,
            bid_id=plan.ids[outcome.row_index],
            price=decision.state.current_price or 0,
            leading=decision.leading,
            max_amount=item.offer.maximum,
            next_min=decision.state.next_minimum,
            bid_count=bids_before + counted,
            ends_at=ends_at,
            extended=new_end is not None,
            raised=decision.raised_own_max,
        )
    plan.extended = extended
    if decided.accepted == 0:
        return None
    price_moved = decided.state.current_price != before.current_price or decided.state.leader_id != before.leader_id
    public = plan.public = price_moved or extended or len(decided.raise_rows) < len(decided.rows)
    values = {
        "bid_count": bids_before + counted,
        "current_price": decided.state.current_price,
        "leader_id": decided.state.leader_id,
        "leader_max": decided.state.leader_max,
        "ends_at": ends_at,
        "version": auction.version + 1 if public else auction.version,
    }
    for name, value in values.items():
        setattr(auction, name, value)
    return {"auction": auction.id, **values}


# Built once: constructing a statement and its cache key costs more CPU than running it (bench.bid_cpu).
_AUCTIONS = Auction.__table__
_DECIDED = ("bid_count", "current_price", "leader_id", "leader_max", "ends_at", "version")
_UPDATE_AUCTION = (
    update(_AUCTIONS).where(_AUCTIONS.c.id == bindparam("auction")).values({name: bindparam(name) for name in _DECIDED})
)
_INSERT_BIDS = insert(Bid.__table__).returning(Bid.__table__.c.id, sort_by_parameter_order=True)


def _insert_rows(session: Session, plans: list[_Decided], now: datetime) -> None:
    """Every auction's bid rows in one INSERT ... RETURNING; each plan gets its ids in row order."""
    values = [
        {
            "auction_id": plan.auction.id,
            "bidder_id": row.bidder_id,
            "amount": row.amount,
            "max_amount": row.max_amount,
            "is_proxy": row.is_proxy,
            "is_raise": i in plan.decided.raise_rows,
            "created_at": now,
        }
        for plan in plans
        for i, row in enumerate(plan.decided.rows)
    ]
    if not values:
        return
    ids = iter(session.connection().execute(_INSERT_BIDS, values).scalars())
    for plan in plans:
        plan.ids = [next(ids) for _ in plan.decided.rows]


def _move_holds(session: Session, plans: list[_Decided], locked: dict[int, wallet.Locked]) -> dict[int, Cents]:
    """One wallet movement per user and auction whose hold the batch changed; user id -> the total change."""
    changes: list[wallet.HoldChange] = []
    for plan in plans:
        for user_id, final in sorted(plan.decided.holds.items()):
            change = final - plan.held.get(user_id, 0)
            bid_id = plan.ids[plan.decided.hold_keys[user_id]]
            if change:
                kind = "hold" if change > 0 else "release"
                key = f"bid:{bid_id}:{kind}"
                changes.append(wallet.HoldChange(user_id, plan.auction.id, change, key=key, bid_id=bid_id))
    wallet.move_holds(session, changes, locked)
    touched: dict[int, Cents] = {}
    for item in changes:
        touched[item.user_id] = touched.get(item.user_id, 0) + item.change
    return touched


def _row_view(auction_id: int, row: rules.RecordedBid, bid_id: int, now: datetime) -> SimpleNamespace:
    """A new bid row as the message builder reads it (`public.public_bid`)."""
    return SimpleNamespace(
        id=bid_id,
        auction_id=auction_id,
        bidder_id=row.bidder_id,
        amount=row.amount,
        is_proxy=row.is_proxy,
        created_at=now,
    )

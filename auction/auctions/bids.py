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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from .. import clock, wallet
from ..errors import Invalid, ServiceError
from ..models import Auction, AuctionStatus, Bid
from ..money import Cents
from ..uow import UnitOfWork
from . import batch, messages, rules
from .errors import AuctionNotOpen, OwnAuction
from .listing import cents_field
from .locking import lock_auction_row, state_of


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
    """Decide bids on ONE auction in order, in this transaction; each gets its outcome or its refusal.

    A refusal of one bid (its amount, its funds) refuses only that bid. NotFound (no such auction) is
    raised for the whole batch.
    """
    if not commands:
        return []
    auction_id = commands[0].auction_id
    if any(cmd.auction_id != auction_id for cmd in commands):
        raise ValueError("a batch holds the bids of one auction")
    session = uow.session
    auction = lock_auction_row(session, auction_id)
    now = clock.now()
    results: list[BidOutcome | ServiceError | None] = [None] * len(commands)
    offers: list[tuple[int, PlaceBid, batch.Offer]] = []
    for index, cmd in enumerate(commands):
        try:
            amount, maximum = amounts(cmd.amount, cmd.max_amount)
            if auction.status != AuctionStatus.OPEN or now >= auction.ends_at:
                raise AuctionNotOpen("this auction is not open for bids")
            if auction.seller_id == cmd.bidder_id:
                raise OwnAuction("you cannot bid on your own auction")
        except ServiceError as refusal:
            results[index] = refusal
            continue
        offers.append((index, cmd, batch.Offer(cmd.bidder_id, amount, maximum)))
    if offers:
        _decide_and_write(uow, auction, offers, results, now)
    return [result for result in results if result is not None]


def _decide_and_write(
    uow: UnitOfWork,
    auction: Auction,
    offers: list[tuple[int, PlaceBid, batch.Offer]],
    results: list[BidOutcome | ServiceError | None],
    now: datetime,
) -> None:
    session = uow.session
    before = state_of(auction)
    bidders = {offer.bidder_id for _, _, offer in offers}
    locked = wallet.lock_balances(session, bidders | ({before.leader_id} if before.leader_id else set()))
    held = {before.leader_id: before.leader_max or 0} if before.leader_id is not None else {}
    available = {user_id: row.available for user_id, row in locked.items()}
    decided = batch.decide_batch(before, [offer for _, _, offer in offers], available, held, wallet.check_funds)

    ids = _insert_rows(session, auction.id, decided, now)
    bids_before = auction.bid_count
    public_rows = [i for i in range(len(decided.rows)) if i not in decided.raise_rows]
    ends_at, extended_by = auction.ends_at, None
    counted = 0
    price = before.current_price
    for (index, cmd, offer), outcome in zip(offers, decided.outcomes, strict=True):
        if isinstance(outcome, ServiceError):
            results[index] = outcome
            continue
        decision = outcome.decision
        if not decision.raised_own_max:
            counted += len(decision.bids)
        # A private raise that leaves the price alone gives rivals nothing to answer: no extension.
        new_end = None
        if not decision.raised_own_max or decision.state.current_price != price:
            new_end = rules.extended_end(ends_at, now, cmd.soft_close_seconds)
        price = decision.state.current_price
        if new_end is not None:
            ends_at, extended_by = new_end, index
        results[index] = BidOutcome(
            auction_id=auction.id,
            bid_id=ids[outcome.row_index],
            price=decision.state.current_price or 0,
            leading=decision.leading,
            max_amount=offer.maximum,
            next_min=decision.state.next_minimum,
            bid_count=bids_before + counted,
            ends_at=ends_at,
            extended=new_end is not None,
            raised=decision.raised_own_max,
        )
    if decided.accepted == 0:
        return
    price_moved = decided.state.current_price != before.current_price or decided.state.leader_id != before.leader_id
    public = price_moved or extended_by is not None or bool(public_rows)
    _update_auction(
        session,
        auction,
        bid_count=bids_before + counted,
        current_price=decided.state.current_price,
        leader_id=decided.state.leader_id,
        leader_max=decided.state.leader_max,
        ends_at=ends_at,
        version=auction.version + 1 if public else auction.version,
    )
    touched = _move_holds(session, auction.id, decided, held, ids, locked)
    messages.outbid_all(uow, auction, sorted(decided.outbid), auction.current_price or 0, now)
    if public:
        added = [_row_view(auction.id, decided.rows[i], ids[i], now) for i in public_rows]
        messages.new_bid(uow.outbox, auction, extended=extended_by is not None, added=added)
    accepted = {
        offer.bidder_id
        for (_, _, offer), o in zip(offers, decided.outcomes, strict=True)
        if not isinstance(o, ServiceError)
    }
    # Balances from the rows locked above and the holds just moved: no query per user.
    for user_id in sorted(touched.keys() | accepted):
        row = locked.get(user_id)
        change = touched.get(user_id, 0)
        start = (row.available, row.held, row.frozen) if row is not None else (0, 0, 0)
        balance = wallet.Balance(start[0] - change, start[1] + change, start[2])
        uow.outbox.to_user(user_id, "wallet", balance.as_dict())


# Built once: constructing a statement and its cache key costs more CPU than running it (bench.bid_cpu).
_AUCTIONS = Auction.__table__
_DECIDED = ("bid_count", "current_price", "leader_id", "leader_max", "ends_at", "version")
_UPDATE_AUCTION = (
    update(_AUCTIONS).where(_AUCTIONS.c.id == bindparam("auction")).values({name: bindparam(name) for name in _DECIDED})
)
_INSERT_BIDS = insert(Bid.__table__).returning(Bid.__table__.c.id, sort_by_parameter_order=True)


def _update_auction(session: Session, auction: Auction, **values: Any) -> None:
    """One UPDATE of the locked row, and the same values on the (transient) object the messages read."""
    session.connection().execute(_UPDATE_AUCTION, {"auction": auction.id, **values})
    for name, value in values.items():
        setattr(auction, name, value)


def _insert_rows(session: Session, auction_id: int, decided: batch.BatchResult, now: datetime) -> list[int]:
    """All the batch's bid rows in one INSERT ... RETURNING, ids in row order."""
    if not decided.rows:
        return []
    values = [
        {
            "auction_id": auction_id,
            "bidder_id": row.bidder_id,
            "amount": row.amount,
            "max_amount": row.max_amount,
            "is_proxy": row.is_proxy,
            "is_raise": i in decided.raise_rows,
            "created_at": now,
        }
        for i, row in enumerate(decided.rows)
    ]
    return list(session.connection().execute(_INSERT_BIDS, values).scalars())


def _move_holds(
    session: Session,
    auction_id: int,
    decided: batch.BatchResult,
    held: dict[int, Cents],
    ids: list[int],
    locked: dict[int, wallet.Locked],
) -> dict[int, Cents]:
    """One wallet movement per user whose hold on this auction the batch changed; user id -> the change."""
    changes: list[wallet.HoldChange] = []
    for user_id, final in sorted(decided.holds.items()):
        change = final - held.get(user_id, 0)
        bid_id = ids[decided.hold_keys[user_id]]
        if change:
            kind = "hold" if change > 0 else "release"
            changes.append(wallet.HoldChange(user_id, change, key=f"bid:{bid_id}:{kind}", bid_id=bid_id))
    wallet.move_holds(session, auction_id=auction_id, changes=changes, locked=locked)
    return {item.user_id: item.change for item in changes}


def _row_view(auction_id: int, row: rules.RecordedBid, bid_id: int, now: datetime) -> Bid:
    """A transient Bid (never added to the session) for the message builder."""
    return Bid(
        id=bid_id,
        auction_id=auction_id,
        bidder_id=row.bidder_id,
        amount=row.amount,
        is_proxy=row.is_proxy,
        created_at=now,
    )

"""Placing a bid: the pure decision of `rules`, applied to the database and the wallet.

One bid is one decision under the auction's row lock (`locking.lock_auction`):
validate the input, check the auction is open and not the bidder's own, decide with
`rules.decide`, check the bidder can pay what the decision needs, write the bid rows,
hold and release wallet money, and queue what the room, the bidder and the outbid
leader hear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from .. import clock, wallet
from ..errors import Invalid
from ..models import AuctionStatus, Bid, User
from ..money import Cents
from ..uow import UnitOfWork
from . import messages, rules
from .errors import AuctionNotOpen, OwnAuction
from .listing import cents_field
from .locking import lock_auction, state_of


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
    """Place a bid (optionally with a proxy maximum) as one decision under the auction's row lock.

    Raises TooLow, AuctionNotOpen, OwnAuction, InsufficientFunds, Invalid or NotFound.
    """
    amount, maximum = amounts(cmd.amount, cmd.max_amount)
    session = uow.session
    auction = lock_auction(session, cmd.auction_id)
    now = clock.now()
    if auction.status != AuctionStatus.OPEN or now >= auction.ends_at:
        raise AuctionNotOpen("this auction is not open for bids")
    if auction.seller_id == cmd.bidder_id:
        raise OwnAuction("you cannot bid on your own auction")
    decision = rules.decide(state_of(auction), cmd.bidder_id, amount, maximum)
    # A challenge the leader's proxy beats at once holds nothing, yet it had to be payable.
    wallet.check_funds(wallet.balance(session, cmd.bidder_id).available, decision.funds_needed)

    rows = [
        Bid(
            auction_id=auction.id,
            bidder_id=bid.bidder_id,
            amount=bid.amount,
            max_amount=bid.max_amount,
            is_proxy=bid.is_proxy,
            created_at=now,
        )
        for bid in decision.bids
    ]
    session.add_all(rows)
    session.flush()
    own = rows[decision.own_index]
    auction.bid_count += len(rows)
    auction.current_price = decision.state.current_price
    auction.leader_id = decision.state.leader_id
    auction.leader_max = decision.state.leader_max
    if decision.hold:
        wallet.hold(
            session,
            user_id=cmd.bidder_id,
            auction_id=auction.id,
            amount=decision.hold,
            key=f"bid:{own.id}:hold",
            bid_id=own.id,
        )
    if decision.released is not None:
        wallet.release(session, user_id=decision.released, auction_id=auction.id, key=f"bid:{own.id}:release")
        messages.outbid(uow, auction, decision.released, auction.current_price or 0, now)
        wallet.send_balance(uow, decision.released)

    new_end = rules.extended_end(auction.ends_at, now, cmd.soft_close_seconds)
    if new_end is not None:
        auction.ends_at = new_end
    ids = {row.bidder_id for row in rows} | {auction.leader_id}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
    messages.new_bid(uow.outbox, auction, extended=new_end is not None, added=rows, names=names)
    wallet.send_balance(uow, cmd.bidder_id)
    return BidOutcome(
        auction_id=auction.id,
        bid_id=own.id,
        price=auction.current_price or 0,
        leading=decision.leading,
        max_amount=maximum,
        next_min=decision.state.next_minimum,
        bid_count=auction.bid_count,
        ends_at=auction.ends_at,
        extended=new_end is not None,
    )

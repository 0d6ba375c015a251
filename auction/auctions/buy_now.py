"""Buy It Now: a bidder buys at the seller's fixed price at once, ending the auction as a win.

Decided under the auction's row lock (`locking.lock_auction`), like every bid, so a bid and a
purchase racing each other are serialized: whichever commits first decides what the second sees.
It is offered, as on eBay, while no bid has reached the reserve (with no reserve: while there is
no bid). The buyer becomes the leader at the Buy It Now price with that price held, then
`closing`'s settle path captures it for the seller and releases every other hold, exactly as
when an auction ends with a winner.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import clock, wallet
from ..errors import ServiceError
from ..models import AuctionStatus, Bid
from ..uow import UnitOfWork
from .closing import FinishOutcome
from .closing import _settle as settle
from .errors import AuctionNotOpen, OwnAuction
from .locking import lock_auction, state_of


class BuyNowUnavailable(ServiceError, code="buy_now_unavailable", http_status=409):
    """The auction has no Buy It Now price, or a bid has already reached the reserve."""


@dataclass(frozen=True)
class BuyNow:
    auction_id: int
    buyer_id: int
    fee_bps: int = 0


def available(auction_status: str, buy_now_price: int | None, reserve_met: bool) -> bool:
    """Whether an auction in this state still offers Buy It Now."""
    return buy_now_price is not None and auction_status == AuctionStatus.OPEN and not reserve_met


def buy(uow: UnitOfWork, cmd: BuyNow) -> FinishOutcome:
    """Buy the item at its Buy It Now price.

    Raises BuyNowUnavailable, AuctionNotOpen, OwnAuction or InsufficientFunds.
    """
    session = uow.session
    auction = lock_auction(session, cmd.auction_id)
    now = clock.now()
    if auction.status != AuctionStatus.OPEN or now >= auction.ends_at:
        raise AuctionNotOpen("this auction is not open")
    if auction.seller_id == cmd.buyer_id:
        raise OwnAuction("you cannot buy your own item")
    price = auction.buy_now_price
    if price is None:
        raise BuyNowUnavailable("this auction has no Buy It Now price")
    if state_of(auction).reserve_met:
        raise BuyNowUnavailable("Buy It Now is no longer available: a bid has reached the reserve")
    already_held = (auction.leader_max or 0) if auction.leader_id == cmd.buyer_id else 0
    wallet.check_funds(wallet.balance(session, cmd.buyer_id).available, price - already_held)
    row = Bid(
        auction_id=auction.id, bidder_id=cmd.buyer_id, amount=price, max_amount=price, is_proxy=False, created_at=now
    )
    session.add(row)
    session.flush()
    wallet.hold(
        session,
        user_id=cmd.buyer_id,
        auction_id=auction.id,
        amount=price - already_held,
        key=f"auction:{auction.id}:buy_now",
        bid_id=row.id,
    )
    auction.bid_count += 1
    auction.current_price = price
    auction.leader_id = cmd.buyer_id
    auction.leader_max = price
    auction.ends_at = now
    return settle(uow, auction, cmd.fee_bps)

"""The auction row lock every decision on one auction takes first.

Bids, finishing and cancelling lock the auction row (SELECT ... FOR UPDATE) before any
wallet row — the lock order `auction.wallet` expects — so two decisions on one auction
serialize and cannot both win. On SQLite the write lock taken at BEGIN does the same.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import Auction
from .rules import AuctionState


def lock_auction(session: Session, auction_id: int) -> Auction:
    auction = session.scalars(
        select(Auction).where(Auction.id == auction_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if auction is None:
        raise NotFound("no such auction")
    return auction


def state_of(auction: Auction) -> AuctionState:
    """The pure rules' view of an auction row."""
    return AuctionState(
        starting_price=auction.starting_price,
        min_increment=auction.min_increment,
        reserve_price=auction.reserve_price,
        current_price=auction.current_price,
        leader_id=auction.leader_id,
        leader_max=auction.leader_max,
    )

"""The auction row lock every decision on one auction takes first.

Bids, finishing and cancelling lock the auction row (SELECT ... FOR UPDATE) before any
wallet row — the lock order `auction.wallet` expects — so two decisions on one auction
serialize and cannot both win. On SQLite the write lock taken at BEGIN does the same.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..db import lock_existing
from ..models import Auction
from .rules import AuctionState


def lock_auction(session: Session, auction_id: int) -> Auction:
    return lock_existing(session, Auction, Auction.id == auction_id, missing="no such auction")


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

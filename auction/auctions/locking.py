"""The auction row lock every decision on one auction takes first.

Bids, finishing and cancelling lock the auction row (SELECT ... FOR UPDATE) before any
wallet row — the lock order `auction.wallet` expects — so two decisions on one auction
serialize and cannot both win. On SQLite the write lock taken at BEGIN does the same.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..db import lock_existing
from ..errors import NotFound
from ..models import Auction
from .rules import AuctionState


def lock_auction(session: Session, auction_id: int) -> Auction:
    return lock_existing(session, Auction, Auction.id == auction_id, missing="no such auction")


def lock_auction_row(session: Session, auction_id: int) -> Auction:
    """The same lock, read with a prepared Core statement into a transient Auction that is not in the
    session: its changes are the caller's to write (bids, whose hot path this is: bench.bid_cpu)."""
    row = session.connection().execute(_LOCK, {"auction": auction_id}).first()
    if row is None:
        raise NotFound("no such auction")
    return Auction(**row._mapping)


_LOCK = select(*Auction.__table__.columns).where(Auction.__table__.c.id == bindparam("auction")).with_for_update()


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

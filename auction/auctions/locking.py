"""The auction row lock every decision on one auction takes first.

Bids, finishing and cancelling lock the auction row (SELECT ... FOR UPDATE) before any
wallet row — the lock order `auction.wallet` expects — so two decisions on one auction
serialize and cannot both win. On SQLite the write lock taken at BEGIN does the same.
"""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..db import lock_existing
from ..models import Auction
from .rules import AuctionState


def lock_auction(session: Session, auction_id: int) -> Auction:
    return lock_existing(session, Auction, Auction.id == auction_id, missing="no such auction")


class AuctionRow(SimpleNamespace):
    """An auction row's columns as plain attributes, outside any session: what the bid path reads and
    changes, then writes back itself. Not an ORM `Auction`: building one sets every column through
    SQLAlchemy's instrumentation, about a tenth of a bid decision's CPU (bench.bid_cpu)."""


def lock_auction_rows(session: Session, auction_ids: set[int]) -> dict[int, AuctionRow]:
    """The same lock on several auctions at once, in ascending id order (one global order: no lock
    cycles between batches), read with a prepared Core statement. An id that matches no auction is
    simply absent."""
    rows = session.connection().execute(_LOCK, {"auctions": sorted(auction_ids)})
    return {row.id: AuctionRow(**row._mapping) for row in rows}


_AUCTIONS = Auction.__table__
_LOCK = (
    select(*_AUCTIONS.columns)
    .where(_AUCTIONS.c.id.in_(bindparam("auctions", expanding=True)))
    .order_by(_AUCTIONS.c.id)
    .with_for_update()
)


def state_of(auction: Auction | AuctionRow, premium_bps: int = 0) -> AuctionState:
    """The pure rules' view of an auction row (with its event's buyer's premium, for a lot that has one)."""
    return AuctionState(
        starting_price=auction.starting_price,
        min_increment=auction.min_increment,
        reserve_price=auction.reserve_price,
        current_price=auction.current_price,
        leader_id=auction.leader_id,
        leader_max=auction.leader_max,
        premium_bps=premium_bps,
    )

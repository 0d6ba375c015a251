"""The watchlist page's read: the auctions a user follows, still running ones first, ending soonest first."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from ..models import Auction, AuctionStatus, Watch


def watched_auctions(session: Session, user_id: int, limit: int = 100) -> list[Auction]:
    running = case((Auction.status.in_([AuctionStatus.OPEN, AuctionStatus.SCHEDULED]), 0), else_=1)
    return list(
        session.scalars(
            select(Auction)
            .join(Watch, Watch.auction_id == Auction.id)
            .where(Watch.user_id == user_id)
            .order_by(running, Auction.ends_at, Auction.id)
            .limit(limit)
        )
    )

"""The event page's read: one page of a sale event's lots, each with its price, end and the viewer's state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Auction, AuctionStatus, Bid, SaleEvent, User, Watch
from . import privacy

PER_PAGE = 50  # a 500-lot event is ten pages; the live room still carries every lot's changes


def event_page(session: Session, event_id: int, viewer_id: int | None, page: int) -> dict[str, Any] | None:
    """The event, its lots `page` (from 1) in lot order, and which open lot closes next; None: no such event."""
    event = session.get(SaleEvent, event_id)
    if event is None:
        return None
    total = session.scalar(select(func.count()).select_from(Auction).where(Auction.event_id == event_id)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    lots = session.scalars(
        select(Auction)
        .where(Auction.event_id == event_id)
        .order_by(Auction.lot_number)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    closing_next = session.scalar(
        select(Auction.id)
        .where(Auction.event_id == event_id, Auction.status == AuctionStatus.OPEN)
        .order_by(Auction.ends_at, Auction.lot_number)
        .limit(1)
    )
    bid_on, watched = _viewer_marks(session, viewer_id, [lot.id for lot in lots])
    return {
        "event": event,
        "organizer_alias": privacy.seller_alias(event.organizer_id),
        "lots": [_lot(lot, viewer_id, bid_on, watched) for lot in lots],
        "closing_next": closing_next,
        "page": page,
        "pages": pages,
        "total": total,
    }


def _viewer_marks(session: Session, viewer_id: int | None, lot_ids: list[int]) -> tuple[set[int], set[int]]:
    if viewer_id is None or not lot_ids:
        return set(), set()
    bid_on = set(
        session.scalars(
            select(Bid.auction_id).where(Bid.bidder_id == viewer_id, Bid.auction_id.in_(lot_ids)).distinct()
        )
    )
    watched = set(
        session.scalars(select(Watch.auction_id).where(Watch.user_id == viewer_id, Watch.auction_id.in_(lot_ids)))
    )
    return bid_on, watched


def viewer_state(leading: bool, bid_on: bool, watching: bool) -> str | None:
    """leading, outbid (bid but not leading), watching, or None: the viewer's relation to a lot."""
    if leading:
        return "leading"
    if bid_on:
        return "outbid"
    return "watching" if watching else None


def _lot(lot: Auction, viewer_id: int | None, bid_on: set[int], watched: set[int]) -> dict[str, Any]:
    leading = viewer_id is not None and lot.leader_id == viewer_id
    price = lot.final_price if lot.status == AuctionStatus.FINISHED else lot.current_price
    return {
        "id": lot.id,
        "lot_number": lot.lot_number,
        "title": lot.title,
        "price": price if price is not None else lot.starting_price,
        "bid_count": lot.bid_count,
        "ends_at": lot.ends_at,
        "status": lot.status,
        "version": lot.version,
        "leader": privacy.pseudonym(lot.id, lot.leader_id),
        # The viewer's own pseudonym on this lot: the page tells "leading" from "outbid" as `lot` messages arrive.
        "you": privacy.pseudonym(lot.id, viewer_id) if viewer_id is not None else None,
        "state": viewer_state(leading, lot.id in bid_on, lot.id in watched),
    }


def lots_to_add(session: Session, event: SaleEvent, limit: int = 200) -> list[tuple[int, str]]:
    """(id, title) of the auctions the organizer may make lots: their own (any seller's in an admin's house sale),
    in no event, without bids, not ended."""
    query = select(Auction.id, Auction.title).where(
        Auction.event_id.is_(None),
        Auction.bid_count == 0,
        Auction.status.in_((AuctionStatus.SCHEDULED, AuctionStatus.OPEN)),
    )
    organizer = session.get(User, event.organizer_id)
    if organizer is None or not organizer.is_admin:
        query = query.where(Auction.seller_id == event.organizer_id)
    return [(row.id, row.title) for row in session.execute(query.order_by(Auction.id.desc()).limit(limit))]

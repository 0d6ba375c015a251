"""The event page's read: one page of a sale event's lots (filtered), each with its public state and the viewer's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from .. import clock
from ..models import Auction, AuctionStatus, Bid, SaleEvent, User, Watch
from . import privacy, public, queries

PER_PAGE = 50  # a 500-lot event is ten pages; the live room carries every lot's changes, the page applies its own
SHOWS = ("all", "open", "closed")
MINE = ("", "leading", "outbid")
QUERY_MAX = 100


@dataclass(frozen=True)
class Filters:
    """Which lots the catalogue lists: open or closed ones, the viewer's own (leading, outbid), a title search."""

    show: str = "all"  # open: not finished yet (scheduled or open); closed: finished or cancelled
    mine: str = ""  # leading, or outbid (bid on, not leading); needs a viewer
    query: str = ""

    @classmethod
    def parse(cls, show: str | None, mine: str | None, query: str | None) -> Filters:
        """From the page's query string; anything unknown means no filter (a link from an older page still works)."""
        return cls(
            show if show in SHOWS else "all",
            mine if mine in MINE else "",
            (query or "").strip()[:QUERY_MAX],
        )

    def args(self) -> dict[str, str]:
        """The query-string arguments that keep these filters on another page of the catalogue."""
        values = {"show": self.show if self.show != "all" else "", "mine": self.mine, "q": self.query}
        return {key: value for key, value in values.items() if value}


_OPEN = (AuctionStatus.SCHEDULED, AuctionStatus.OPEN)


def _filtered(event_id: int, viewer_id: int | None, filters: Filters) -> Select[Any]:
    query = select(Auction).where(Auction.event_id == event_id)
    if filters.show == "open":
        query = query.where(Auction.status.in_(_OPEN))
    elif filters.show == "closed":
        query = query.where(Auction.status.not_in(_OPEN))
    if filters.query:
        query = query.where(queries.title_matches(filters.query))
    if filters.mine:
        if viewer_id is None:
            return query.where(false())
        if filters.mine == "leading":
            query = query.where(Auction.leader_id == viewer_id)
        else:
            bid_on = select(Bid.auction_id).where(Bid.bidder_id == viewer_id)
            query = query.where(Auction.id.in_(bid_on), Auction.leader_id.is_distinct_from(viewer_id))
    return query


def event_page(
    session: Session, event_id: int, viewer_id: int | None, page: int, filters: Filters = Filters()
) -> dict[str, Any] | None:
    """The event, the lots of `page` (from 1) that pass `filters`, in lot order, and which open lot closes next
    (of the whole event, whatever the filters); None: no such event."""
    event = session.get(SaleEvent, event_id)
    if event is None:
        return None
    query = _filtered(event_id, viewer_id, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    lots = session.scalars(query.order_by(Auction.lot_number).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    # Every open lot's end (a 500-lot event: a few kilobytes): the page finds the lot closing now among them as
    # lots close and move, wherever the filters and the page put it.
    open_lots = session.execute(
        select(Auction.id, Auction.lot_number, Auction.ends_at)
        .where(Auction.event_id == event_id, Auction.status == AuctionStatus.OPEN)
        .order_by(Auction.ends_at, Auction.lot_number)
    ).all()
    lot_count = total
    if filters != Filters():
        lot_count = session.scalar(select(func.count()).select_from(Auction).where(Auction.event_id == event_id)) or 0
    bid_on, watched = _viewer_marks(session, viewer_id, [lot.id for lot in lots])
    return {
        "event": event,
        "organizer_alias": privacy.seller_alias(event.organizer_id),
        "lots": [_lot(lot, viewer_id, bid_on, watched) for lot in lots],
        "closing_next": open_lots[0] if open_lots else None,  # (id, lot number, ends_at)
        "open_lots": [[row.id, row.lot_number, clock.isoformat(row.ends_at)] for row in open_lots],
        "page": page,
        "pages": pages,
        "total": total,  # the lots that pass the filters
        "lot_count": lot_count,  # every lot of the event
        "filters": filters,
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


def shown_state(status: str, state: str | None) -> str | None:
    """What the page says of the viewer's state: once a lot is finished, leading is won and outbid is lost
    (static/js/event.js says the same of a `lot` message)."""
    if status != AuctionStatus.FINISHED:
        return state
    return {"leading": "won", "outbid": "lost"}.get(state or "", state)


def _lot(lot: Auction, viewer_id: int | None, bid_on: set[int], watched: set[int]) -> dict[str, Any]:
    """The lot's public state (`public.lot_state`, what the event room's `lot` messages carry) and, for this
    page, its title, its end as a moment and the viewer's relation to it."""
    # A finished lot's leader is its winner, or no one when the reserve was not met (the page's script reads
    # `winner` then too).
    ahead = lot.winner_id if lot.status == AuctionStatus.FINISHED else lot.leader_id
    leading = viewer_id is not None and ahead == viewer_id
    state = viewer_state(leading, lot.id in bid_on, lot.id in watched)
    return {
        **public.lot_state(lot),
        "title": lot.title,
        "closes_at": lot.ends_at,
        # The viewer's own pseudonym on this lot: the page tells "leading" from "outbid" as `lot` messages arrive.
        "you": privacy.pseudonym(lot.id, viewer_id) if viewer_id is not None else None,
        "state": state,
        "shown_state": shown_state(str(lot.status), state),
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

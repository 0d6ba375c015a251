"""Reads for pages and the `join_auction` ack: no locks, no writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import Invalid, NotFound
from ..models import Auction, AuctionStatus, Bid, User
from . import privacy
from .public import public_state
from .watching import is_watching

LAST_BIDS = 10
# The listing filters a page may ask for, besides every AuctionStatus.
ENDING_SOON = "ending_soon"


def auction_state(
    session: Session,
    auction_id: int,
    *,
    viewer_id: int | None = None,
    watchers: int | None = None,
    last_bids: int = LAST_BIDS,
) -> dict[str, Any]:
    """The full public state of an auction: the `join_auction` ack, also usable by pages.

    `viewer_id` adds what only that user may see (their own maximum if leading, watching flag).
    """
    state = auction_states(session, [auction_id], last_bids=last_bids).get(auction_id)
    if state is None:
        raise NotFound("no such auction")
    state["watchers"] = watchers
    if viewer_id is not None:
        leader_id, leader_max, seller_id = session.execute(
            select(Auction.leader_id, Auction.leader_max, Auction.seller_id).where(Auction.id == auction_id)
        ).one()
        state["you_lead"] = leader_id == viewer_id
        state["your_max"] = leader_max if leader_id == viewer_id else None
        state["watching"] = is_watching(session, viewer_id, auction_id)
        state["is_seller"] = seller_id == viewer_id
    return state


def auction_states(session: Session, auction_ids: Iterable[int], *, last_bids: int = LAST_BIDS) -> dict[int, dict]:
    """The public state of several auctions in three statements (the join cache loads a crowd's misses at once)."""
    ids = sorted(set(auction_ids))
    auctions = list(session.scalars(select(Auction).where(Auction.id.in_(ids)))) if ids else []
    if not auctions:
        return {}
    ranked = (
        select(
            Bid.id,
            Bid.auction_id,
            Bid.bidder_id,
            Bid.amount,
            Bid.is_proxy,
            Bid.created_at,
            func.row_number().over(partition_by=Bid.auction_id, order_by=Bid.id.desc()).label("rank"),
        )
        .where(Bid.auction_id.in_(ids), Bid.is_raise.is_(False))
        .subquery()
    )
    recent: dict[int, list[Any]] = {auction.id: [] for auction in auctions}
    for row in session.execute(select(ranked).where(ranked.c.rank <= last_bids).order_by(ranked.c.id.desc())):
        recent[row.auction_id].append(row)
    now = clock.isoformat(clock.now())
    return {auction.id: public_state(auction, recent[auction.id], now) for auction in auctions}


def has_bid(session: Session, auction_id: int, user_id: int) -> bool:
    """Whether the user ever bid on the auction (a returning bidder who is not leading was outbid)."""
    return (
        session.scalar(select(Bid.id).where(Bid.auction_id == auction_id, Bid.bidder_id == user_id).limit(1))
        is not None
    )


def visible_names(session: Session, auction_id: int, viewer_id: int | None, is_admin: bool) -> dict[str, str]:
    """Pseudonym -> username of the people this viewer may know by name on this auction's page.

    Admins know everyone; after a sale the buyer and the seller know each other (they have an order to
    settle); nobody else knows anyone, not even the seller the losing bidders.
    """
    seller_id, winner_id = session.execute(
        select(Auction.seller_id, Auction.winner_id).where(Auction.id == auction_id)
    ).one()
    if is_admin:
        ids = set(session.scalars(select(Bid.bidder_id).where(Bid.auction_id == auction_id).distinct()))
    elif viewer_id is not None and winner_id is not None and viewer_id in (seller_id, winner_id):
        ids = {winner_id}
    else:
        return {}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(ids | {seller_id}))).all())
    known = {privacy.pseudonym(auction_id, user_id) or "": names[user_id] for user_id in ids}
    return {**known, privacy.seller_alias(seller_id): names[seller_id]}


def list_auctions(
    session: Session,
    *,
    status: str | None = AuctionStatus.OPEN,
    search: str | None = None,
    ending_soon_seconds: int = 600,
    limit: int = 50,
) -> list[Auction]:
    """Auctions for listing pages.

    status: an AuctionStatus, ENDING_SOON (open and ending within `ending_soon_seconds`)
    or None (all). `search` matches the title (case-insensitive substring). Open ones
    come soonest-ending first; finished ones most recent first.
    """
    query = select(Auction)
    now = clock.now()
    if status == ENDING_SOON:
        query = query.where(
            Auction.status == AuctionStatus.OPEN,
            Auction.ends_at > now,
            Auction.ends_at <= now + timedelta(seconds=ending_soon_seconds),
        )
    elif status is not None:
        if status not in set(AuctionStatus):
            raise Invalid("status: unknown filter", field="status")
        query = query.where(Auction.status == status)
    if search:
        query = query.where(title_matches(search))
    if status in {AuctionStatus.FINISHED, AuctionStatus.CANCELLED}:
        query = query.order_by(Auction.finished_at.desc(), Auction.id.desc())
    else:
        query = query.order_by(Auction.ends_at, Auction.id)
    return list(session.scalars(query.limit(limit)))


def my_bids(session: Session, user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """Auctions the user bid on, with their standing: leading, outbid, won or lost.

    Each item: auction (the Auction), state, your_highest (their highest bid amount), your_max.
    """
    rows = session.execute(
        select(Auction, func.max(Bid.amount), func.max(Bid.max_amount))
        .join(Bid, Bid.auction_id == Auction.id)
        .where(Bid.bidder_id == user_id)
        .group_by(Auction.id)
        .order_by(Auction.ends_at.desc())
        .limit(limit)
    ).all()
    items = []
    for auction, highest, top_max in rows:
        if auction.status == AuctionStatus.FINISHED:
            state = "won" if auction.winner_id == user_id else "lost"
        elif auction.status == AuctionStatus.CANCELLED:
            state = "cancelled"
        else:
            state = "leading" if auction.leader_id == user_id else "outbid"
        items.append({"auction": auction, "state": state, "your_highest": highest, "your_max": top_max})
    return items


def my_auctions(session: Session, user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The user's own auctions with their state: scheduled, selling, sold, unsold or cancelled."""
    auctions = session.scalars(
        select(Auction).where(Auction.seller_id == user_id).order_by(Auction.created_at.desc()).limit(limit)
    ).all()
    items = []
    for auction in auctions:
        if auction.status == AuctionStatus.FINISHED:
            state = "sold" if auction.winner_id else "unsold"
        elif auction.status == AuctionStatus.OPEN:
            state = "selling"
        else:
            state = auction.status
        items.append({"auction": auction, "state": state})
    return items


def title_matches(search: str) -> ColumnElement[bool]:
    """The auction's title contains `search`, case-insensitive (the search box of the list and the catalogue)."""
    pattern = "%" + search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return func.lower(Auction.title).like(pattern, escape="\\")

"""Relisting an unsold lot: one action makes a new auction of the same item (title, description, prices, facts,
photos), as a single auction or as the next lot of a later event of the seller's. The old auction stays as it
ended, as history; the new one names it (`relisted_from_id`, unique: a lot is relisted once)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import Forbidden
from ..models import Auction, AuctionPhoto, AuctionStatus, Order, SecondChanceOffer
from ..uow import UnitOfWork
from . import listing, sale_events
from .errors import NotRelistable
from .locking import lock_auction

# What an ended sale may still become: an order not cancelled or refunded, or an offer not yet answered.
_LIVE_ORDERS = ("paid", "shipped", "disputed", "completed")


@dataclass(frozen=True)
class Relist:
    auction_id: int
    user_id: int
    event_id: int | None = None  # into this later event of the seller's; None: a single auction
    # The old auction's photo files -> their copies, made by the adapter (a file belongs to one auction).
    photo_copies: Mapping[str, str] = field(default_factory=dict, hash=False)


def unsold(session: Session, auction: Auction) -> bool:
    """Finished without a sale that stands: no winner (no bid, or the reserve not met), or a sale that fell through
    (its order cancelled or refunded) — and no second-chance sale or open offer since."""
    if auction.status != AuctionStatus.FINISHED:
        return False
    live_order = session.scalar(
        select(Order.id).where(Order.auction_id == auction.id, Order.status.in_(_LIVE_ORDERS)).limit(1)
    )
    open_offer = session.scalar(
        select(SecondChanceOffer.id)
        .where(SecondChanceOffer.auction_id == auction.id, SecondChanceOffer.status == "open")
        .limit(1)
    )
    return live_order is None and open_offer is None


def relist(uow: UnitOfWork, cmd: Relist) -> int:
    """The new auction's id. Runs under the old auction's row lock, so a relist and a second-chance offer on the
    same lot never both happen."""
    session = uow.session
    old = lock_auction(session, cmd.auction_id)
    if old.seller_id != cmd.user_id:
        raise Forbidden("only its seller can relist an auction")
    if session.scalar(select(Auction.id).where(Auction.relisted_from_id == old.id)) is not None:
        raise NotRelistable("this lot was already relisted")
    if not unsold(session, old):
        raise NotRelistable("only an unsold lot can be relisted: finished without a sale and no offer open")
    now = clock.now()
    duration = min(max(old.ends_at - old.starts_at, listing.MIN_DURATION), listing.MAX_DURATION)
    new = listing.create(
        uow,
        listing.NewAuction(
            seller_id=old.seller_id,
            title=old.title,
            description=old.description,
            starting_price=old.starting_price,
            ends_at=now + duration,
            facts=listing.ItemFacts(
                condition=old.item_condition,
                delivery=old.delivery,
                city=old.city,
                uf=old.uf,
                shipping_cost=old.shipping_cost,
            ),
            min_increment=old.min_increment,
            reserve_price=old.reserve_price,
            buy_now_price=old.buy_now_price if cmd.event_id is None else None,
        ),
    )
    new.relisted_from_id = old.id
    photos = session.scalars(
        select(AuctionPhoto).where(AuctionPhoto.auction_id == old.id).order_by(AuctionPhoto.position)
    ).all()
    kept = [(photo, cmd.photo_copies[photo.filename]) for photo in photos if photo.filename in cmd.photo_copies]
    for position, (photo, filename) in enumerate(kept):
        session.add(
            AuctionPhoto(
                auction_id=new.id,
                position=position,
                filename=filename,
                content_type=photo.content_type,
                size=photo.size,
            )
        )
    session.flush()
    if cmd.event_id is not None:
        sale_events.add_lot(uow, sale_events.AddLot(cmd.event_id, new.id, cmd.user_id))
    return new.id

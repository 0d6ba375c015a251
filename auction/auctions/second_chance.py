"""Second-chance offers: after a lot ends unsold (the reserve not met, or the winner's order cancelled or refunded),
its seller may offer it to an underbidder at that bidder's highest bid (plus the event's buyer's premium), for
`OFFER_HOURS`. The bidder accepts — their available balance goes to escrow and an order opens, as a sale does —
or declines; an offer not answered in time expires (`expire_due`, the orders job).

Every step locks the auction row first (then the offer, then wallets), so an offer, its answer and a relist of
the same lot serialize: accepting twice, accepting after the expiry or without the money refuses and writes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..db import lock_existing
from ..errors import Forbidden, NotFound
from ..models import Auction, Bid, Order, SecondChanceOffer
from ..money import Cents, format_brl, premium_of
from ..notifications import notify
from ..orders import service as order_service
from ..uow import UnitOfWork
from . import privacy, relisting, sale_events
from .errors import NoSecondChance, OfferClosed
from .locking import lock_auction

OFFER_HOURS = 48


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Candidate:
    bidder_id: int
    alias: str  # the bidder's pseudonym on this auction, as the seller saw them in the history
    highest: Cents


def candidates(session: Session, auction: Auction) -> list[Candidate]:
    """The lot's underbidders who may still get an offer, highest bid first: every bidder but those who bought it
    (an order, even a cancelled one) and those offered it before."""
    bought = select(Order.buyer_id).where(Order.auction_id == auction.id)
    offered = select(SecondChanceOffer.bidder_id).where(SecondChanceOffer.auction_id == auction.id)
    rows = session.execute(
        select(Bid.bidder_id, func.max(Bid.amount).label("highest"))
        .where(Bid.auction_id == auction.id, Bid.bidder_id.not_in(bought), Bid.bidder_id.not_in(offered))
        .group_by(Bid.bidder_id)
        .order_by(func.max(Bid.amount).desc(), Bid.bidder_id)
    ).all()
    return [Candidate(row.bidder_id, privacy.pseudonym(auction.id, row.bidder_id), row.highest) for row in rows]


@dataclass(frozen=True)
class MakeOffer:
    auction_id: int
    user_id: int  # the seller
    bidder_id: int


def make_offer(uow: UnitOfWork, cmd: MakeOffer) -> SecondChanceOffer:
    session = uow.session
    auction = lock_auction(session, cmd.auction_id)
    if auction.seller_id != cmd.user_id:
        raise Forbidden("only the seller can make a second-chance offer")
    relisted = session.scalar(select(Auction.id).where(Auction.relisted_from_id == auction.id))
    if relisted is not None or not relisting.unsold(session, auction):
        raise NoSecondChance("a second-chance offer needs an unsold lot, not relisted, with no offer open")
    found = next((c for c in candidates(session, auction) if c.bidder_id == cmd.bidder_id), None)
    if found is None:
        raise NoSecondChance("this bidder cannot get a second-chance offer on this lot")
    now = clock.now()
    premium = premium_of(found.highest, sale_events.premium_bps_of(session, auction))
    offer = SecondChanceOffer(
        auction_id=auction.id,
        seller_id=auction.seller_id,
        bidder_id=found.bidder_id,
        price=found.highest,
        premium=premium,
        status=OfferStatus.OPEN,
        created_at=now,
        expires_at=now + timedelta(hours=OFFER_HOURS),
    )
    session.add(offer)
    session.flush()
    total = format_brl(found.highest + premium)
    notify(
        uow,
        found.bidder_id,
        "second_chance_offer",
        f"Second chance: the seller of “{auction.title}” offers it to you for {total}. "
        f"Accept within {OFFER_HOURS} hours on its page.",
        auction_id=auction.id,
    )
    return offer


@dataclass(frozen=True)
class AnswerOffer:
    offer_id: int
    user_id: int  # the bidder
    accept: bool
    fee_bps: int = 0


def answer(uow: UnitOfWork, cmd: AnswerOffer) -> SecondChanceOffer:
    """The bidder accepts (money to escrow, an order opens) or declines. Refusals write nothing."""
    session = uow.session
    auction_id = session.scalar(select(SecondChanceOffer.auction_id).where(SecondChanceOffer.id == cmd.offer_id))
    if auction_id is None:
        raise NotFound("no such offer")
    auction = lock_auction(session, auction_id)
    offer = lock_existing(session, SecondChanceOffer, SecondChanceOffer.id == cmd.offer_id, missing="no such offer")
    if offer.bidder_id != cmd.user_id:
        raise Forbidden("this offer is for another bidder")
    if offer.status != OfferStatus.OPEN:
        raise OfferClosed("this offer was already answered")
    now = clock.now()
    if now >= offer.expires_at:
        raise OfferClosed("this offer has expired")
    offer.decided_at = now
    if cmd.accept:
        order = order_service.open_second_chance_order(
            uow, auction, offer.bidder_id, offer.price, premium=offer.premium, fee_bps=cmd.fee_bps, offer_id=offer.id
        )
        offer.status, offer.order_id = OfferStatus.ACCEPTED, order.id
    else:
        offer.status = OfferStatus.DECLINED
        notify(
            uow,
            offer.seller_id,
            "second_chance_answered",
            f"Your second-chance offer on “{auction.title}” was declined.",
            auction_id=auction.id,
        )
    session.flush()
    return offer


def expire_due(uow: UnitOfWork, limit: int = 100) -> list[int]:
    """Open offers past their time become expired; both sides are told. Returns the offers expired."""
    session = uow.session
    due = session.scalars(
        select(SecondChanceOffer.id)
        .where(SecondChanceOffer.status == OfferStatus.OPEN, SecondChanceOffer.expires_at <= clock.now())
        .order_by(SecondChanceOffer.expires_at)
        .limit(limit)
    ).all()
    expired = []
    for offer_id in due:
        auction_id = session.scalar(select(SecondChanceOffer.auction_id).where(SecondChanceOffer.id == offer_id))
        auction = lock_auction(session, auction_id)  # type: ignore[arg-type]
        offer = lock_existing(session, SecondChanceOffer, SecondChanceOffer.id == offer_id, missing="no such offer")
        if offer.status != OfferStatus.OPEN:
            continue  # answered meanwhile
        offer.status, offer.decided_at = OfferStatus.EXPIRED, clock.now()
        for user_id in (offer.seller_id, offer.bidder_id):
            notify(
                uow,
                user_id,
                "second_chance_answered",
                f"The second-chance offer on “{auction.title}” expired unanswered.",
                auction_id=auction.id,
            )
        expired.append(offer_id)
    return expired


def offers_of(session: Session, auction_id: int) -> list[SecondChanceOffer]:
    return list(
        session.scalars(
            select(SecondChanceOffer).where(SecondChanceOffer.auction_id == auction_id).order_by(SecondChanceOffer.id)
        )
    )

"""Seller reputation: the buyer rates the seller once a completed order is done, the seller may answer once,
and every listing shows what buyers look for (Mercado Livre's thermometer): the rating, completed sales, and the
orders the seller lost in the last twelve months (cancelled for not shipping, or disputes decided for the buyer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock
from ..db import lock_existing
from ..errors import Invalid
from ..models import Order, SellerRating
from ..uow import UnitOfWork
from .rules import OrderState, OrderStatus, Role, require_role, require_status

COMMENT_MAX = 1_000
# Below this many completed sales a seller is labelled new: a rating of one or two sales says little.
NEW_SELLER_SALES = 3
PROBLEM_WINDOW = timedelta(days=365)
# Orders the seller lost: never shipped in time (the buyer cancelled), or a dispute decided for the buyer.
LOST = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


@dataclass(frozen=True)
class RateSeller:
    order_id: int
    buyer_id: int
    stars: int
    comment: str


@dataclass(frozen=True)
class ReplyToRating:
    order_id: int
    seller_id: int
    reply: str


def _text(value: str, field: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise Invalid(f"{field}: write a few words", field=field)
    if len(text) > COMMENT_MAX:
        raise Invalid(f"{field}: at most {COMMENT_MAX} characters", field=field)
    return text


def rate(uow: UnitOfWork, cmd: RateSeller) -> SellerRating:
    """The buyer of a completed order rates its seller, once (the order row lock orders two tries)."""
    session = uow.session
    order = lock_existing(session, Order, Order.id == cmd.order_id, missing="no such order")
    require_role(Role.BUYER if cmd.buyer_id == order.buyer_id else None, Role.BUYER)
    require_status(order.status, OrderStatus.COMPLETED, action="rate the seller")
    if not isinstance(cmd.stars, int) or isinstance(cmd.stars, bool) or not 1 <= cmd.stars <= 5:
        raise Invalid("stars: choose from 1 to 5 stars", field="stars")
    comment = _text(cmd.comment, "comment")
    if session.scalar(select(SellerRating.id).where(SellerRating.order_id == order.id)) is not None:
        raise OrderState("you already rated this order", status=order.status)
    rating = SellerRating(
        order_id=order.id,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        stars=cmd.stars,
        comment=comment,
        created_at=clock.now(),
    )
    session.add(rating)
    try:
        session.flush()
    except IntegrityError as exc:  # the unique order_id: a second rating raced past the check
        raise OrderState("you already rated this order", status=order.status) from exc
    return rating


def reply(uow: UnitOfWork, cmd: ReplyToRating) -> SellerRating:
    """The seller answers their rating, once."""
    session = uow.session
    rating = lock_existing(
        session, SellerRating, SellerRating.order_id == cmd.order_id, missing="this order has no rating yet"
    )
    require_role(Role.SELLER if cmd.seller_id == rating.seller_id else None, Role.SELLER)
    text = _text(cmd.reply, "reply")
    if rating.reply is not None:
        raise OrderState("you already answered this rating", status=OrderStatus.COMPLETED)
    rating.reply, rating.replied_at = text, clock.now()
    return rating


@dataclass(frozen=True)
class SellerStats:
    ratings: int
    average: float | None  # stars, None without ratings
    completed_sales: int
    lost_last_year: int  # cancellations and disputes lost in the last 12 months

    @property
    def is_new(self) -> bool:
        return self.completed_sales < NEW_SELLER_SALES


def seller_stats(session: Session, seller_ids: Iterable[int]) -> dict[int, SellerStats]:
    """Each seller's reputation, in two statements for any number of sellers (a listing page's cards)."""
    ids = sorted(set(seller_ids))
    if not ids:
        return {}
    since = clock.now() - PROBLEM_WINDOW
    orders = dict.fromkeys(ids, (0, 0))
    for seller_id, completed, lost in session.execute(
        select(
            Order.seller_id,
            func.sum(case((Order.status == OrderStatus.COMPLETED, 1), else_=0)),
            func.sum(case((Order.status.in_(LOST) & (Order.closed_at >= since), 1), else_=0)),
        )
        .where(Order.seller_id.in_(ids))
        .group_by(Order.seller_id)
    ):
        orders[seller_id] = (int(completed or 0), int(lost or 0))
    stars = {
        seller_id: (int(count), float(total) / count)
        for seller_id, count, total in session.execute(
            select(SellerRating.seller_id, func.count(), func.sum(SellerRating.stars))
            .where(SellerRating.seller_id.in_(ids))
            .group_by(SellerRating.seller_id)
        )
    }
    return {
        seller_id: SellerStats(
            ratings=stars.get(seller_id, (0, None))[0],
            average=stars.get(seller_id, (0, None))[1],
            completed_sales=orders[seller_id][0],
            lost_last_year=orders[seller_id][1],
        )
        for seller_id in ids
    }


def ratings_of(session: Session, seller_id: int, limit: int = 50) -> list[SellerRating]:
    """The seller's ratings, newest first (the profile page)."""
    return list(
        session.scalars(
            select(SellerRating)
            .where(SellerRating.seller_id == seller_id)
            .order_by(SellerRating.created_at.desc(), SellerRating.id.desc())
            .limit(limit)
        )
    )


def rating_of_order(session: Session, order_id: int) -> SellerRating | None:
    return session.scalars(select(SellerRating).where(SellerRating.order_id == order_id)).first()

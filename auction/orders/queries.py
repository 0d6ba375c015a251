"""Reads for the order pages: one order as its buyer, seller or an admin sees it, and lists."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ..errors import Forbidden, NotFound
from ..models import DeliveryAddress, Order, User
from .rules import OrderStatus


def order_for(session: Session, order_id: int, user_id: int) -> Order:
    """The order, if `user_id` is its buyer, its seller or an admin."""
    order = session.scalars(
        select(Order)
        .where(Order.id == order_id)
        .options(joinedload(Order.auction), joinedload(Order.buyer), joinedload(Order.seller))
    ).first()
    if order is None:
        raise NotFound("no such order")
    if user_id not in (order.buyer_id, order.seller_id):
        user = session.get(User, user_id)
        if user is None or not user.is_admin:
            raise Forbidden("this order is between its buyer and seller")
    return order


def order_ids_by_auction(session: Session, auction_ids: list[int], user_id: int) -> dict[int, int]:
    """auction id -> order id, for the auctions the user bought or sold (My bids, My auctions, the auction page)."""
    if not auction_ids:
        return {}
    rows = session.execute(
        select(Order.auction_id, Order.id)
        .where(Order.auction_id.in_(auction_ids), or_(Order.buyer_id == user_id, Order.seller_id == user_id))
        .order_by(Order.id)  # a second-chance sale's order after the one that fell through: the newest wins
    ).all()
    return dict(rows)


def saved_address(session: Session, user_id: int) -> DeliveryAddress | None:
    return session.scalars(select(DeliveryAddress).where(DeliveryAddress.user_id == user_id)).first()


def admin_orders(session: Session, *, disputed_only: bool = False, limit: int = 200) -> list[Order]:
    statement = select(Order).options(joinedload(Order.auction), joinedload(Order.buyer), joinedload(Order.seller))
    if disputed_only:
        statement = statement.where(Order.status == OrderStatus.DISPUTED)
    return list(session.scalars(statement.order_by(Order.id.desc()).limit(limit)).unique())

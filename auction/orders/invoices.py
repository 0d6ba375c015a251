"""Reads after a sale event: one invoice (nota de arremate) per buyer per event, and the seller's shipments,
one per buyer, with the orders of each. Orders stay one per lot; these group them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Forbidden, NotFound
from ..models import Auction, Order, SaleEvent, User
from ..money import Cents
from .rules import OrderStatus

# Orders that fell through: listed on the invoice, not counted in its totals.
VOID = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


@dataclass(frozen=True)
class InvoiceLine:
    order_id: int
    auction_id: int
    lot_number: int | None
    title: str
    seller_id: int
    price: Cents  # the hammer price
    premium: Cents
    status: str
    carrier: str | None = None
    tracking_code: str | None = None

    @property
    def total(self) -> Cents:
        return self.price + self.premium

    @property
    def counted(self) -> bool:
        return self.status not in VOID


@dataclass(frozen=True)
class Invoice:
    event_id: int
    event_title: str
    buyer_id: int
    buyer_name: str
    lines: list[InvoiceLine] = field(default_factory=list)

    @property
    def hammer(self) -> Cents:
        return sum(line.price for line in self.lines if line.counted)

    @property
    def premium(self) -> Cents:
        return sum(line.premium for line in self.lines if line.counted)

    @property
    def total(self) -> Cents:
        return self.hammer + self.premium


def _lines(session: Session, event_id: int, **where: int) -> list[tuple[Order, InvoiceLine]]:
    statement = (
        select(Order, Auction.lot_number, Auction.title)
        .join(Auction, Auction.id == Order.auction_id)
        .where(Auction.event_id == event_id)
        .order_by(Auction.lot_number, Order.id)
    )
    for name, value in where.items():
        statement = statement.where(getattr(Order, name) == value)
    return [
        (
            order,
            InvoiceLine(
                order.id,
                order.auction_id,
                lot_number,
                title,
                order.seller_id,
                order.price,
                order.premium,
                order.status,
                order.carrier,
                order.tracking_code,
            ),
        )
        for order, lot_number, title in session.execute(statement)
    ]


def invoice(session: Session, event_id: int, buyer_id: int, viewer_id: int) -> Invoice:
    """The buyer's lots in the event with hammer prices, premium and totals. The buyer, the event's organizer and
    admins see every lot; a seller sees the lots they sold to this buyer; anyone else is refused."""
    event = session.get(SaleEvent, event_id)
    buyer = session.get(User, buyer_id)
    if event is None or buyer is None:
        raise NotFound("no such invoice")
    viewer = session.get(User, viewer_id)
    everything = viewer_id in (buyer_id, event.organizer_id) or bool(viewer and viewer.is_admin)
    lines = [line for _, line in _lines(session, event_id, buyer_id=buyer_id)]
    if not everything:
        lines = [line for line in lines if line.seller_id == viewer_id]
        if not lines:
            raise Forbidden("this invoice is its buyer's")
    if not lines:
        raise NotFound("no lots bought in this event")
    return Invoice(event.id, event.title, buyer.id, buyer.username, lines)


@dataclass(frozen=True)
class Shipment:
    """What one seller sends one buyer from one event: their orders in it, shipped together."""

    buyer_id: int
    buyer_name: str
    address: Order | None  # the first order with a delivery address (its ship_* fields)
    lines: list[InvoiceLine]

    @property
    def to_ship(self) -> list[int]:
        return [line.order_id for line in self.lines if line.status == OrderStatus.PAID]


def shipments(session: Session, event_id: int, seller_id: int) -> list[Shipment]:
    """The seller's orders in the event grouped per buyer (in the order of their first lot)."""
    if session.get(SaleEvent, event_id) is None:
        raise NotFound("no such event")
    grouped: dict[int, list[tuple[Order, InvoiceLine]]] = {}
    for order, line in _lines(session, event_id, seller_id=seller_id):
        grouped.setdefault(order.buyer_id, []).append((order, line))
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(grouped))).all())
    return [
        Shipment(
            buyer_id,
            names[buyer_id],
            next((order for order, _ in rows if order.ship_line1), None),
            [line for _, line in rows],
        )
        for buyer_id, rows in grouped.items()
    ]


def roles_in_event(session: Session, event_id: int, user_id: int) -> tuple[bool, bool]:
    """(bought, sold): whether the user has an order in the event as buyer, as seller (the event page's links)."""
    rows = session.execute(
        select(Order.buyer_id, Order.seller_id)
        .join(Auction, Auction.id == Order.auction_id)
        .where(Auction.event_id == event_id, (Order.buyer_id == user_id) | (Order.seller_id == user_id))
    ).all()
    return any(row.buyer_id == user_id for row in rows), any(row.seller_id == user_id for row in rows)

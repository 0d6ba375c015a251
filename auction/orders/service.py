"""Order use cases: opened when an auction sells, then shipped, confirmed, disputed, resolved, cancelled, released.

Every step locks the order row first (then the wallets, through the ledger), checks the status
under that lock, and moves the money with a key of the order's (`order:{id}:release` or
`order:{id}:refund`): only one of the two can ever happen to an order, exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..db import lock_existing
from ..errors import Invalid
from ..models import Auction, DeliveryAddress, Notification, Order, SaleEvent, User
from ..money import Cents, format_brl
from ..notifications import notify
from ..uow import UnitOfWork
from ..wallet import escrow
from . import messages
from .rules import Address, OrderStatus, Role, may_cancel, parse_address, release_due, require_role, require_status


def open_order(
    uow: UnitOfWork, auction: Auction, buyer_id: int, price: Cents, *, premium: Cents = 0, fee_bps: int
) -> Order:
    """At the close of a sale (the caller holds the auction's lock): the winner's hold (the price and the buyer's
    premium on it) to escrow, and the order."""
    escrow.into_escrow(
        uow.session,
        user_id=buyer_id,
        auction_id=auction.id,
        amount=price + premium,
        key=f"auction:{auction.id}:capture",
    )
    return _new_order(uow, auction, buyer_id, price, premium=premium, fee_bps=fee_bps, sale_round=0)


def open_second_chance_order(
    uow: UnitOfWork, auction: Auction, buyer_id: int, price: Cents, *, premium: Cents, fee_bps: int, offer_id: int
) -> Order:
    """An accepted second-chance offer (the caller holds the auction's lock): the buyer's available balance to
    escrow (InsufficientFunds when it lacks it, and nothing is written), and the order, after any order before."""
    escrow.pay_into_escrow(
        uow.session, user_id=buyer_id, auction_id=auction.id, amount=price + premium, key=f"offer:{offer_id}:pay"
    )
    earlier = uow.session.scalar(select(func.count()).select_from(Order).where(Order.auction_id == auction.id))
    return _new_order(uow, auction, buyer_id, price, premium=premium, fee_bps=fee_bps, sale_round=earlier or 0)


def _new_order(
    uow: UnitOfWork, auction: Auction, buyer_id: int, price: Cents, *, premium: Cents, fee_bps: int, sale_round: int
) -> Order:
    """The order of a sale whose money (price and premium) is already in escrow; both sides are told."""
    session = uow.session
    now = clock.now()
    order = Order(
        auction_id=auction.id,
        sale_round=sale_round,
        buyer_id=buyer_id,
        seller_id=auction.seller_id,
        price=price,
        premium=premium,
        fee=escrow.fee_of(price, fee_bps),
        escrowed=price + premium,
        status=OrderStatus.PAID,
        created_at=now,
        updated_at=now,
    )
    saved = session.scalars(select(DeliveryAddress).where(DeliveryAddress.user_id == buyer_id)).first()
    if saved is not None:
        _put_address(
            order, Address(saved.recipient, saved.line1, saved.line2, saved.city, saved.state, saved.postal_code)
        )
    session.add(order)
    session.flush()
    text = f"Order #{order.id} for “{auction.title}”"
    messages.changed(
        uow,
        order,
        "order_opened",
        buyer=f"{text}: your {format_brl(price + premium)} is kept safe until you confirm receipt."
        + ("" if saved else " Add your delivery address so the seller can ship."),
        seller=f"{text}: ship it soon; you are paid when the buyer confirms receipt.",
    )
    return order


def premium_payee(session: Session, auction_id: int) -> int | None:
    """Who a lot's buyer's premium goes to: the event's organizer (the leiloeiro: the seller of their own event),
    or None, the platform's `fees`, for a house sale (an admin's event)."""
    organizer = session.execute(
        select(User.id, User.is_admin)
        .join(SaleEvent, SaleEvent.organizer_id == User.id)
        .join(Auction, Auction.event_id == SaleEvent.id)
        .where(Auction.id == auction_id)
    ).first()
    return None if organizer is None or organizer.is_admin else organizer.id


def _put_address(order: Order, address: Address) -> None:
    order.ship_recipient, order.ship_line1, order.ship_line2 = address.recipient, address.line1, address.line2
    order.ship_city, order.ship_state, order.ship_postal_code = address.city, address.state, address.postal_code


def _role(session: Session, order: Order, user_id: int) -> Role | None:
    if user_id == order.buyer_id:
        return Role.BUYER
    if user_id == order.seller_id:
        return Role.SELLER
    user = session.get(User, user_id)
    return Role.ADMIN if user is not None and user.is_admin else None


def _lock_order(session: Session, order_id: int) -> Order:
    return lock_existing(session, Order, Order.id == order_id, missing="no such order")


def _order_as(session: Session, order_id: int, user_id: int, role: Role) -> Order:
    """The order, locked, once `user_id` is shown to be its `role` (buyer, seller or admin)."""
    order = _lock_order(session, order_id)
    require_role(_role(session, order, user_id), role)
    return order


def _title(session: Session, order: Order) -> str:
    return session.scalar(select(Auction.title).where(Auction.id == order.auction_id)) or f"#{order.auction_id}"


def _touch(order: Order) -> None:
    order.updated_at = clock.now()


# -- the delivery address ------------------------------------------------------------------------


def save_account_address(session: Session, user_id: int, fields: dict[str, object]) -> Address:
    """The address kept on the account (new orders start with it)."""
    address = parse_address(fields)
    row = session.scalars(select(DeliveryAddress).where(DeliveryAddress.user_id == user_id)).first()
    if row is None:
        row = DeliveryAddress(user_id=user_id)
        session.add(row)
    row.recipient, row.line1, row.line2 = address.recipient, address.line1, address.line2
    row.city, row.state, row.postal_code = address.city, address.state, address.postal_code
    row.updated_at = clock.now()
    session.flush()
    return address


@dataclass(frozen=True)
class SetAddress:
    order_id: int
    user_id: int
    fields: dict[str, object] = field(hash=False)
    save_on_account: bool = True


def set_address(uow: UnitOfWork, cmd: SetAddress) -> Order:
    """The buyer gives (or edits) this order's address before it ships; optionally kept on the account too."""
    session = uow.session
    order = _order_as(session, cmd.order_id, cmd.user_id, Role.BUYER)
    require_status(order.status, OrderStatus.PAID, action="change the address")
    address = (
        save_account_address(session, cmd.user_id, cmd.fields) if cmd.save_on_account else parse_address(cmd.fields)
    )
    _put_address(order, address)
    _touch(order)
    messages.changed(uow, order, "order_address", buyer=None, seller=f"Order #{order.id}: the delivery address is set.")
    return order


# -- the life cycle --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ship:
    order_id: int
    user_id: int
    carrier: str
    tracking_code: str
    release_days: int


def ship(uow: UnitOfWork, cmd: Ship) -> Order:
    session = uow.session
    order = _order_as(session, cmd.order_id, cmd.user_id, Role.SELLER)
    require_status(order.status, OrderStatus.PAID, action="mark it shipped")
    carrier, tracking = (cmd.carrier or "").strip(), (cmd.tracking_code or "").strip()
    if not carrier or len(carrier) > 60:
        raise Invalid("name the carrier (at most 60 characters)", field="carrier")
    if not tracking or len(tracking) > 60:
        raise Invalid("give the tracking code (at most 60 characters)", field="tracking_code")
    if not order.ship_line1:
        raise Invalid("the buyer has not given a delivery address yet", field="address")
    now = clock.now()
    order.status = OrderStatus.SHIPPED
    order.carrier, order.tracking_code = carrier, tracking
    order.shipped_at = now
    order.release_at = now + timedelta(days=cmd.release_days)
    _touch(order)
    title = _title(session, order)
    messages.changed(
        uow,
        order,
        "order_shipped",
        buyer=f"“{title}” was shipped ({carrier}, {tracking}). Confirm receipt when it arrives; "
        f"otherwise the payment is released on {order.release_at:%d/%m/%Y}.",
        seller=f"Order #{order.id} marked shipped.",
    )
    return order


@dataclass(frozen=True)
class ShipAll:
    event_id: int
    buyer_id: int
    user_id: int  # the seller
    carrier: str
    tracking_code: str
    release_days: int


def ship_all(uow: UnitOfWork, cmd: ShipAll) -> list[int]:
    """One shipment per seller per buyer of an event: every order of theirs still waiting is marked shipped with
    one carrier and tracking code, all or none (one without an address refuses the lot). Returns the orders."""
    waiting = uow.session.scalars(
        select(Order.id)
        .join(Auction, Auction.id == Order.auction_id)
        .where(
            Auction.event_id == cmd.event_id,
            Order.buyer_id == cmd.buyer_id,
            Order.seller_id == cmd.user_id,
            Order.status == OrderStatus.PAID,
        )
        .order_by(Order.id)
    ).all()
    if not waiting:
        raise Invalid("nothing of this buyer's waits for shipping in this event", field="buyer_id")
    for order_id in waiting:
        ship(uow, Ship(order_id, cmd.user_id, cmd.carrier, cmd.tracking_code, cmd.release_days))
    return list(waiting)


def _release(uow: UnitOfWork, order: Order, resolution: str) -> None:
    """The escrow out: the price to the seller (minus the fee), the buyer's premium to its payee."""
    escrow.release_to_seller(
        uow.session,
        seller_id=order.seller_id,
        auction_id=order.auction_id,
        amount=order.escrowed - order.premium,
        fee=order.fee,
        key=f"order:{order.id}:release",
    )
    if order.premium:
        escrow.release_premium(
            uow.session,
            payee_id=premium_payee(uow.session, order.auction_id),
            auction_id=order.auction_id,
            amount=order.premium,
            key=f"order:{order.id}:premium",
        )
    _close(order, OrderStatus.COMPLETED, resolution)


def _refund(uow: UnitOfWork, order: Order, status: OrderStatus, resolution: str) -> None:
    escrow.refund_to_buyer(
        uow.session,
        buyer_id=order.buyer_id,
        auction_id=order.auction_id,
        amount=order.escrowed,
        key=f"order:{order.id}:refund",
    )
    _close(order, status, resolution)


def _close(order: Order, status: OrderStatus, resolution: str) -> None:
    """The escrow is spent (to the seller or back to the buyer): the order ends with `resolution`."""
    order.escrowed = 0
    order.status = status
    order.resolution = resolution
    order.closed_at = clock.now()
    _touch(order)


@dataclass(frozen=True)
class OrderAction:
    order_id: int
    user_id: int


def confirm(uow: UnitOfWork, cmd: OrderAction) -> Order:
    """The buyer got it: the escrow goes to the seller (minus the fee)."""
    order = _order_as(uow.session, cmd.order_id, cmd.user_id, Role.BUYER)
    require_status(order.status, OrderStatus.SHIPPED, action="confirm receipt")
    order.confirmed_at = clock.now()
    _release(uow, order, "confirmed")
    net = format_brl(order.price - order.fee)
    messages.changed(
        uow,
        order,
        "order_completed",
        buyer=f"Order #{order.id}: thanks for confirming; the seller is paid.",
        seller=f"Order #{order.id}: the buyer confirmed receipt; {net} is in your wallet.",
    )
    return order


def release_if_due(uow: UnitOfWork, order_id: int) -> bool:
    """The scheduler: release a shipped order whose release time passed (False if not due, or already done)."""
    order = _lock_order(uow.session, order_id)
    if not release_due(order.status, order.release_at, clock.now()):
        return False
    _release(uow, order, "automatic")
    messages.changed(
        uow,
        order,
        "order_completed",
        buyer=f"Order #{order.id}: the payment was released to the seller automatically.",
        seller=f"Order #{order.id}: released automatically; {format_brl(order.price - order.fee)} is in your wallet.",
    )
    return True


def due_order_ids(session: Session, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(Order.id)
            .where(Order.status == OrderStatus.SHIPPED, Order.release_at <= clock.now())
            .order_by(Order.release_at)
            .limit(limit)
        )
    )


def remind_release(uow: UnitOfWork, within: timedelta, limit: int = 100) -> list[int]:
    """Tell the buyer of each shipped order whose automatic release comes within `within` that it is coming
    (once: the reminder notification itself is the mark); returns the orders reminded."""
    session = uow.session
    now = clock.now()
    reminded = (
        select(Notification.id)
        .where(
            Notification.user_id == Order.buyer_id,
            Notification.auction_id == Order.auction_id,
            Notification.kind == "order_release_soon",
        )
        .exists()
    )
    due = session.execute(
        select(Order.id, Order.buyer_id, Order.auction_id, Order.release_at)
        .where(
            Order.status == OrderStatus.SHIPPED,
            Order.release_at > now,
            Order.release_at <= now + within,
            ~reminded,
        )
        .order_by(Order.release_at)
        .limit(limit)
    ).all()
    for order_id, buyer_id, auction_id, release_at in due:
        hours = max(1, int((release_at - now).total_seconds() // 3600))
        text = (
            f"Order #{order_id}: the payment goes to the seller automatically in {hours} hours. "
            "Confirm receipt, or open a dispute if something is wrong."
        )
        notify(uow, buyer_id, "order_release_soon", text, auction_id=auction_id)
    return [order_id for order_id, *_ in due]


@dataclass(frozen=True)
class OpenDispute:
    order_id: int
    user_id: int
    reason: str


def dispute(uow: UnitOfWork, cmd: OpenDispute) -> Order:
    """The buyer disputes before the release: the escrow stays until an admin decides."""
    order = _order_as(uow.session, cmd.order_id, cmd.user_id, Role.BUYER)
    require_status(order.status, OrderStatus.PAID, OrderStatus.SHIPPED, action="open a dispute")
    reason = (cmd.reason or "").strip()
    if not reason or len(reason) > 500:
        raise Invalid("say what went wrong (at most 500 characters)", field="reason")
    order.status = OrderStatus.DISPUTED
    order.dispute_reason = reason
    order.disputed_at = clock.now()
    _touch(order)
    messages.changed(
        uow,
        order,
        "order_disputed",
        buyer=f"Order #{order.id}: your dispute is open; an admin will decide. The money stays in escrow.",
        seller=f"Order #{order.id}: the buyer opened a dispute; the payment waits for an admin's decision.",
    )
    return order


@dataclass(frozen=True)
class Resolve:
    order_id: int
    user_id: int
    decision: str  # release | refund


def resolve(uow: UnitOfWork, cmd: Resolve) -> Order:
    """An admin decides a dispute: release to the seller, or refund the buyer's wallet."""
    order = _order_as(uow.session, cmd.order_id, cmd.user_id, Role.ADMIN)
    require_status(order.status, OrderStatus.DISPUTED, action="resolve a dispute")
    if cmd.decision == "release":
        _release(uow, order, "release")
        buyer = f"Dispute on order #{order.id} decided for the seller."
        net = format_brl(order.price - order.fee)
        seller = f"Dispute on order #{order.id} decided for you; {net} is in your wallet."
    elif cmd.decision == "refund":
        _refund(uow, order, OrderStatus.REFUNDED, "refund")
        buyer = f"Dispute on order #{order.id} decided for you; {format_brl(order.price)} is back in your wallet."
        seller = f"Dispute on order #{order.id} decided for the buyer."
    else:
        raise Invalid("the decision is release or refund", field="decision")
    order.resolved_by_id = cmd.user_id
    messages.changed(uow, order, "order_resolved", buyer=buyer, seller=seller)
    return order


def ship_by(order: Order, ship_days: int) -> datetime:
    """When the seller must have shipped (ORDER_SHIP_DAYS after the sale); after it the buyer may cancel."""
    return order.created_at + timedelta(days=ship_days)


@dataclass(frozen=True)
class CancelOrder:
    order_id: int
    user_id: int
    ship_days: int


def cancel(uow: UnitOfWork, cmd: CancelOrder) -> Order:
    """The buyer cancels an order the seller did not ship by its ship-by time: the escrow returns."""
    order = _order_as(uow.session, cmd.order_id, cmd.user_id, Role.BUYER)
    may_cancel(order.status, ship_by(order, cmd.ship_days), clock.now())
    _refund(uow, order, OrderStatus.CANCELLED, "cancelled")
    messages.changed(
        uow,
        order,
        "order_cancelled",
        buyer=f"Order #{order.id} cancelled; {format_brl(order.price + order.premium)} is back in your wallet.",
        seller=f"Order #{order.id} was cancelled by the buyer: it was not shipped in time.",
    )
    return order

"""What buyer and seller hear when an order changes: an `order` socket event and a notification, both sides."""

from __future__ import annotations

from ..models import Order
from ..notifications import notify
from ..uow import UnitOfWork
from ..wallet import send_balance


def payload(order: Order) -> dict[str, object]:
    return {"order_id": order.id, "auction_id": order.auction_id, "status": order.status}


def changed(uow: UnitOfWork, order: Order, kind: str, *, buyer: str | None, seller: str | None) -> None:
    """Queue the `order` event for both sides, a notification for each side with a text, and their balances."""
    for user_id, text in ((order.buyer_id, buyer), (order.seller_id, seller)):
        uow.outbox.to_user(user_id, "order", payload(order))
        if text:
            notify(uow, user_id, kind, text, auction_id=order.auction_id)
        send_balance(uow, user_id)

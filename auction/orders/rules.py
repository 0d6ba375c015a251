"""The order's rules as pure functions: who may do what in which status, and what a delivery address is.

No database, no clock: the use cases (auction.orders.service) pass the time in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..brazil import UFS
from ..errors import Forbidden, Invalid, ServiceError


class OrderStatus(StrEnum):
    """orders.status: paid -> shipped -> completed; disputed -> completed | refunded; paid -> cancelled."""

    PAID = "paid"  # money in escrow, waiting for the seller to ship
    SHIPPED = "shipped"
    DISPUTED = "disputed"
    COMPLETED = "completed"  # the escrow went to the seller
    REFUNDED = "refunded"  # a dispute decided for the buyer: the escrow went back
    CANCELLED = "cancelled"  # never shipped in time, cancelled by the buyer: the escrow went back


OPEN = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DISPUTED}


class OrderState(ServiceError, code="order_state", http_status=409):
    """The order is not in a status that allows this (already shipped, released, disputed ...)."""


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    ADMIN = "admin"


@dataclass(frozen=True)
class Address:
    recipient: str
    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str


CEP = re.compile(r"^\d{5}-?\d{3}$")


# The address form's fields as its labels name them (the messages name the field a person sees).
FIELD_LABELS = {
    "recipient": "recipient",
    "line1": "street and number",
    "line2": "complement",
    "city": "city",
    "state": "state",
    "postal_code": "CEP",
}


def _text(fields: dict[str, object], name: str, limit: int, *, required: bool = True) -> str | None:
    value = fields.get(name)
    text = value.strip() if isinstance(value, str) else ""
    label = FIELD_LABELS[name]
    if not text:
        if required:
            raise Invalid(f"the {label} is required", field=name)
        return None
    if len(text) > limit:
        raise Invalid(f"the {label} is too long (at most {limit} characters)", field=name)
    return text


def parse_address(fields: dict[str, object]) -> Address:
    """A delivery address from a form or socket payload, or Invalid naming the field."""
    recipient = _text(fields, "recipient", 120)
    line1 = _text(fields, "line1", 200)
    line2 = _text(fields, "line2", 200, required=False)
    city = _text(fields, "city", 80)
    state = (_text(fields, "state", 2) or "").upper()
    if state not in UFS:
        raise Invalid("the state must be a Brazilian UF (SP, RJ, MG ...)", field="state")
    postal = _text(fields, "postal_code", 9) or ""
    if not CEP.match(postal):
        raise Invalid("the CEP must be 8 digits (01310-100)", field="postal_code")
    digits = postal.replace("-", "")
    assert recipient and line1 and city
    return Address(recipient, line1, line2, city, state, f"{digits[:5]}-{digits[5:]}")


def require_role(role: Role | None, *allowed: Role) -> Role:
    if role is None or role not in allowed:
        raise Forbidden("only the " + " or the ".join(allowed) + " of this order may do that")
    return role


def require_status(status: str, *allowed: OrderStatus, action: str) -> None:
    if status not in allowed:
        raise OrderState(f"cannot {action}: the order is {status}", status=status)


def may_cancel(status: str, ship_by: datetime, now: datetime) -> None:
    """The buyer may cancel an order the seller has not shipped by its ship-by time."""
    require_status(status, OrderStatus.PAID, action="cancel")
    if now < ship_by:
        raise OrderState("the seller still has time to ship; you can cancel after the ship-by date", status=status)


def release_due(status: str, release_at: datetime | None, now: datetime) -> bool:
    """A shipped order nobody disputed is released to the seller at its release time."""
    return status == OrderStatus.SHIPPED and release_at is not None and now >= release_at

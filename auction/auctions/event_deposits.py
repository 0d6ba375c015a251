"""The end of a sale event's deposits (cauções): released when its last lot ends, or when an admin rejects one.

Deposits are held when a bidder registers (`sale_events.register`). Winners need no deposit to pay: each lot's
price is held in the winner's wallet while they lead and goes to escrow when the lot finishes
(`closing._settle`), so payment is never missing and a deposit is never applied nor forfeited; it only comes
back. Every change to a registration's deposit happens under its event's row lock.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import wallet
from ..db import lock_existing
from ..models import Auction, AuctionStatus, EventRegistration, SaleEvent

# The lots that may still take bids (or move): an event with none of these left is over.
MOVABLE = (AuctionStatus.SCHEDULED.value, AuctionStatus.OPEN.value)


def lock_event(session: Session, event_id: int) -> SaleEvent:
    return lock_existing(session, SaleEvent, SaleEvent.id == event_id, missing="no such event")


def is_over(session: Session, event_id: int) -> bool:
    """The event had lots and none of them may still take bids (all finished or cancelled)."""
    statuses = set(session.scalars(select(Auction.status).where(Auction.event_id == event_id).distinct()))
    return bool(statuses) and not statuses & set(MOVABLE)


def release(session: Session, registration: EventRegistration) -> bool:
    """Give the registration's deposit back to its bidder's available balance; False when nothing was held."""
    if not registration.deposit:
        return False
    key = f"event:{registration.event_id}:user:{registration.user_id}:deposit:released"
    wallet.release_deposit(session, user_id=registration.user_id, amount=registration.deposit, key=key)
    registration.deposit = 0
    return True


def release_if_over(session: Session, event_id: int) -> list[int]:
    """After a lot of the event ended (its row locked by the caller, the event's by `lock_event` before any wallet):
    when it was the last, every deposit goes back. Returns the users whose balance changed."""
    if not is_over(session, event_id):
        return []
    held = session.scalars(
        select(EventRegistration)
        .where(EventRegistration.event_id == event_id, EventRegistration.deposit > 0)
        .order_by(EventRegistration.id)
    ).all()
    return [registration.user_id for registration in held if release(session, registration)]

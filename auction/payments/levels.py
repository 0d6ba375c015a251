"""Applying a payment's facts: merge them into the locked Payment row and move its user's wallet to the new level.

Money moves only through `auction.wallet`: a payment's merged facts give the
level the wallet should hold for it (auction.payments.events), and the wallet is
moved by the difference to `Payment.credited` under a row lock on the payment,
so concurrent and out-of-order deliveries serialize and converge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock, wallet
from ..db import lock_existing, lock_row
from ..models import LedgerTransaction, Payment
from ..money import Cents, format_brl
from ..notifications import notify
from ..uow import UnitOfWork
from .events import EVENTS, REMOVED, Facts, State, level, movement_reason

log = logging.getLogger(__name__)

# The notification (kind, message) for each ledger reason of a level change, and for events that notify.
NOTICES: dict[str, tuple[str, str]] = {
    "top_up": ("payment_approved", "Your payment of {value} was approved: {moved} added to your wallet."),
    "payment_restored": ("payment_approved", "Your payment of {value} is valid again: {moved} added to your wallet."),
    "chargeback_reversed": (
        "payment_chargeback_reversed",
        "The chargeback on your payment of {value} was resolved in your favour: {moved} is back in your wallet.",
    ),
    "refund": ("payment_refunded", "{moved} of your payment of {value} was refunded and taken from your wallet."),
    "payment_undone": ("payment_refunded", "Your payment of {value} was undone: {moved} taken from your wallet."),
    "chargeback": (
        "payment_chargeback",
        "A chargeback was opened on your payment of {value}: {moved} taken from your wallet.",
    ),
    "payment_refused": ("payment_refused", "Your card payment of {value} was refused. Nothing was charged."),
    "payment_overdue": ("payment_overdue", "Your top-up of {value} expired without being paid."),
}


class Outcome(StrEnum):
    """What processing a delivery, a fetch or an admin's assignment did.

    The first five are the values of webhook_deliveries.outcome.
    """

    RECEIVED = "received"  # stored, not processed yet
    APPLIED = "applied"  # the wallet moved
    RECORDED = "recorded"  # the facts were stored, the level did not change
    UNMATCHED = "unmatched"  # an unknown payment, or one with no user
    FAILED = "failed"  # processing raised; `detail` says why
    DUPLICATE = "duplicate"  # a copy of a delivery processed before: nothing done
    ABANDONED = "abandoned"  # reconciliation gave up a NEW top-up whose charge Asaas never got


@dataclass(frozen=True)
class Applied:
    """The result of applying one event or fetch to a payment."""

    payment_id: int | None
    outcome: Outcome
    moved: Cents = 0
    detail: str | None = None

    @property
    def corrected(self) -> bool:
        """Whether reconciliation changed anything (reported by `flask payments reconcile`)."""
        return bool(self.moved) or self.outcome == Outcome.ABANDONED


def lock_payment_where(session: Session, *criteria: Any) -> Payment | None:
    """The payment matching `criteria`, locked FOR UPDATE and read afresh (not from the session's cache)."""
    return lock_row(session, Payment, *criteria)


def lock_payment(session: Session, payment_id: int) -> Payment:
    return lock_existing(session, Payment, Payment.id == payment_id, missing="no such payment")


def _state(payment: Payment) -> State:
    return State(
        value=payment.value,
        paid=payment.paid_stage,
        chargeback=payment.chargeback_stage,
        removal=payment.removal_stage,
        refunded=payment.refunded,
    )


def _store_state(payment: Payment, state: State) -> None:
    payment.value = state.value
    payment.paid_stage = state.paid
    payment.chargeback_stage = state.chargeback
    payment.removal_stage = state.removal
    payment.refunded = state.refunded
    payment.deleted = state.removal == REMOVED


def _notice(uow: UnitOfWork, payment: Payment, reason: str, moved: Cents, debt: bool) -> None:
    assert payment.user_id is not None
    kind, template = NOTICES[reason]
    message = template.format(value=format_brl(payment.value), moved=format_brl(moved))
    if debt:
        message += " Your wallet is now negative: add money before bidding again."
    notify(uow, payment.user_id, kind, message, payment_id=payment.id)


def apply_facts(
    uow: UnitOfWork, payment: Payment, facts: Facts | None, *, credit_on: str, event: str | None
) -> Applied:
    """Merge `facts` into the locked `payment` and move its user's wallet to the new level.

    A part of the caller's unit of work: queues the user's `wallet` and `notification` messages on `uow.outbox`.
    """
    session = uow.session
    before = _state(payment)
    after = before.merge(facts) if facts is not None else before
    _store_state(payment, after)
    if facts is not None and facts.status:
        payment.status = facts.status
    if event:
        payment.last_event = event
    payment.updated_at = clock.now()
    if payment.user_id is None:
        return Applied(payment.id, Outcome.UNMATCHED, detail="payment not matched to a user")
    target = level(after, credit_on)
    delta = target - payment.credited
    if delta:
        moves = session.scalar(
            select(func.count(LedgerTransaction.id)).where(LedgerTransaction.payment_id == payment.id)
        )
        key = f"pay:{payment.id}:move:{moves}:{payment.credited}->{target}"
        reason = movement_reason(before, after, delta > 0)
        move = wallet.credit if delta > 0 else wallet.reverse
        movement = move(
            session, user_id=payment.user_id, amount=abs(delta), key=key, reason=reason, payment_id=payment.id
        )
        payment.credited = target
        log.info(
            "event=payment_level payment_id=%s user_id=%s from=%s to=%s reason=%s",
            payment.id,
            payment.user_id,
            target - delta,
            target,
            reason,
        )
        wallet.send_balance(uow, payment.user_id)
        _notice(uow, payment, reason, abs(delta), movement.created_debt)
    rule = EVENTS.get(event or "")
    if rule is not None and rule.notify and not (rule.notify == "payment_overdue" and payment.credited):
        _notice(uow, payment, rule.notify, 0, False)
    return Applied(payment.id, Outcome.APPLIED if delta else Outcome.RECORDED, moved=delta)

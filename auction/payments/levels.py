"""Applying a payment's facts: merge them into the locked Payment row and move its user's wallet to the new level.

Money moves only through `auction.wallet`: a payment's merged facts give the
level the wallet should hold for it and the part of it that is frozen
(auction.payments.events), and the wallet is moved by the differences to
`Payment.credited` and `Payment.frozen` under a row lock on the payment, so
concurrent and out-of-order deliveries serialize and converge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock, wallet
from ..db import lock_existing
from ..models import Payment, User
from ..money import Cents, format_brl
from ..notifications import notify
from ..uow import UnitOfWork
from .events import (
    EVENTS,
    RECEIVED,
    REMOVED,
    CreditPolicy,
    Facts,
    PaymentStatus,
    State,
    freeze_reason,
    frozen,
    level,
    movement_reason,
)
from .watch import schedule_next

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
    "cash_top_up": ("payment_approved", "Your cash payment of {value} was credited: {moved} added to your wallet."),
    "frozen_refund": (
        "payment_frozen",
        "A refund of your payment of {value} is in progress: {moved} is frozen until it is done.",
    ),
    "frozen_chargeback": (
        "payment_frozen",
        "A chargeback was opened on your payment of {value}: {moved} is frozen until it is resolved.",
    ),
    "unfrozen": ("payment_unfrozen", "{moved} of your payment of {value} is no longer frozen."),
}
REFUSED_EVENTS = {"PAYMENT_CREDIT_CARD_CAPTURE_REFUSED", "PAYMENT_REPROVED_BY_RISK_ANALYSIS"}


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
    STORED = "stored"  # an authentic delivery of a kind no processor handles (CHECKOUT_*, unknown events): kept


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


def lock_payment(session: Session, payment_id: int) -> Payment:
    return lock_existing(session, Payment, Payment.id == payment_id, missing="no such payment")


def _state(payment: Payment) -> State:
    return State(
        value=payment.value,
        paid=payment.paid_stage,
        chargeback=payment.chargeback_stage,
        removal=payment.removal_stage,
        refunded=payment.refunded,
        cash=payment.cash_stage,
        net_value=payment.net_value,
        refund=payment.refund_stage,
        refund_requested=payment.refund_requested,
        cash_approved=payment.cash_credited_by_id is not None,
    )


def _store_state(payment: Payment, state: State) -> None:
    payment.value = state.value
    payment.paid_stage = state.paid
    payment.chargeback_stage = state.chargeback
    payment.removal_stage = state.removal
    payment.refunded = state.refunded
    payment.cash_stage = state.cash
    payment.net_value = state.net_value
    payment.refund_stage = state.refund
    payment.refund_requested = state.refund_requested
    payment.deleted = state.removal == REMOVED


def _notice(uow: UnitOfWork, payment: Payment, reason: str, moved: Cents, debt: bool) -> None:
    assert payment.user_id is not None
    kind, template = NOTICES[reason]
    message = template.format(value=format_brl(payment.value), moved=format_brl(moved))
    if debt:
        message += " Your wallet is now negative: add money before bidding again."
    notify(uow, payment.user_id, kind, message, payment_id=payment.id)


def _ledger_key(payment: Payment, what: str) -> str:
    """The idempotency key of the locked payment's next ledger transaction, numbered by its movements so far:
    never used before (wallet's `fresh_key`)."""
    moves = payment.movements or 0  # a payment not yet written has no default yet
    payment.movements = moves + 1
    return f"pay:{payment.id}:{what}:{moves}:{payment.credited}:{payment.frozen}"


def _unfreeze(uow: UnitOfWork, payment: Payment, amount: Cents) -> None:
    assert payment.user_id is not None
    key = _ledger_key(payment, "unfreeze")
    wallet.unfreeze(uow.session, user_id=payment.user_id, amount=amount, key=key, payment_id=payment.id)
    payment.frozen -= amount


def _freeze(uow: UnitOfWork, payment: Payment, amount: Cents, reason: str) -> bool:
    assert payment.user_id is not None
    key = _ledger_key(payment, "freeze")
    movement = wallet.freeze(
        uow.session, user_id=payment.user_id, amount=amount, key=key, reason=reason, payment_id=payment.id
    )
    payment.frozen += amount
    return movement.created_debt


def _move_level(uow: UnitOfWork, payment: Payment, delta: Cents, reason: str) -> wallet.Movement:
    assert payment.user_id is not None
    key = _ledger_key(payment, "move")
    move = wallet.credit if delta > 0 else wallet.reverse
    movement = move(
        uow.session,
        user_id=payment.user_id,
        amount=abs(delta),
        key=key,
        reason=reason,
        payment_id=payment.id,
        fresh_key=True,
    )
    payment.credited += delta
    return movement


def _record_asaas_fee(uow: UnitOfWork, payment: Payment, before: State, after: State, policy: CreditPolicy) -> None:
    """When the charge's money reaches the Asaas balance (RECEIVED), what Asaas kept (value - netValue) is the
    platform's expense in the ledger, whatever ASAAS_CREDIT_VALUE credited the user (wallet/gateway_fees.py)."""
    if before.paid >= RECEIVED or after.paid < RECEIVED or after.cash or after.net_value is None:
        return
    fee = after.value - after.net_value
    if fee <= 0:
        return
    payer = wallet.FEES if policy.credit_value == "gross" else wallet.SETTLEMENT
    # Not counted among the payment's wallet movements (Payment.movements, checked by the audit): found by its key.
    wallet.record_gateway_fee(uow.session, amount=fee, key=f"payment:{payment.id}:asaas_fee", payer=payer)


def _alert_admins_of_cash(uow: UnitOfWork, payment: Payment) -> None:
    """A charge marked received in cash moved no money: the admins decide whether it becomes a top-up."""
    message = (
        f"Payment #{payment.id} ({format_brl(payment.value)}) was marked received in cash at Asaas. "
        "No money reached the account; credit it from the admin payments page if the cash really arrived."
    )
    for admin_id in uow.session.scalars(select(User.id).where(User.is_admin.is_(True))):
        notify(uow, admin_id, "cash_receipt", message, payment_id=payment.id)
    log.warning("event=payment_cash_receipt payment_id=%s user_id=%s", payment.id, payment.user_id)


def apply_facts(
    uow: UnitOfWork, payment: Payment, facts: Facts | None, *, policy: CreditPolicy, event: str | None
) -> Applied:
    """Merge `facts` into the locked `payment` and move its user's wallet to the new level and frozen amount.

    A part of the caller's unit of work: queues the user's `wallet`, `payment` and `notification` messages.
    """
    before = _state(payment)
    after = before.merge(facts) if facts is not None else before
    _store_state(payment, after)
    if facts is not None and facts.status:
        payment.status = facts.status
    if event in REFUSED_EVENTS and not payment.credited:
        payment.status = PaymentStatus.REFUSED  # Asaas leaves it PENDING; the payer must see it was refused
    if event:
        payment.last_event = event
    payment.updated_at = clock.now()
    schedule_next(payment, after)
    if after.cash and not before.cash and not _cash_counts(after, policy):
        _alert_admins_of_cash(uow, payment)
    if payment.user_id is None:
        return Applied(payment.id, Outcome.UNMATCHED, detail="payment not matched to a user")
    target, target_frozen = level(after, policy), frozen(after, policy)
    delta = target - payment.credited
    moved_frozen = target_frozen - payment.frozen
    notices: list[tuple[str, Cents, bool]] = []
    movements = 0
    moved: wallet.Movement | None = None
    # Unfreeze first so a lost chargeback or a done refund takes the money from where it was frozen.
    if payment.frozen > target_frozen:
        released = payment.frozen - target_frozen
        _unfreeze(uow, payment, released)
        movements += 1
        if delta >= 0:
            notices.append(("unfrozen", released, False))
    if delta:
        reason = movement_reason(before, after, delta > 0)
        moved = _move_level(uow, payment, delta, reason)
        movements += 1
        debt = moved.created_debt
        log.info(
            "event=payment_level payment_id=%s user_id=%s from=%s to=%s reason=%s",
            payment.id,
            payment.user_id,
            target - delta,
            target,
            reason,
        )
        notices.append((reason, abs(delta), debt))
    if target_frozen > payment.frozen:
        amount = target_frozen - payment.frozen
        reason = freeze_reason(after)
        debt = _freeze(uow, payment, amount, reason)
        movements += 1
        log.info("event=payment_frozen payment_id=%s amount=%s reason=%s", payment.id, amount, reason)
        notices.append((reason, amount, debt))
    _record_asaas_fee(uow, payment, before, after, policy)
    if movements == 1 and moved is not None and moved.balance_after is not None:
        # The one movement read the wallet under its lock: its balance after is the balance now.
        uow.outbox.to_user(payment.user_id, "wallet", moved.balance_after.as_dict())
    elif delta or moved_frozen:
        wallet.send_balance(uow, payment.user_id)
    for reason, amount, debt in notices:
        _notice(uow, payment, reason, amount, debt)
    uow.outbox.to_user(payment.user_id, "payment", payment_message(payment))
    rule = EVENTS.get(event or "")
    if rule is not None and rule.notify and not (rule.notify == "payment_overdue" and payment.credited):
        _notice(uow, payment, rule.notify, 0, False)
    return Applied(payment.id, Outcome.APPLIED if delta or moved_frozen else Outcome.RECORDED, moved=delta)


def _cash_counts(state: State, policy: CreditPolicy) -> bool:
    return state.cash_approved or policy.cash_receipts == "credit"


def payment_message(payment: Payment) -> dict[str, object]:
    """The `payment` socket event: one payment's state, for the page that shows how to pay it."""
    return {
        "payment_id": payment.id,
        "status": payment.status,
        "credited": payment.credited,
        "frozen": payment.frozen,
        "paid": payment.credited > 0 or payment.paid_stage > 0,
    }

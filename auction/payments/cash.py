"""Charges marked received in cash at Asaas: recorded, never credited on their own.

Asaas says marking a charge received in cash "does not generate balance or make any financial change": it
is the merchant saying the customer paid outside Asaas, and anyone with access to the Asaas panel can do it.
So by default (ASAAS_CASH_RECEIPTS=review) such a payment credits nothing, the admins are notified, and an
admin credits it deliberately from the admin payments page; who did it and when are stored on the payment
and logged. With ASAAS_CASH_RECEIPTS=credit it credits like any payment (auction.payments.events.level).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import Invalid
from ..models import Payment, User
from ..uow import UnitOfWork
from .events import REMOVED, CreditPolicy
from .levels import Applied, apply_facts, lock_payment

log = logging.getLogger(__name__)


class NotACashReceipt(Invalid, code="not_a_cash_receipt"):
    """The payment was not marked received in cash, or that was undone."""


class AlreadyCredited(Invalid, code="already_credited", http_status=409):
    """An admin already credited this cash receipt."""


@dataclass(frozen=True)
class CreditCashReceipt:
    payment_id: int
    admin_id: int
    policy: CreditPolicy


def credit_cash_receipt(uow: UnitOfWork, command: CreditCashReceipt) -> Applied:
    """An admin credits a cash receipt as a top-up: the wallet moves to the payment's level at once."""
    payment = lock_payment(uow.session, command.payment_id)
    if not payment.cash_stage or payment.removal_stage == REMOVED:
        raise NotACashReceipt("this payment is not marked received in cash at Asaas")
    if payment.cash_credited_by_id is not None:
        raise AlreadyCredited("this cash receipt was already credited")
    if payment.user_id is None:
        raise Invalid("assign the payment to a user before crediting it")
    admin = uow.session.get(User, command.admin_id)
    if admin is None or not admin.is_admin:
        raise Invalid("only an admin can credit a cash receipt")
    payment.cash_credited_by_id = command.admin_id
    payment.cash_credited_at = clock.now()
    log.info("event=cash_receipt_credited payment_id=%s admin_id=%s", payment.id, command.admin_id)
    return apply_facts(uow, payment, None, policy=command.policy, event=None)


def cash_receipts(session: Session, limit: int = 100) -> list[Any]:
    """(payment, username) of the payments marked received in cash, newest first (credited ones say by whom)."""
    return list(
        session.execute(
            select(Payment, User.username)
            .outerjoin(User, User.id == Payment.user_id)
            .where(Payment.cash_stage > 0)
            .order_by(Payment.id.desc())
            .limit(limit)
        ).all()
    )

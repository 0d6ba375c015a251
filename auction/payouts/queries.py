"""Reads for the wallet and admin pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import Withdrawal
from .messages import in_flight
from .withdrawals import WithdrawalStatus

__all__ = ["for_admin", "for_user", "in_flight"]


def for_user(session: Session, user_id: int, limit: int = 50) -> list[Withdrawal]:
    return list(
        session.scalars(
            select(Withdrawal).where(Withdrawal.user_id == user_id).order_by(Withdrawal.id.desc()).limit(limit)
        )
    )


NEEDS_AN_ADMIN = (
    WithdrawalStatus.AWAITING_APPROVAL,
    WithdrawalStatus.NEEDS_REVIEW,
    WithdrawalStatus.NEEDS_AUTHORIZATION,
)


def for_admin(session: Session, *, awaiting_only: bool = False, limit: int = 200) -> list[Withdrawal]:
    statement = select(Withdrawal).options(joinedload(Withdrawal.user))
    if awaiting_only:
        # What needs a person: an approval, a resend Asaas refused after a lost answer, the account's set-up.
        statement = statement.where(Withdrawal.status.in_(NEEDS_AN_ADMIN))
    return list(session.scalars(statement.order_by(Withdrawal.id.desc()).limit(limit)))

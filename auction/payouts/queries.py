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


def for_admin(session: Session, *, awaiting_only: bool = False, limit: int = 200) -> list[Withdrawal]:
    statement = select(Withdrawal).options(joinedload(Withdrawal.user))
    if awaiting_only:
        statement = statement.where(Withdrawal.status == WithdrawalStatus.AWAITING_APPROVAL)
    return list(session.scalars(statement.order_by(Withdrawal.id.desc()).limit(limit)))

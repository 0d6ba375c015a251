"""What a withdrawal's owner hears (a `withdrawal` socket event, a notification, the balance) and the admins' alerts."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import User, Withdrawal
from ..money import Cents
from ..notifications import notify
from ..uow import UnitOfWork
from ..wallet import send_balance
from .pix import masked

log = logging.getLogger(__name__)


def payload(row: Withdrawal) -> dict[str, object]:
    return {
        "withdrawal_id": row.id,
        "status": row.status,
        "amount": row.amount,
        "pix_key": masked(row.pix_key),
        "pix_key_type": row.pix_key_type,
        "fail_reason": row.fail_reason,
    }


def in_flight(session: Session, user_id: int) -> Cents:
    """What of the user's money is on its way out now: their withdrawals' payout holds (zero once final)."""
    total = session.scalar(select(func.coalesce(func.sum(Withdrawal.on_hold), 0)).where(Withdrawal.user_id == user_id))
    return int(total or 0)


def changed(uow: UnitOfWork, row: Withdrawal, text: str | None = None, kind: str = "withdrawal") -> None:
    """The owner hears the row and what is on its way out with it (the wallet page's sentence follows it)."""
    uow.session.flush()
    uow.outbox.to_user(row.user_id, "withdrawal", payload(row) | {"in_flight": in_flight(uow.session, row.user_id)})
    if text:
        notify(uow, row.user_id, kind, text)
    send_balance(uow, row.user_id)


def alert_admins(uow: UnitOfWork, text: str) -> None:
    """Something only a person should look at (a refused transfer validation, conflicting transfer events)."""
    log.warning("event=payout_alert text=%r", text)
    for admin_id in uow.session.scalars(select(User.id).where(User.is_admin.is_(True))):
        notify(uow, admin_id, "admin_alert", text)

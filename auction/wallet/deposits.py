"""Deposits (caução): money a bidder sets aside to register for a sale event (the `deposits` account).

- `hold_deposit`: the user's available balance -> `deposits` (kind `deposit_hold`, reason `event_deposit`),
  when they register. Only available money, never while the wallet is in debt; the check and the move
  happen under the wallet's row lock, so two registrations racing for one balance cannot both fit.
- `release_deposit`: `deposits` -> the user's available balance (kind `deposit_release`, reason
  `deposit_released`): the event is over, or an admin rejected the registration.
The deposits account's balance always equals the sum of `event_registrations.deposit` (checked by `audit`).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from ..errors import Invalid
from ..money import Cents, require_cents
from .ledger import Movement, give_back, set_aside

DEPOSITS = "deposits"


class DepositKind(StrEnum):
    """ledger_transactions.kind of the deposit movements."""

    HOLD = "deposit_hold"
    RELEASE = "deposit_release"


def hold_deposit(session: Session, *, user_id: int, amount: Cents, key: str) -> Movement:
    """Available -> the deposits account; refused beyond the available balance or while in debt."""
    require_cents(amount)
    if amount <= 0:
        raise Invalid("a deposit must be more than zero")
    return set_aside(
        session,
        user_id=user_id,
        code=DEPOSITS,
        amount=amount,
        key=key,
        kind=DepositKind.HOLD,
        reason="event_deposit",
        in_debt="your wallet is in debt ({amount}); add money before registering",
        short="not enough available for the deposit of {amount}: {available} available",
    )


def release_deposit(session: Session, *, user_id: int, amount: Cents, key: str) -> Movement:
    """The deposits account -> the user's available balance."""
    return give_back(
        session,
        user_id=user_id,
        code=DEPOSITS,
        amount=amount,
        key=key,
        kind=DepositKind.RELEASE,
        reason="deposit_released",
    )

"""Payout holds: money on its way out of a wallet to a bank, through an Asaas transfer (the `payouts` account).

- `hold_payout`: the user's available balance -> `payouts` at once, when the withdrawal is asked for.
  Only available money: never held (bids), never escrowed (that is on the escrow account), and
  never while the wallet is in debt. The check and the move happen under the wallet's row lock, so
  two withdrawals racing for one balance cannot both fit.
- `capture_payout`: `payouts` -> `settlement`: the transfer is done, the money left the platform.
- `release_payout`: `payouts` -> the user's available balance: the transfer failed or was cancelled.
The payouts account's balance always equals the sum of `withdrawals.on_hold` (checked by `audit`).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from ..errors import Invalid
from ..money import Cents, require_cents
from .ledger import (
    SETTLEMENT,
    Bucket,
    Movement,
    _begin,
    _record,
    give_back,
    set_aside,
)

PAYOUTS = "payouts"


class PayoutKind(StrEnum):
    """ledger_transactions.kind of the payout movements."""

    HOLD = "payout_hold"
    CAPTURE = "payout_capture"
    RELEASE = "payout_release"


def hold_payout(session: Session, *, user_id: int, amount: Cents, key: str) -> Movement:
    """Available -> the payout hold; refused beyond the available balance or while in debt."""
    require_cents(amount)
    if amount <= 0:
        raise Invalid("a withdrawal must be more than zero")
    return set_aside(
        session,
        user_id=user_id,
        code=PAYOUTS,
        amount=amount,
        key=key,
        kind=PayoutKind.HOLD,
        reason="withdrawal",
        in_debt="your wallet is in debt ({amount}); nothing can be withdrawn",
        short="not enough available to withdraw {amount}: {available} available",
    )


def capture_payout(session: Session, *, user_id: int, amount: Cents, key: str) -> Movement:
    """The payout hold -> settlement: the transfer is done."""
    require_cents(amount)
    capture = PayoutKind.CAPTURE
    done, wallet, (payouts, settlement) = _begin(
        session, key=key, kind=capture, user_id=user_id, accounts=[PAYOUTS, SETTLEMENT]
    )
    if done:
        return done
    entries = [(payouts, Bucket.AVAILABLE, -amount), (settlement, Bucket.AVAILABLE, amount)]
    return _record(session, key, capture, "withdrawal_done", amount, wallet, entries)


def release_payout(
    session: Session, *, user_id: int, amount: Cents, key: str, reason: str = "withdrawal_returned"
) -> Movement:
    """The payout hold -> the user's available balance: the transfer failed, was cancelled or refused."""
    return give_back(
        session, user_id=user_id, code=PAYOUTS, amount=amount, key=key, kind=PayoutKind.RELEASE, reason=reason
    )

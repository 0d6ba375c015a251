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
from ..money import Cents, format_brl, require_cents
from .ledger import (
    SETTLEMENT,
    Bucket,
    InsufficientFunds,
    Movement,
    WalletInDebt,
    _check_key,
    _existing,
    _lock,
    _record,
    _user_wallet_id,
    system_wallet_id,
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
    _check_key(key)
    if amount <= 0:
        raise Invalid("a withdrawal must be more than zero")
    wallet_id = _user_wallet_id(session, user_id)
    payouts_id = system_wallet_id(session, PAYOUTS)
    locked = _lock(session, [wallet_id, payouts_id])
    if done := _existing(session, key, PayoutKind.HOLD, wallet_id):
        return done
    wallet, payouts = locked[wallet_id], locked[payouts_id]
    if wallet.available < 0:
        raise WalletInDebt(
            f"your wallet is in debt ({format_brl(wallet.available)}); nothing can be withdrawn",
            available=wallet.available,
            needed=amount,
        )
    if wallet.available < amount:
        raise InsufficientFunds(
            f"not enough available to withdraw {format_brl(amount)}: {format_brl(wallet.available)} available",
            available=wallet.available,
            needed=amount,
        )
    entries = [(wallet, Bucket.AVAILABLE, -amount), (payouts, Bucket.AVAILABLE, amount)]
    return _record(session, key, PayoutKind.HOLD, "withdrawal", amount, wallet, entries)


def capture_payout(session: Session, *, user_id: int, amount: Cents, key: str) -> Movement:
    """The payout hold -> settlement: the transfer is done."""
    require_cents(amount)
    _check_key(key)
    wallet_id = _user_wallet_id(session, user_id)
    payouts_id = system_wallet_id(session, PAYOUTS)
    settlement_id = system_wallet_id(session, SETTLEMENT)
    locked = _lock(session, [wallet_id, payouts_id, settlement_id])
    if done := _existing(session, key, PayoutKind.CAPTURE, wallet_id):
        return done
    entries = [(locked[payouts_id], Bucket.AVAILABLE, -amount), (locked[settlement_id], Bucket.AVAILABLE, amount)]
    return _record(session, key, PayoutKind.CAPTURE, "withdrawal_done", amount, locked[wallet_id], entries)


def release_payout(
    session: Session, *, user_id: int, amount: Cents, key: str, reason: str = "withdrawal_returned"
) -> Movement:
    """The payout hold -> the user's available balance: the transfer failed, was cancelled or refused."""
    require_cents(amount)
    _check_key(key)
    wallet_id = _user_wallet_id(session, user_id)
    payouts_id = system_wallet_id(session, PAYOUTS)
    locked = _lock(session, [wallet_id, payouts_id])
    if done := _existing(session, key, PayoutKind.RELEASE, wallet_id):
        return done
    wallet = locked[wallet_id]
    entries = [(locked[payouts_id], Bucket.AVAILABLE, -amount), (wallet, Bucket.AVAILABLE, amount)]
    return _record(session, key, PayoutKind.RELEASE, reason, amount, wallet, entries)

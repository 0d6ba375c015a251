"""Frozen money: part of a wallet that is not spendable while a refund or chargeback of a payment is open.

A freeze moves `available -> frozen` on one wallet, an unfreeze `frozen -> available`; both are ledger
transactions (double entry inside one wallet, idempotent by key, rows locked like every other movement),
so `audit()` recomputes `wallets.frozen` from the entries and checks it against the payments' `frozen`.
Bids check `available` only (ledger.check_funds), so frozen money cannot be held for a bid. Freezing more
than is available (the money was spent before the refund or chargeback was opened) leaves `available`
negative and the movement flagged `created_debt`, exactly like a reversal would.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..money import Cents, require_cents
from .ledger import Bucket, Movement, _begin, _record

FROZEN = "frozen"  # the third bucket of a wallet (ledger_entries.bucket, wallets.frozen)
FREEZE = "freeze"  # ledger_transactions.kind
UNFREEZE = "unfreeze"


def _move(
    session: Session, *, kind: str, user_id: int, amount: Cents, key: str, reason: str, payment_id: int
) -> Movement:
    require_cents(amount)
    done, wallet, _ = _begin(session, key=key, kind=kind, user_id=user_id)
    if done:
        return done
    change = amount if kind == FREEZE else -amount
    entries = [(wallet, Bucket.AVAILABLE, -change), (wallet, FROZEN, change)]
    return _record(session, key, kind, reason, amount, wallet, entries, payment_id=payment_id)  # type: ignore[arg-type]


def freeze(session: Session, *, user_id: int, amount: Cents, key: str, reason: str, payment_id: int) -> Movement:
    """Make `amount` of the user's available balance unspendable (available -> frozen)."""
    return _move(session, kind=FREEZE, user_id=user_id, amount=amount, key=key, reason=reason, payment_id=payment_id)


def unfreeze(
    session: Session, *, user_id: int, amount: Cents, key: str, payment_id: int, reason: str = "unfrozen"
) -> Movement:
    """Give frozen money back to the available balance (frozen -> available)."""
    return _move(session, kind=UNFREEZE, user_id=user_id, amount=amount, key=key, reason=reason, payment_id=payment_id)

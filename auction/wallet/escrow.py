"""Escrow: a sale's money kept by the platform until the goods arrive (the `escrow` account).

Three movements, each idempotent by its key and part of the caller's transaction:
- `into_escrow`: the winner's hold -> escrow (kind `capture`, reason `won`), and whatever stays
  held beyond the price (a proxy maximum above it) back to the winner;
- `release_to_seller`: escrow -> the seller's available balance (reason `sale`), then the
  platform fee from the seller to `fees` (reason `fee`), so the seller's history reads both;
- `refund_to_buyer`: escrow -> the buyer's available balance (reason `escrow_refund`).
The escrow account's balance always equals the sum of `orders.escrowed` (checked by `audit`).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from ..errors import Invalid
from ..money import Cents, require_cents
from .ledger import (
    FEES,
    Bucket,
    Kind,
    Movement,
    _check_key,
    _existing,
    _lock,
    _record,
    _unhold,
    _user_wallet_id,
    capture_hold,
    system_wallet_id,
)

ESCROW = "escrow"


class EscrowKind(StrEnum):
    """ledger_transactions.kind of the movements out of escrow."""

    RELEASE = "escrow_release"
    REFUND = "escrow_refund"


def fee_of(amount: Cents, fee_bps: int) -> Cents:
    if not 0 <= fee_bps <= 10_000:
        raise Invalid("fee must be between 0 and 10000 basis points")
    return amount * fee_bps // 10_000


def into_escrow(session: Session, *, user_id: int, auction_id: int, amount: Cents, key: str) -> Movement:
    """The winner's held funds -> escrow; any rest of the hold goes back to the winner."""
    require_cents(amount)
    _check_key(key)
    winner_id = _user_wallet_id(session, user_id)
    escrow_id = system_wallet_id(session, ESCROW)
    locked = _lock(session, [winner_id, escrow_id])
    if done := _existing(session, key, Kind.CAPTURE, winner_id):
        return done
    winner, escrow = locked[winner_id], locked[escrow_id]
    movement, rest = capture_hold(session, key=key, winner=winner, to=escrow, auction_id=auction_id, amount=amount)
    if rest:
        _unhold(session, key=f"{key}:rest", wallet=winner, amount=rest, auction_id=auction_id, reason="released")
    return movement


def release_to_seller(
    session: Session, *, seller_id: int, auction_id: int, amount: Cents, fee: Cents, key: str
) -> Movement:
    """Escrow -> the seller's available balance, then the fee from the seller to the platform."""
    require_cents(amount)
    require_cents(fee, allow_zero=True)
    _check_key(key)
    if fee > amount:
        raise Invalid("the fee cannot exceed the amount")
    seller_wallet_id = _user_wallet_id(session, seller_id)
    escrow_id = system_wallet_id(session, ESCROW)
    fees_id = system_wallet_id(session, FEES)
    locked = _lock(session, [seller_wallet_id, escrow_id, fees_id])
    if done := _existing(session, key, EscrowKind.RELEASE, seller_wallet_id):
        return done
    seller, escrow, fees = locked[seller_wallet_id], locked[escrow_id], locked[fees_id]
    entries = [(escrow, Bucket.AVAILABLE, -amount), (seller, Bucket.AVAILABLE, amount)]
    movement = _record(session, key, EscrowKind.RELEASE, "sale", amount, seller, entries, auction_id=auction_id)
    if fee:
        entries = [(seller, Bucket.AVAILABLE, -fee), (fees, Bucket.AVAILABLE, fee)]
        _record(session, f"{key}:fee", Kind.FEE, "fee", fee, seller, entries, auction_id=auction_id)
    return movement


def refund_to_buyer(session: Session, *, buyer_id: int, auction_id: int, amount: Cents, key: str) -> Movement:
    """Escrow -> the buyer's available balance (a dispute decided for the buyer, or a cancelled order)."""
    require_cents(amount)
    _check_key(key)
    buyer_wallet_id = _user_wallet_id(session, buyer_id)
    escrow_id = system_wallet_id(session, ESCROW)
    locked = _lock(session, [buyer_wallet_id, escrow_id])
    if done := _existing(session, key, EscrowKind.REFUND, buyer_wallet_id):
        return done
    buyer, escrow = locked[buyer_wallet_id], locked[escrow_id]
    entries = [(escrow, Bucket.AVAILABLE, -amount), (buyer, Bucket.AVAILABLE, amount)]
    return _record(session, key, EscrowKind.REFUND, "escrow_refund", amount, buyer, entries, auction_id=auction_id)

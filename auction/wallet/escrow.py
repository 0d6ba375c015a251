"""Escrow: a sale's money kept by the platform until the goods arrive (the `escrow` account).

The movements, each idempotent by its key and part of the caller's transaction:
- `into_escrow`: the winner's hold -> escrow (kind `capture`, reason `won`), and whatever stays
  held beyond the price and premium (a proxy maximum above it) back to the winner; a hold short of
  them (a lot bid on before holds covered the premium) has the rest taken from the available balance
  (reason `premium_due`), into debt if it lacks it;
- `pay_into_escrow`: an accepted second-chance offer: the buyer's available balance -> escrow (reason
  `second_chance`), refused with InsufficientFunds when it does not cover it;
- `release_premium`: a sale event's buyer's premium, escrow -> the event's organizer (reason
  `premium`), or to the platform's `fees` for a house sale (an admin's event);
- `release_to_seller`: escrow -> the seller's available balance (reason `sale`), then the
  platform fee from the seller to `fees` (reason `fee`), so the seller's history reads both;
- `refund_to_buyer`: escrow -> the buyer's available balance (reason `escrow_refund`).
The escrow account's balance always equals the sum of `orders.escrowed` (checked by `audit`).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from ..errors import Invalid
from ..models import Wallet
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
    check_funds,
    open_hold,
    system_wallet_id,
)

ESCROW = "escrow"


class EscrowKind(StrEnum):
    """ledger_transactions.kind of the movements out of escrow."""

    RELEASE = "escrow_release"
    REFUND = "escrow_refund"
    PREMIUM = "escrow_premium"
    PAY = "escrow_pay"


def fee_of(amount: Cents, fee_bps: int) -> Cents:
    if not 0 <= fee_bps <= 10_000:
        raise Invalid("fee must be between 0 and 10000 basis points")
    return amount * fee_bps // 10_000


def _with_escrow(session: Session, wallet_id: int, key: str, kind: str) -> tuple[Movement | None, Wallet, Wallet]:
    """Lock the wallet and the escrow account (ascending ids); the movement already made with `key`, if any."""
    escrow_id = system_wallet_id(session, ESCROW)
    locked = _lock(session, [wallet_id, escrow_id])
    return _existing(session, key, kind, wallet_id), locked[wallet_id], locked[escrow_id]


def into_escrow(session: Session, *, user_id: int, auction_id: int, amount: Cents, key: str) -> Movement:
    """The winner's held funds -> escrow; any rest of the hold goes back to the winner."""
    require_cents(amount)
    _check_key(key)
    done, winner, escrow = _with_escrow(session, _user_wallet_id(session, user_id), key, Kind.CAPTURE)
    if done:
        return done
    short = max(0, amount - open_hold(session, winner.id, auction_id))
    movement, rest = capture_hold(
        session, key=key, winner=winner, to=escrow, auction_id=auction_id, amount=amount - short
    )
    if rest:
        _unhold(session, key=f"{key}:rest", wallet=winner, amount=rest, auction_id=auction_id, reason="released")
    if short:
        # Only a lot bid on before holds covered the premium: the rest comes from the available balance, into
        # debt if it lacks it (such a wallet cannot bid until it is topped up), never from anyone else.
        entries = [(winner, Bucket.AVAILABLE, -short), (escrow, Bucket.AVAILABLE, short)]
        _record(session, f"{key}:due", Kind.CAPTURE, "premium_due", short, winner, entries, auction_id=auction_id)
    return movement


def pay_into_escrow(session: Session, *, user_id: int, auction_id: int, amount: Cents, key: str) -> Movement:
    """The buyer's available balance -> escrow (an accepted second-chance offer: nothing was held for it).
    Raises InsufficientFunds (or WalletInDebt) when the available balance does not cover `amount`."""
    require_cents(amount)
    _check_key(key)
    done, buyer, escrow = _with_escrow(session, _user_wallet_id(session, user_id), key, EscrowKind.PAY)
    if done:
        return done
    check_funds(buyer.available, amount)
    entries = [(buyer, Bucket.AVAILABLE, -amount), (escrow, Bucket.AVAILABLE, amount)]
    return _record(session, key, EscrowKind.PAY, "second_chance", amount, buyer, entries, auction_id=auction_id)


def release_premium(session: Session, *, payee_id: int | None, auction_id: int, amount: Cents, key: str) -> Movement:
    """Escrow -> the buyer's premium's payee: the organizer's available balance, or `fees` when `payee_id` is None
    (a house sale). The movement is written on the payee's wallet (the platform's for `fees`)."""
    require_cents(amount)
    _check_key(key)
    payee_wallet_id = _user_wallet_id(session, payee_id) if payee_id is not None else system_wallet_id(session, FEES)
    done, payee, escrow = _with_escrow(session, payee_wallet_id, key, EscrowKind.PREMIUM)
    if done:
        return done
    entries = [(escrow, Bucket.AVAILABLE, -amount), (payee, Bucket.AVAILABLE, amount)]
    return _record(session, key, EscrowKind.PREMIUM, "premium", amount, payee, entries, auction_id=auction_id)


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
    done, buyer, escrow = _with_escrow(session, _user_wallet_id(session, buyer_id), key, EscrowKind.REFUND)
    if done:
        return done
    entries = [(escrow, Bucket.AVAILABLE, -amount), (buyer, Bucket.AVAILABLE, amount)]
    return _record(session, key, EscrowKind.REFUND, "escrow_refund", amount, buyer, entries, auction_id=auction_id)

"""The wallet ledger: the only code that changes balances.

Double entry: every movement is one LedgerTransaction whose LedgerEntries sum to
zero across accounts (user wallets, the platform's `settlement` account for money
in from and out to Asaas, and the `fees` account). Each entry moves one bucket
(`available` or `held`) of one wallet, so any wallet's balance can be recomputed
from its entries, and `wallets.available/held` are caches checked by `audit()`.

Every operation is idempotent by a caller-supplied key: the same key twice has one
effect, and the second call returns the first result (with `replayed=True`). A key
already used for another kind of movement or another wallet is refused, so a
caller's bug cannot silently return someone else's result.

Concurrency: each operation locks the wallet rows it touches with SELECT ... FOR
UPDATE in ascending id order (callers that also lock an auction lock it first),
so concurrent movements serialize without deadlock cycles; a deadlock or lock
timeout that still happens is retried by `Database.run`. The key is checked only
after the locks are held: a concurrent call with the same key waits on the same
rows, then (READ COMMITTED reads the latest commit) finds the first result. The
one insert race left, two first-ever creations of the same wallet row, ends in a
duplicate-key error that `Database.run` retries once the other side has
committed (the unique idempotency key backs this up should a lock ever be
missed). On SQLite the whole transaction holds the write lock from BEGIN
IMMEDIATE, so the same code is correct there too.

Functions here take the caller's Session and never commit: they are parts of the
caller's unit of work, which callers run through `Database.run` so that, under
eventlet, the blocking C database driver works on a tpool OS thread instead of
stalling the hub (see auction/db.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import clock
from .errors import Invalid, ServiceError
from .models import Hold, LedgerEntry, LedgerTransaction, Wallet
from .money import Cents, format_brl, require_cents

SETTLEMENT = "settlement"
FEES = "fees"
AVAILABLE = "available"
HELD = "held"

# How the other side of a movement reads in that account's history.
COUNTERPART_REASON = {"won": "sale"}


class InsufficientFunds(ServiceError):
    code = "insufficient_funds"


class WalletInDebt(InsufficientFunds):
    """The wallet's available balance is negative (a reversal of spent money)."""

    code = "wallet_in_debt"


@dataclass(frozen=True)
class Movement:
    transaction_id: int | None
    kind: str
    reason: str
    amount: Cents
    created_debt: bool = False
    replayed: bool = False


@dataclass(frozen=True)
class Balance:
    available: Cents
    held: Cents

    @property
    def in_debt(self) -> bool:
        return self.available < 0

    def as_dict(self) -> dict[str, int | bool]:
        return {"available": self.available, "held": self.held, "in_debt": self.in_debt}


@dataclass(frozen=True)
class HistoryItem:
    transaction_id: int
    created_at: datetime
    reason: str
    kind: str
    available_change: Cents
    held_change: Cents
    auction_id: int | None
    payment_id: int | None
    bid_id: int | None
    created_debt: bool


# -- accounts ------------------------------------------------------------------


def ensure_wallet(session: Session, user_id: int) -> Wallet:
    wallet = session.scalars(select(Wallet).where(Wallet.user_id == user_id)).first()
    if wallet is None:
        wallet = Wallet(user_id=user_id, kind="user", available=0, held=0, updated_at=clock.now())
        session.add(wallet)
        session.flush()
    return wallet


def system_wallet_id(session: Session, code: str) -> int:
    wallet_id = session.scalar(select(Wallet.id).where(Wallet.code == code))
    if wallet_id is None:
        wallet = Wallet(kind=code, code=code, available=0, held=0, updated_at=clock.now())
        session.add(wallet)
        session.flush()
        wallet_id = wallet.id
    return wallet_id


def _user_wallet_id(session: Session, user_id: int) -> int:
    wallet_id = session.scalar(select(Wallet.id).where(Wallet.user_id == user_id))
    return wallet_id if wallet_id is not None else ensure_wallet(session, user_id).id


def _lock(session: Session, wallet_ids: list[int]) -> dict[int, Wallet]:
    """Lock the rows in ascending id order: one global order means no lock cycles."""
    ids = sorted(set(wallet_ids))
    rows = session.scalars(
        select(Wallet)
        .where(Wallet.id.in_(ids))
        .order_by(Wallet.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.id: row for row in rows}


def _existing(session: Session, key: str, kind: str, wallet_id: int) -> Movement | None:
    """The first result for `key`, if this movement already happened."""
    tx = session.scalars(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key)).first()
    if tx is None:
        return None
    if (tx.kind, tx.wallet_id) != (kind, wallet_id):
        raise Invalid(f"idempotency key {key!r} was already used for a different movement ({tx.kind})")
    return Movement(tx.id, tx.kind, tx.reason, tx.amount, tx.created_debt, replayed=True)


def _record(
    session: Session,
    *,
    key: str,
    kind: str,
    reason: str,
    amount: Cents,
    wallet: Wallet,
    entries: list[tuple[Wallet, str, Cents]],
    auction_id: int | None = None,
    bid_id: int | None = None,
    payment_id: int | None = None,
) -> Movement:
    """Apply `entries` to the cached balances and write them as one transaction."""
    if sum(amount for _, _, amount in entries) != 0:
        raise AssertionError("a ledger transaction must sum to zero")
    now = clock.now()
    for account, bucket, change in entries:
        setattr(account, bucket, getattr(account, bucket) + change)
        account.updated_at = now
    created_debt = wallet.available < 0 and any(
        acc is wallet and bucket == AVAILABLE and change < 0 for acc, bucket, change in entries
    )
    tx = LedgerTransaction(
        idempotency_key=key,
        kind=kind,
        reason=reason,
        amount=amount,
        wallet_id=wallet.id,
        auction_id=auction_id,
        bid_id=bid_id,
        payment_id=payment_id,
        created_debt=created_debt,
        created_at=now,
    )
    session.add(tx)
    session.flush()
    session.add_all(
        LedgerEntry(transaction_id=tx.id, wallet_id=acc.id, bucket=bucket, amount=change)
        for acc, bucket, change in entries
        if change
    )
    session.flush()
    return Movement(tx.id, kind, reason, amount, created_debt)


def _check_key(key: str) -> str:
    if not key or len(key) > 191:
        raise Invalid("an idempotency key of 1-191 characters is required")
    return key


# -- money in and out ------------------------------------------------------------


def _settle(
    session: Session, *, kind: str, user_id: int, amount: Cents, key: str, reason: str, payment_id: int | None
) -> Movement:
    """Move `amount` between the settlement account and the user's available balance."""
    require_cents(amount)
    _check_key(key)
    wallet_id = _user_wallet_id(session, user_id)
    settlement_id = system_wallet_id(session, SETTLEMENT)
    locked = _lock(session, [wallet_id, settlement_id])
    if done := _existing(session, key, kind, wallet_id):
        return done
    wallet, settlement = locked[wallet_id], locked[settlement_id]
    change = amount if kind == "credit" else -amount
    return _record(
        session,
        key=key,
        kind=kind,
        reason=reason,
        amount=amount,
        wallet=wallet,
        entries=[(settlement, AVAILABLE, -change), (wallet, AVAILABLE, change)],
        payment_id=payment_id,
    )


def credit(
    session: Session, *, user_id: int, amount: Cents, key: str, reason: str = "top_up", payment_id: int | None = None
) -> Movement:
    """Money in from a payment: settlement -> the user's available balance."""
    return _settle(
        session, kind="credit", user_id=user_id, amount=amount, key=key, reason=reason, payment_id=payment_id
    )


def reverse(
    session: Session, *, user_id: int, amount: Cents, key: str, reason: str = "refund", payment_id: int | None = None
) -> Movement:
    """Money out again (refund, partial refund, chargeback).

    Never clamps: if the money was already spent the wallet goes negative and the
    transaction is flagged `created_debt`; such a wallet cannot bid until it is
    back at zero or above.
    """
    return _settle(
        session, kind="reverse", user_id=user_id, amount=amount, key=key, reason=reason, payment_id=payment_id
    )


# -- holds -------------------------------------------------------------------------


def _hold_row(session: Session, wallet_id: int, auction_id: int) -> Hold | None:
    return session.scalars(select(Hold).where(Hold.wallet_id == wallet_id, Hold.auction_id == auction_id)).first()


def check_funds(available: Cents, needed: Cents) -> None:
    """Refuse a hold of `needed` from `available`: WalletInDebt or InsufficientFunds, with a clear message."""
    if available < 0:
        raise WalletInDebt(
            f"your wallet is in debt ({format_brl(available)}); add money before bidding",
            available=available,
            needed=needed,
        )
    if available < needed:
        raise InsufficientFunds(
            f"not enough funds: {format_brl(needed)} needed, {format_brl(available)} available",
            available=available,
            needed=needed,
        )


def hold(
    session: Session, *, user_id: int, auction_id: int, amount: Cents, key: str, bid_id: int | None = None
) -> Movement:
    """Reserve funds for a bid (available -> held); refused beyond the available balance."""
    require_cents(amount)
    _check_key(key)
    wallet_id = _user_wallet_id(session, user_id)
    wallet = _lock(session, [wallet_id])[wallet_id]
    if done := _existing(session, key, "hold", wallet_id):
        return done
    check_funds(wallet.available, amount)
    row = _hold_row(session, wallet_id, auction_id)
    if row is None:
        row = Hold(wallet_id=wallet_id, auction_id=auction_id, amount=0, status="open", updated_at=clock.now())
        session.add(row)
    row.amount += amount
    row.status = "open"
    row.updated_at = clock.now()
    return _record(
        session,
        key=key,
        kind="hold",
        reason="bid_hold",
        amount=amount,
        wallet=wallet,
        entries=[(wallet, AVAILABLE, -amount), (wallet, HELD, amount)],
        auction_id=auction_id,
        bid_id=bid_id,
    )


def held_for(session: Session, *, user_id: int, auction_id: int) -> Cents:
    wallet_id = session.scalar(select(Wallet.id).where(Wallet.user_id == user_id))
    if wallet_id is None:
        return 0
    row = _hold_row(session, wallet_id, auction_id)
    return row.amount if row is not None and row.status == "open" else 0


def release(
    session: Session, *, user_id: int, auction_id: int, key: str, amount: Cents | None = None, reason: str = "released"
) -> Movement:
    """Give held funds back (held -> available): all of the auction's hold, or `amount` of it.

    With nothing held this is a no-op that records nothing (the key stays unused).
    """
    _check_key(key)
    wallet_id = _user_wallet_id(session, user_id)
    wallet = _lock(session, [wallet_id])[wallet_id]
    if done := _existing(session, key, "release", wallet_id):
        return done
    row = _hold_row(session, wallet_id, auction_id)
    open_amount = row.amount if row is not None and row.status == "open" else 0
    amount = open_amount if amount is None else require_cents(amount)
    if amount > open_amount:
        raise Invalid(f"cannot release {format_brl(amount)}: only {format_brl(open_amount)} held for this auction")
    if row is None or amount == 0:
        return Movement(None, "release", reason, 0)
    row.amount -= amount
    row.status = "open" if row.amount else "released"
    row.updated_at = clock.now()
    return _unhold(session, key=key, wallet=wallet, amount=amount, auction_id=auction_id, reason=reason)


def _unhold(session: Session, *, key: str, wallet: Wallet, amount: Cents, auction_id: int, reason: str) -> Movement:
    """Record held -> available on one wallet (the caller has updated the hold row)."""
    return _record(
        session,
        key=key,
        kind="release",
        reason=reason,
        amount=amount,
        wallet=wallet,
        entries=[(wallet, HELD, -amount), (wallet, AVAILABLE, amount)],
        auction_id=auction_id,
    )


def capture(
    session: Session,
    *,
    user_id: int,
    auction_id: int,
    seller_id: int,
    amount: Cents,
    key: str,
    fee_bps: int = 0,
) -> Movement:
    """The winner's held funds -> the seller's available balance, then the platform fee.

    The fee (`amount * fee_bps // 10000`, the app passes PLATFORM_FEE_BPS) is a
    second movement from the seller to the `fees` account, so the seller's history
    reads "sale" and "fee". Whatever stays held for the auction beyond `amount` (a
    proxy maximum above the final price) is released back to the winner in a
    third movement. All of them belong to this one database transaction.
    """
    require_cents(amount)
    _check_key(key)
    if not 0 <= fee_bps <= 10_000:
        raise Invalid("fee must be between 0 and 10000 basis points")
    winner_id = _user_wallet_id(session, user_id)
    seller_wallet_id = _user_wallet_id(session, seller_id)
    fees_id = system_wallet_id(session, FEES)
    locked = _lock(session, [winner_id, seller_wallet_id, fees_id])
    if done := _existing(session, key, "capture", winner_id):
        return done
    winner, seller, fees = locked[winner_id], locked[seller_wallet_id], locked[fees_id]
    row = _hold_row(session, winner_id, auction_id)
    open_amount = row.amount if row is not None and row.status == "open" else 0
    if row is None or amount > open_amount:
        raise InsufficientFunds(
            f"cannot capture {format_brl(amount)}: only {format_brl(open_amount)} held for this auction"
        )
    rest = open_amount - amount
    row.amount = 0
    row.status = "captured"
    row.updated_at = clock.now()
    movement = _record(
        session,
        key=key,
        kind="capture",
        reason="won",
        amount=amount,
        wallet=winner,
        entries=[(winner, HELD, -amount), (seller, AVAILABLE, amount)],
        auction_id=auction_id,
    )
    if fee := amount * fee_bps // 10_000:
        _record(
            session,
            key=f"{key}:fee",
            kind="fee",
            reason="fee",
            amount=fee,
            wallet=seller,
            entries=[(seller, AVAILABLE, -fee), (fees, AVAILABLE, fee)],
            auction_id=auction_id,
        )
    if rest:
        _unhold(session, key=f"{key}:rest", wallet=winner, amount=rest, auction_id=auction_id, reason="released")
    return movement


# -- reads -------------------------------------------------------------------------


def balance(session: Session, user_id: int) -> Balance:
    row = session.execute(select(Wallet.available, Wallet.held).where(Wallet.user_id == user_id)).first()
    return Balance(row.available, row.held) if row else Balance(0, 0)


def history(session: Session, user_id: int, limit: int = 100) -> list[HistoryItem]:
    """The user's movements, newest first, with what each did to available and held."""
    wallet_id = session.scalar(select(Wallet.id).where(Wallet.user_id == user_id))
    if wallet_id is None:
        return []
    txs = session.scalars(
        select(LedgerTransaction)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerEntry.wallet_id == wallet_id)
        .distinct()
        .order_by(LedgerTransaction.id.desc())
        .limit(limit)
    ).all()
    if not txs:
        return []
    changes: dict[tuple[int, str], int] = {}
    for entry in session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.wallet_id == wallet_id, LedgerEntry.transaction_id.in_([t.id for t in txs])
        )
    ):
        changes[(entry.transaction_id, entry.bucket)] = (
            changes.get((entry.transaction_id, entry.bucket), 0) + entry.amount
        )
    return [
        HistoryItem(
            transaction_id=tx.id,
            created_at=tx.created_at,
            reason=tx.reason if tx.wallet_id == wallet_id else COUNTERPART_REASON.get(tx.reason, tx.reason),
            kind=tx.kind,
            available_change=changes.get((tx.id, AVAILABLE), 0),
            held_change=changes.get((tx.id, HELD), 0),
            auction_id=tx.auction_id,
            payment_id=tx.payment_id,
            bid_id=tx.bid_id,
            created_debt=tx.created_debt and tx.wallet_id == wallet_id,
        )
        for tx in txs
    ]


def audit(session: Session) -> list[str]:
    """Recompute every balance from the ledger; one line per mismatch (empty = all good)."""
    problems: list[str] = []
    sums: dict[tuple[int, str], int] = {
        (wallet_id, bucket): int(total)
        for wallet_id, bucket, total in session.execute(
            select(LedgerEntry.wallet_id, LedgerEntry.bucket, func.sum(LedgerEntry.amount)).group_by(
                LedgerEntry.wallet_id, LedgerEntry.bucket
            )
        )
    }
    open_holds: dict[int, int] = {
        wallet_id: int(total)
        for wallet_id, total in session.execute(
            select(Hold.wallet_id, func.sum(Hold.amount)).where(Hold.status == "open").group_by(Hold.wallet_id)
        )
    }
    for wallet in session.scalars(select(Wallet).order_by(Wallet.id)):
        name = f"wallet {wallet.id} ({wallet.code or f'user {wallet.user_id}'})"
        for bucket in (AVAILABLE, HELD):
            expected = sums.get((wallet.id, bucket), 0)
            actual = getattr(wallet, bucket)
            if expected != actual:
                problems.append(f"{name}: {bucket} is {actual} but its ledger entries sum to {expected}")
        if wallet.held != open_holds.get(wallet.id, 0):
            problems.append(f"{name}: held is {wallet.held} but open holds sum to {open_holds.get(wallet.id, 0)}")
        if wallet.held < 0:
            problems.append(f"{name}: negative held balance {wallet.held}")
    total = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)))
    if int(total) != 0:
        problems.append(f"ledger does not balance: all entries sum to {total}, not 0")
    unbalanced = session.execute(
        select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount) != 0)
    ).all()
    problems.extend(f"ledger transaction {tx_id}: entries sum to {total}" for tx_id, total in unbalanced)
    negative_holds = session.scalars(select(Hold.id).where(Hold.amount < 0)).all()
    problems.extend(f"hold {hold_id}: negative amount" for hold_id in negative_holds)
    return problems

"""The wallet ledger: the only code that changes balances.

Over 600 lines on purpose: every primitive that moves money (and the locking and idempotency they share)
is in this one file, which the wallet boundary test holds to be the only writer of balances.

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
caller's unit of work, which callers run through `Database.run` so that, on a
green runtime, the blocking C database driver works on an offload OS thread instead
of stalling the hub (see auction/db/runner.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Integer, bindparam, case, func, insert, literal, select, union_all, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import upsert
from ..errors import Invalid, ServiceError
from ..models import Hold, LedgerEntry, LedgerTransaction, Wallet
from ..money import Cents, format_brl, require_cents

# The platform's own accounts (wallets.code).
SETTLEMENT = "settlement"
FEES = "fees"
# Outside the platform too: what Asaas kept as its fees (auction/wallet/gateway_fees.py).
ASAAS_FEES = "asaas_fees"
# System accounts whose balance is derived from their entries, never cached on their row: every top-up
# moves money out of `settlement`, and locking and updating that one row per webhook serialized them all
# (62 deliveries/s, docs/performance.md). Their rows exist so entries can name them; the audit sums them.
DERIVED = frozenset({SETTLEMENT, ASAAS_FEES})


class Bucket(StrEnum):
    """The two balances of a wallet (ledger_entries.bucket, and the wallets column of that name)."""

    AVAILABLE = "available"
    HELD = "held"


class Kind(StrEnum):
    """What a ledger transaction did (ledger_transactions.kind)."""

    CREDIT = "credit"
    REVERSE = "reverse"
    HOLD = "hold"
    RELEASE = "release"
    CAPTURE = "capture"
    FEE = "fee"  # the platform fee taken from a sale


class HoldStatus(StrEnum):
    """holds.status"""

    OPEN = "open"
    RELEASED = "released"
    CAPTURED = "captured"


class InsufficientFunds(ServiceError, code="insufficient_funds", http_status=409):
    """The wallet's available balance does not cover what the bid must hold (its maximum)."""


class WalletInDebt(InsufficientFunds, code="wallet_in_debt"):
    """The wallet's available balance is negative (a refund or chargeback of money already spent)."""


@dataclass(frozen=True)
class Balance:
    available: Cents
    held: Cents
    frozen: Cents = 0  # not spendable: a refund or chargeback is open (auction.wallet.freezes)

    @property
    def in_debt(self) -> bool:
        return self.available < 0

    def as_dict(self) -> dict[str, int | bool]:
        return {"available": self.available, "held": self.held, "frozen": self.frozen, "in_debt": self.in_debt}


@dataclass(frozen=True)
class Movement:
    transaction_id: int | None
    kind: str
    reason: str
    amount: Cents
    created_debt: bool = False
    replayed: bool = False
    # The user's balance right after this movement, when the writer knew it without a query (`_settle`).
    balance_after: Balance | None = None


# -- accounts ------------------------------------------------------------------


def ensure_wallet(session: Session, user_id: int) -> Wallet:
    wallet = session.scalars(select(Wallet).where(Wallet.user_id == user_id)).first()
    if wallet is None:
        wallet = Wallet(user_id=user_id, kind="user", available=0, held=0, updated_at=clock.now())
        session.add(wallet)
        session.flush()
    return wallet


def system_wallet_id(session: Session, code: str) -> int:
    # On the session's connection: nothing pending needs flushing to find a system account's id.
    wallet_id = session.connection().execute(_SYSTEM_WALLET, {"code": code}).scalar()
    if wallet_id is None:
        wallet = Wallet(kind=code, code=code, available=0, held=0, updated_at=clock.now())
        session.add(wallet)
        session.flush()
        wallet_id = wallet.id
    return wallet_id


_SYSTEM_WALLET = select(Wallet.__table__.c.id).where(Wallet.__table__.c.code == bindparam("code"))


def wallet_id_of(session: Session, user_id: int) -> int | None:
    """The user's wallet id, or None before their first movement."""
    return session.scalar(select(Wallet.id).where(Wallet.user_id == user_id))


def _user_wallet_id(session: Session, user_id: int) -> int:
    wallet_id = wallet_id_of(session, user_id)
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


class Locked(NamedTuple):
    """A user's wallet row as `lock_balances` read it under its lock."""

    wallet_id: int
    available: Cents
    held: Cents
    frozen: Cents


def lock_balances(session: Session, user_ids: set[int]) -> dict[int, Locked]:
    """Lock the users' wallets (ascending id, as `_lock`) and return user id -> its Locked row.

    A batch of bids locks every bidder's wallet once, up front, and checks each bid against it.
    """
    rows = session.connection().execute(_LOCK_BALANCES, {"users": sorted(user_ids)}).all()
    return {row.user_id: Locked(row.id, row.available, row.held, row.frozen) for row in rows}


_LOCK_BALANCES = (
    select(Wallet.user_id, Wallet.id, Wallet.available, Wallet.held, Wallet.frozen)
    .where(Wallet.user_id.in_(bindparam("users", expanding=True)))
    .order_by(Wallet.id)
    .with_for_update()
)


def derived_balance(session: Session, code: str) -> Cents:
    """A DERIVED system account's available balance: the sum of its entries."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .join(Wallet, Wallet.id == LedgerEntry.wallet_id)
            .where(Wallet.code == code, LedgerEntry.bucket == Bucket.AVAILABLE)
        )
    )


def _existing(session: Session, key: str, kind: Kind, wallet_id: int) -> Movement | None:
    """The first result for `key`, if this movement already happened."""
    tx = session.connection().execute(_KEYED, {"key": key}).first()
    if tx is None:
        return None
    if (tx.kind, tx.wallet_id) != (kind, wallet_id):
        raise Invalid(f"idempotency key {key!r} was already used for a different movement ({tx.kind})")
    return Movement(tx.id, tx.kind, tx.reason, tx.amount, tx.created_debt, replayed=True)


def _begin(
    session: Session, *, key: str, kind: str, user_id: int, accounts: Sequence[str] = ()
) -> tuple[Movement | None, Wallet, list[Wallet]]:
    """The start of a keyed movement of a user's wallet with system accounts: check the key, lock the user's
    wallet and the `accounts` (one order, no lock cycles), and find the movement already recorded under `key`
    (then the caller returns it: a replay). Returns (that movement or None, the wallet, the accounts' rows)."""
    _check_key(key)
    wallet_id = _user_wallet_id(session, user_id)
    account_ids = [system_wallet_id(session, code) for code in accounts]
    locked = _lock(session, [wallet_id, *account_ids])
    done = _existing(session, key, kind, wallet_id)  # type: ignore[arg-type]
    return done, locked[wallet_id], [locked[account_id] for account_id in account_ids]


_KEYED = select(
    *(LedgerTransaction.__table__.c[name] for name in ("id", "kind", "wallet_id", "reason", "amount", "created_debt"))
).where(LedgerTransaction.__table__.c.idempotency_key == bindparam("key"))


def _record(
    session: Session,
    key: str,
    kind: Kind,
    reason: str,
    amount: Cents,
    wallet: Wallet,
    entries: list[tuple[Wallet, Bucket, Cents]],
    *,
    auction_id: int | None = None,
    bid_id: int | None = None,
    payment_id: int | None = None,
) -> Movement:
    """Apply `entries` to the cached balances and write them as one transaction."""
    if sum(amount for _, _, amount in entries) != 0:
        raise AssertionError("a ledger transaction must sum to zero")
    now = clock.now()
    for account, bucket, change in entries:
        if account.code in DERIVED:
            continue
        setattr(account, bucket, getattr(account, bucket) + change)
        account.updated_at = now
    created_debt = wallet.available < 0 and any(
        acc is wallet and bucket == Bucket.AVAILABLE and change < 0 for acc, bucket, change in entries
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
    session: Session,
    *,
    kind: Kind,
    user_id: int,
    amount: Cents,
    key: str,
    reason: str,
    payment_id: int | None,
    fresh_key: bool = False,
) -> Movement:
    """Move `amount` between the settlement account and the user's available balance.

    The same ledger as `_record` writes, with explicit statements instead of the ORM (every webhook that
    moves money comes here; bench.webhook_cpu): lock the user's row, check the key, insert the transaction
    and its two entries, add the change to the cached balance. Only the user's row is locked: the
    settlement account's balance is derived (DERIVED), so its row is neither locked nor updated, and its
    entry finds its id in the statement that writes both entries. `fresh_key`: the caller numbered the key
    under a lock of its own, so it was never used and is not looked up (the unique index still refuses it).
    """
    require_cents(amount)
    _check_key(key)
    locked = lock_balances(session, {user_id}).get(user_id)
    if locked is None:  # the user's first movement
        ensure_wallet(session, user_id)
        locked = lock_balances(session, {user_id})[user_id]
    if not fresh_key and (done := _existing(session, key, kind, locked.wallet_id)):
        return done
    change = amount if kind == Kind.CREDIT else -amount
    created_debt = change < 0 and locked.available + change < 0
    now = clock.now()
    conn = session.connection()
    transaction = {
        "idempotency_key": key,
        "kind": kind,
        "reason": reason,
        "amount": amount,
        "wallet_id": locked.wallet_id,
        "auction_id": None,
        "bid_id": None,
        "payment_id": payment_id,
        "created_debt": created_debt,
        "created_at": now,
    }
    tx_id = conn.execute(_INSERT_TRANSACTIONS, [transaction]).scalar_one()
    both = {"tx": tx_id, "code": SETTLEMENT, "settled": -change, "wallet": locked.wallet_id, "change": change}
    if conn.execute(_INSERT_SETTLED_ENTRIES, both).rowcount != 2:  # no settlement account yet: the first credit
        settlement = {"transaction_id": tx_id, "wallet_id": system_wallet_id(session, SETTLEMENT), "amount": -change}
        conn.execute(_INSERT_ENTRIES, [{**settlement, "bucket": Bucket.AVAILABLE}])
    conn.execute(_ADD_AVAILABLE, {"wallet": locked.wallet_id, "change": change, "now": now})
    # An ORM copy of the row in this session (ensure_wallet's, an earlier `_lock`'s) no longer matches it.
    if (cached := session.identity_map.get(Session.identity_key(Wallet, locked.wallet_id))) is not None:
        session.expire(cached)
    after = Balance(locked.available + change, locked.held, locked.frozen)
    return Movement(tx_id, kind, reason, amount, created_debt, balance_after=after)


# Both entries of a settlement in one statement: the settlement account's by its code, the user's as given.
_INSERT_SETTLED_ENTRIES = insert(LedgerEntry.__table__).from_select(
    ["transaction_id", "wallet_id", "bucket", "amount"],
    union_all(
        select(
            bindparam("tx", type_=Integer),
            Wallet.__table__.c.id,
            literal(Bucket.AVAILABLE.value),
            bindparam("settled", type_=BigInteger),
        ).where(Wallet.__table__.c.code == bindparam("code")),
        select(
            bindparam("tx", type_=Integer),
            bindparam("wallet", type_=Integer),
            literal(Bucket.AVAILABLE.value),
            bindparam("change", type_=BigInteger),
        ),
    ),
)

_ADD_AVAILABLE = (
    update(Wallet.__table__)
    .where(Wallet.__table__.c.id == bindparam("wallet"))
    .values(available=Wallet.__table__.c.available + bindparam("change"), updated_at=bindparam("now"))
)


def credit(
    session: Session,
    *,
    user_id: int,
    amount: Cents,
    key: str,
    reason: str = "top_up",
    payment_id: int | None = None,
    fresh_key: bool = False,
) -> Movement:
    """Money in from a payment: settlement -> the user's available balance."""
    return _settle(
        session,
        kind=Kind.CREDIT,
        user_id=user_id,
        amount=amount,
        key=key,
        reason=reason,
        payment_id=payment_id,
        fresh_key=fresh_key,
    )


def reverse(
    session: Session,
    *,
    user_id: int,
    amount: Cents,
    key: str,
    reason: str = "refund",
    payment_id: int | None = None,
    fresh_key: bool = False,
) -> Movement:
    """Money out again (refund, partial refund, chargeback).

    Never clamps: if the money was already spent the wallet goes negative and the
    transaction is flagged `created_debt`; such a wallet cannot bid until it is
    back at zero or above.
    """
    return _settle(
        session,
        kind=Kind.REVERSE,
        user_id=user_id,
        amount=amount,
        key=key,
        reason=reason,
        payment_id=payment_id,
        fresh_key=fresh_key,
    )


# -- money kept aside on a platform account ------------------------------------------


def set_aside(
    session: Session,
    *,
    user_id: int,
    code: str,
    amount: Cents,
    key: str,
    kind: str,
    reason: str,
    in_debt: str,
    short: str,
) -> Movement:
    """The user's available balance -> the platform account `code`, which keeps it for them (a withdrawal on its
    way out, an event's deposit). Refused beyond the available balance (`short`, with {amount} and {available})
    or while the wallet is in debt (`in_debt`, with {amount}); checked and moved under the wallet's row lock, so
    two movements racing for one balance cannot both fit."""

    def check(wallet: Wallet) -> None:
        if wallet.available < 0:
            raise WalletInDebt(
                in_debt.format(amount=format_brl(wallet.available)), available=wallet.available, needed=amount
            )
        if wallet.available < amount:
            raise InsufficientFunds(
                short.format(amount=format_brl(amount), available=format_brl(wallet.available)),
                available=wallet.available,
                needed=amount,
            )

    return _with_account(session, user_id, code, amount, into=True, key=key, kind=kind, reason=reason, check=check)


def give_back(
    session: Session, *, user_id: int, code: str, amount: Cents, key: str, kind: str, reason: str
) -> Movement:
    """The platform account `code` -> the user's available balance: what `set_aside` kept goes back."""
    return _with_account(session, user_id, code, amount, into=False, key=key, kind=kind, reason=reason)


def _with_account(
    session: Session,
    user_id: int,
    code: str,
    amount: Cents,
    *,
    into: bool,
    key: str,
    kind: str,
    reason: str,
    check: Callable[[Wallet], None] | None = None,
) -> Movement:
    """Move `amount` between the user's available balance and the account `code` (`into` it, or back out of it),
    both rows locked; `check` may refuse on the locked wallet first."""
    require_cents(amount)
    done, wallet, (account,) = _begin(session, key=key, kind=kind, user_id=user_id, accounts=[code])
    if done:
        return done
    if check is not None:
        check(wallet)
    change = -amount if into else amount
    entries = [(wallet, Bucket.AVAILABLE, change), (account, Bucket.AVAILABLE, -change)]
    return _record(session, key, kind, reason, amount, wallet, entries)


# -- holds -------------------------------------------------------------------------


def _hold_row(session: Session, wallet_id: int, auction_id: int) -> Hold | None:
    return session.scalars(select(Hold).where(Hold.wallet_id == wallet_id, Hold.auction_id == auction_id)).first()


def _open_amount(row: Hold | None) -> Cents:
    return row.amount if row is not None and row.status == HoldStatus.OPEN else 0


def open_hold(session: Session, wallet_id: int, auction_id: int) -> Cents:
    """What the wallet holds open on the auction now."""
    return _open_amount(_hold_row(session, wallet_id, auction_id))


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
    if done := _existing(session, key, Kind.HOLD, wallet_id):
        return done
    check_funds(wallet.available, amount)
    row = _hold_row(session, wallet_id, auction_id)
    if row is None:
        row = Hold(wallet_id=wallet_id, auction_id=auction_id, amount=0, status=HoldStatus.OPEN, updated_at=clock.now())
        session.add(row)
    row.amount += amount
    row.status = HoldStatus.OPEN
    row.updated_at = clock.now()
    entries = [(wallet, Bucket.AVAILABLE, -amount), (wallet, Bucket.HELD, amount)]
    return _record(session, key, Kind.HOLD, "bid_hold", amount, wallet, entries, auction_id=auction_id, bid_id=bid_id)


def release(
    session: Session, *, user_id: int, auction_id: int, key: str, amount: Cents | None = None, reason: str = "released"
) -> Movement:
    """Give held funds back (held -> available): all of the auction's hold, or `amount` of it.

    With nothing held this is a no-op that records nothing (the key stays unused).
    """
    _check_key(key)
    wallet_id = _user_wallet_id(session, user_id)
    wallet = _lock(session, [wallet_id])[wallet_id]
    if done := _existing(session, key, Kind.RELEASE, wallet_id):
        return done
    row = _hold_row(session, wallet_id, auction_id)
    open_amount = _open_amount(row)
    amount = open_amount if amount is None else require_cents(amount)
    if amount > open_amount:
        raise Invalid(f"cannot release {format_brl(amount)}: only {format_brl(open_amount)} held for this auction")
    if row is None or amount == 0:
        return Movement(None, Kind.RELEASE, reason, 0)
    row.amount -= amount
    row.status = HoldStatus.OPEN if row.amount else HoldStatus.RELEASED
    row.updated_at = clock.now()
    return _unhold(session, key=key, wallet=wallet, amount=amount, auction_id=auction_id, reason=reason)


def _unhold(session: Session, *, key: str, wallet: Wallet, amount: Cents, auction_id: int, reason: str) -> Movement:
    """Record held -> available on one wallet (the caller has updated the hold row)."""
    entries = [(wallet, Bucket.HELD, -amount), (wallet, Bucket.AVAILABLE, amount)]
    return _record(session, key, Kind.RELEASE, reason, amount, wallet, entries, auction_id=auction_id)


@dataclass(frozen=True)
class HoldChange:
    """One wallet's hold on an auction grows (`change` > 0) or is given back whole (`change` < 0)."""

    user_id: int
    auction_id: int
    change: Cents
    key: str
    bid_id: int | None = None


def move_holds(session: Session, changes: Sequence[HoldChange], locked: Mapping[int, Locked]) -> None:
    """A batch of bids' hold movements, on any number of auctions, in four statements whatever their count.

    The same ledger as `hold` and `release` (one transaction of two entries per movement, the hold row,
    the cached balances), written with prepared bulk statements instead of about eight ORM statements
    per movement: the socket path decides every bid this way (auction.auctions.bids). The wallets are
    the rows `lock_balances` locked in this transaction, so they are not read again; each `key` is new
    (it names the bid that caused it), so the idempotency check is the unique index alone. A release
    gives back the whole hold, which the caller knows (the auction's leader maximum). Movements apply
    in order, so a user's hold on one auction may spend what a release on an earlier one gave back.
    """
    if not changes:
        return
    now = clock.now()
    spendable = {user_id: row.available for user_id, row in locked.items()}
    for item in changes:
        _check_key(item.key)
        require_cents(abs(item.change))
        if item.change > 0:
            check_funds(spendable[item.user_id], item.change)
        spendable[item.user_id] -= item.change
    wallet_of = {item.user_id: locked[item.user_id].wallet_id for item in changes}
    conn = session.connection()
    holds = [
        {
            "wallet_id": wallet_of[item.user_id],
            "auction_id": item.auction_id,
            "amount": max(item.change, 0),
            "status": HoldStatus.OPEN if item.change > 0 else HoldStatus.RELEASED,
            "updated_at": now,
        }
        for item in changes
    ]
    conn.execute(_upsert_holds(conn.dialect.name), holds)
    transactions = [
        {
            "idempotency_key": item.key,
            "kind": Kind.HOLD if item.change > 0 else Kind.RELEASE,
            "reason": "bid_hold" if item.change > 0 else "released",
            "amount": abs(item.change),
            "wallet_id": wallet_of[item.user_id],
            "auction_id": item.auction_id,
            "bid_id": item.bid_id if item.change > 0 else None,
            "payment_id": None,
            "created_debt": False,
            "created_at": now,
        }
        for item in changes
    ]
    ids = conn.execute(_INSERT_TRANSACTIONS, transactions).scalars()
    entries = [
        {"transaction_id": tx_id, "wallet_id": wallet_of[item.user_id], "bucket": bucket, "amount": sign * item.change}
        for tx_id, item in zip(ids, changes, strict=True)
        for bucket, sign in ((Bucket.AVAILABLE, -1), (Bucket.HELD, 1))
    ]
    conn.execute(_INSERT_ENTRIES, entries)
    moved: dict[int, Cents] = {}
    for item in changes:
        moved[wallet_of[item.user_id]] = moved.get(wallet_of[item.user_id], 0) + item.change
    conn.execute(_MOVE_BALANCES, [{"wallet": w, "change": c, "now": now} for w, c in sorted(moved.items())])


# Built once: constructing a statement and its cache key costs more CPU than running it (bench.bid_cpu).
_TX = LedgerTransaction.__table__
_INSERT_TRANSACTIONS = insert(_TX).returning(_TX.c.id, sort_by_parameter_order=True)
_INSERT_ENTRIES = insert(LedgerEntry.__table__)
_WALLETS = Wallet.__table__
_MOVE_BALANCES = (
    update(_WALLETS)
    .where(_WALLETS.c.id == bindparam("wallet"))
    .values(
        available=_WALLETS.c.available - bindparam("change"),
        held=_WALLETS.c.held + bindparam("change"),
        updated_at=bindparam("now"),
    )
)


@cache  # built once per dialect
def _upsert_holds(dialect: str) -> Any:
    """Add each row's amount to its wallet's hold on the auction (made on first use); a release sets it to 0."""
    table = Hold.__table__

    def changes(new: Any) -> dict[str, Any]:
        added = case((new.status == HoldStatus.OPEN, table.c.amount + new.amount), else_=0)
        return {"amount": added, "status": new.status, "updated_at": new.updated_at}

    return upsert(dialect, table, ["wallet_id", "auction_id"], changes)


def capture_hold(
    session: Session, *, key: str, winner: Wallet, to: Wallet, auction_id: int, amount: Cents
) -> tuple[Movement, Cents]:
    """Take `amount` of the winner's (locked) hold on the auction into `to` (the seller, or escrow).

    Returns the movement and what was held beyond the price, which the caller gives back to the winner.
    """
    row = _hold_row(session, winner.id, auction_id)
    open_amount = _open_amount(row)
    if row is None or amount > open_amount:
        raise InsufficientFunds(
            f"cannot capture {format_brl(amount)}: only {format_brl(open_amount)} held for this auction"
        )
    row.amount = 0
    row.status = HoldStatus.CAPTURED
    row.updated_at = clock.now()
    entries = [(winner, Bucket.HELD, -amount), (to, Bucket.AVAILABLE, amount)]
    movement = _record(session, key, Kind.CAPTURE, "won", amount, winner, entries, auction_id=auction_id)
    return movement, open_amount - amount


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
    if done := _existing(session, key, Kind.CAPTURE, winner_id):
        return done
    winner, seller, fees = locked[winner_id], locked[seller_wallet_id], locked[fees_id]
    movement, rest = capture_hold(session, key=key, winner=winner, to=seller, auction_id=auction_id, amount=amount)
    if fee := amount * fee_bps // 10_000:
        entries = [(seller, Bucket.AVAILABLE, -fee), (fees, Bucket.AVAILABLE, fee)]
        _record(session, f"{key}:fee", Kind.FEE, "fee", fee, seller, entries, auction_id=auction_id)
    if rest:
        _unhold(session, key=f"{key}:rest", wallet=winner, amount=rest, auction_id=auction_id, reason="released")
    return movement

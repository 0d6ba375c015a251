"""Helpers for wallet tests: auctions to hold money for, and an independent ledger check.

`ledger_violations` recomputes the invariants with its own queries rather than
calling `wallet.audit()`, so the tests do not trust the code they check.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auction import clock, wallet
from auction.db import Database
from auction.models import Auction, Base, Hold, LedgerEntry, LedgerTransaction, User, Wallet


def make_auction(db: Database, seller_id: int, title: str = "Old radio") -> int:
    def create(session: Session) -> int:
        now = clock.now()
        auction = Auction(
            seller_id=seller_id,
            title=title,
            description="for wallet tests",
            starting_price=100,
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            status="open",
            created_at=now,
        )
        session.add(auction)
        session.flush()
        return auction.id

    return db.transaction(create)


def ledger_violations(session: Session) -> list[str]:
    """Every broken ledger invariant, as readable lines (empty = all hold)."""
    problems: list[str] = []
    entries_total = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)))
    if entries_total != 0:
        problems.append(f"all entries sum to {entries_total}")
    # Derived accounts (settlement) keep no cached balance: their entries are their balance.
    derived = set(session.scalars(select(Wallet.id).where(Wallet.code.in_(wallet.DERIVED))))
    columns_total = session.scalar(
        select(func.coalesce(func.sum(Wallet.available + Wallet.held), 0)).where(Wallet.id.not_in(derived))
    ) + session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.wallet_id.in_(derived)))
    if columns_total != 0:
        problems.append(f"all wallet balances sum to {columns_total}")
    sums = {
        (wallet_id, bucket): total
        for wallet_id, bucket, total in session.execute(
            select(LedgerEntry.wallet_id, LedgerEntry.bucket, func.sum(LedgerEntry.amount)).group_by(
                LedgerEntry.wallet_id, LedgerEntry.bucket
            )
        )
    }
    open_holds = dict(
        session.execute(
            select(Hold.wallet_id, func.sum(Hold.amount)).where(Hold.status == "open").group_by(Hold.wallet_id)
        ).all()
    )
    in_debt_recorded = set(
        session.scalars(select(LedgerTransaction.wallet_id).where(LedgerTransaction.created_debt.is_(True)))
    )
    for account in session.scalars(select(Wallet)):
        if account.id in derived:
            if (account.available, account.held) != (0, 0):
                problems.append(f"derived wallet {account.id} has a cached balance")
            continue
        for bucket in ("available", "held"):
            if getattr(account, bucket) != sums.get((account.id, bucket), 0):
                problems.append(f"wallet {account.id} {bucket}={getattr(account, bucket)} but entries say {sums}")
        if account.held != open_holds.get(account.id, 0):
            problems.append(f"wallet {account.id} held={account.held} but open holds sum to {open_holds}")
        if account.kind == "user" and account.available < 0 and account.id not in in_debt_recorded:
            problems.append(f"wallet {account.id} available={account.available} with no created_debt movement")
    if session.scalar(select(func.count()).select_from(Hold).where(Hold.amount < 0)):
        problems.append("a hold has a negative amount")
    return problems


def total_money(session: Session) -> int:
    """Money inside the platform: what all user and fee accounts hold (= -settlement)."""
    return session.scalar(
        select(func.coalesce(func.sum(Wallet.available + Wallet.held), 0)).where(Wallet.kind != "settlement")
    )


def add_users(db: Database, count: int, prefix: str = "u") -> list[int]:
    """Users with wallets, created directly (no password hashing: these tests are about money)."""

    def create(session: Session) -> list[int]:
        users = [
            User(username=f"{prefix}{n}", email=f"{prefix}{n}@example.com", password_hash="-", created_at=clock.now())
            for n in range(count)
        ]
        session.add_all(users)
        session.flush()
        return [wallet.ensure_wallet(session, user.id).user_id for user in users]

    return db.transaction(create)


def empty_tables(db: Database) -> None:
    """Delete every row, children first (the schema stays)."""

    def delete_all(session: Session) -> None:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())

    db.transaction(delete_all)


def replay_violations(session: Session) -> list[str]:
    """Replay every wallet's movements in transaction-id order and check each step.

    A movement inserts its transaction only after it holds the wallet's row lock, so
    for one wallet the ids follow the order in which the locks were granted. A hold
    must never have left `available` negative; only a reversal flagged
    `created_debt` may take it below zero.
    """
    problems: list[str] = []
    rows = session.execute(
        select(LedgerEntry.wallet_id, LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.created_debt)
        .add_columns(func.sum(LedgerEntry.amount))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(Wallet, Wallet.id == LedgerEntry.wallet_id)
        .where(LedgerEntry.bucket == "available", Wallet.kind == "user")
        .group_by(LedgerEntry.wallet_id, LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.created_debt)
        .order_by(LedgerEntry.wallet_id, LedgerTransaction.id)
    ).all()
    running: dict[int, int] = {}
    for wallet_id, tx_id, kind, created_debt, change in rows:
        before = running.get(wallet_id, 0)
        after = running[wallet_id] = before + int(change)
        if kind == "hold" and after < 0:
            problems.append(f"hold {tx_id} left wallet {wallet_id} at {after}")
        if after < 0 <= before and not (kind == "reverse" and created_debt):
            problems.append(f"{kind} {tx_id} took wallet {wallet_id} from {before} to {after} without recording debt")
    return problems

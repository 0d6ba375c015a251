"""The ledger audit (`flask wallet audit`, and every test's last check): recompute each balance from its entries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import EventRegistration, Hold, LedgerEntry, LedgerTransaction, Order, Payment, Wallet, Withdrawal
from .deposits import DEPOSITS
from .escrow import ESCROW
from .freezes import FROZEN
from .ledger import DERIVED, Bucket, HoldStatus
from .payouts import PAYOUTS

BUCKETS = (*Bucket, FROZEN)


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
            select(Hold.wallet_id, func.sum(Hold.amount)).where(Hold.status == HoldStatus.OPEN).group_by(Hold.wallet_id)
        )
    }
    # Frozen money belongs to payments whose refund or chargeback is open: each user's frozen balance is theirs.
    frozen_by_user: dict[int, int] = {
        user_id: int(total)
        for user_id, total in session.execute(
            select(Payment.user_id, func.sum(Payment.frozen))
            .where(Payment.user_id.is_not(None))
            .group_by(Payment.user_id)
        )
    }
    for wallet in session.scalars(select(Wallet).order_by(Wallet.id)):
        name = f"wallet {wallet.id} ({wallet.code or f'user {wallet.user_id}'})"
        if wallet.code in DERIVED:
            # No cached balance: what its entries sum to is its balance (checked below, with all the others).
            if sums.get((wallet.id, Bucket.HELD), 0) or sums.get((wallet.id, FROZEN), 0):
                problems.append(f"{name}: a derived account has held or frozen entries")
            continue
        if wallet.frozen < 0:
            problems.append(f"{name}: negative frozen balance {wallet.frozen}")
        if wallet.user_id is not None and wallet.frozen != frozen_by_user.get(wallet.user_id, 0):
            problems.append(
                f"{name}: frozen is {wallet.frozen} but its payments' frozen amounts sum to "
                f"{frozen_by_user.get(wallet.user_id, 0)}"
            )
        for bucket in BUCKETS:
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
    problems.extend(_system_accounts(session))
    problems.extend(_payment_movements(session))
    return problems


def _payment_movements(session: Session) -> list[str]:
    """Each payment's count of movements (which numbers its next idempotency key) is its ledger transactions'."""
    made = (
        select(func.count(LedgerTransaction.id))
        .where(LedgerTransaction.payment_id == Payment.id)
        .correlate(Payment)
        .scalar_subquery()
    )
    wrong = session.execute(select(Payment.id, Payment.movements, made).where(Payment.movements != made)).all()
    return [
        f"payment {payment_id}: {movements} movements recorded but {count} made"
        for payment_id, movements, count in wrong
    ]


def _system_accounts(session: Session) -> list[str]:
    """The escrow, payout-hold and deposit accounts hold exactly what their orders, withdrawals and event
    registrations say, never less than 0."""
    problems: list[str] = []
    for code, column in (
        (ESCROW, Order.escrowed),
        (PAYOUTS, Withdrawal.on_hold),
        (DEPOSITS, EventRegistration.deposit),
    ):
        balance = session.scalar(select(Wallet.available).where(Wallet.code == code)) or 0
        owed = int(session.scalar(select(func.coalesce(func.sum(column), 0))))
        if balance != owed:
            problems.append(f"{code} account: balance is {balance} but its {column.class_.__tablename__} say {owed}")
        if balance < 0:
            problems.append(f"{code} account: negative balance {balance}")
    negative = session.scalars(select(Order.id).where(Order.escrowed < 0)).all()
    problems.extend(f"order {order_id}: negative escrow" for order_id in negative)
    negative = session.scalars(select(Withdrawal.id).where(Withdrawal.on_hold < 0)).all()
    problems.extend(f"withdrawal {withdrawal_id}: negative payout hold" for withdrawal_id in negative)
    negative = session.scalars(select(EventRegistration.id).where(EventRegistration.deposit < 0)).all()
    problems.extend(f"event registration {registration_id}: negative deposit" for registration_id in negative)
    return problems

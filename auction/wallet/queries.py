"""Reads of the ledger for pages and sockets: balances, holds, a user's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..models import Hold, LedgerEntry, LedgerTransaction, Wallet
from ..money import Cents
from ..uow import UnitOfWork
from .ledger import Balance, Bucket, HoldStatus, wallet_id_of

# How the other side of a movement reads in that account's history.
COUNTERPART_REASON = {"won": "sale"}


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
    frozen_change: Cents = 0


def balance(session: Session, user_id: int) -> Balance:
    # On the session's connection: the ledger writes balances at once (nothing pending to flush first).
    row = session.connection().execute(_BALANCE, {"user": user_id}).first()
    return Balance(row.available, row.held, row.frozen) if row else Balance(0, 0)


_WALLETS = Wallet.__table__
_BALANCE = select(_WALLETS.c.available, _WALLETS.c.held, _WALLETS.c.frozen).where(
    _WALLETS.c.user_id == bindparam("user")
)


def send_balance(uow: UnitOfWork, user_id: int) -> None:
    """Queue the user's balance as it is inside this transaction, for their `wallet` socket event."""
    uow.outbox.to_user(user_id, "wallet", balance(uow.session, user_id).as_dict())


def held_for(session: Session, *, user_id: int, auction_id: int) -> Cents:
    """What is held on the user's wallet for the auction now."""
    amount = session.scalar(
        select(Hold.amount)
        .join(Wallet, Wallet.id == Hold.wallet_id)
        .where(Wallet.user_id == user_id, Hold.auction_id == auction_id, Hold.status == HoldStatus.OPEN)
    )
    return amount or 0


def history(session: Session, user_id: int, limit: int = 100) -> list[HistoryItem]:
    """The user's movements, newest first, with what each did to available and held."""
    wallet_id = wallet_id_of(session, user_id)
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
            available_change=changes.get((tx.id, Bucket.AVAILABLE), 0),
            held_change=changes.get((tx.id, Bucket.HELD), 0),
            auction_id=tx.auction_id,
            payment_id=tx.payment_id,
            bid_id=tx.bid_id,
            created_debt=tx.created_debt and tx.wallet_id == wallet_id,
            frozen_change=changes.get((tx.id, "frozen"), 0),
        )
        for tx in txs
    ]

"""The wallet: a double-entry ledger of integer cents, the only code that moves money.

`ledger` writes (credits, reversals, holds, releases, captures), `queries` reads
(balances, holds, history), `audit` recomputes every balance from the entries.
The package depends on nothing but the models, the database types, money, errors
and the clock: bidding and payments call it, never the other way round.
"""

from .audit import audit
from .deposits import DEPOSITS, hold_deposit, release_deposit
from .freezes import FROZEN, freeze, unfreeze
from .gateway_fees import record_gateway_fee
from .ledger import (
    ASAAS_FEES,
    DERIVED,
    FEES,
    SETTLEMENT,
    Bucket,
    HoldChange,
    HoldStatus,
    InsufficientFunds,
    Kind,
    Locked,
    Movement,
    WalletInDebt,
    capture,
    check_funds,
    credit,
    derived_balance,
    ensure_wallet,
    hold,
    lock_balances,
    move_holds,
    release,
    reverse,
    system_wallet_id,
)
from .queries import Balance, HistoryItem, balance, held_for, history, send_balance

__all__ = [
    "ASAAS_FEES",
    "DEPOSITS",
    "DERIVED",
    "FEES",
    "FROZEN",
    "SETTLEMENT",
    "Balance",
    "Bucket",
    "HistoryItem",
    "HoldChange",
    "HoldStatus",
    "InsufficientFunds",
    "Kind",
    "Locked",
    "Movement",
    "WalletInDebt",
    "audit",
    "balance",
    "capture",
    "check_funds",
    "credit",
    "derived_balance",
    "ensure_wallet",
    "freeze",
    "held_for",
    "history",
    "hold",
    "hold_deposit",
    "lock_balances",
    "move_holds",
    "record_gateway_fee",
    "release",
    "release_deposit",
    "reverse",
    "send_balance",
    "system_wallet_id",
    "unfreeze",
]

"""Asaas's fees as the platform's expense: what Asaas kept from a charge (value - netValue) or took for a transfer.

The money never reached the platform's account at Asaas, so the ledger moves it to `asaas_fees`, an account
outside the platform like `settlement` (DERIVED: its balance is the sum of its entries). Who bears it depends
on ASAAS_CREDIT_VALUE: with `gross` the user was credited the whole value, so the platform's `fees` account
pays it; with `net` the user was credited netValue, so the fee comes from `settlement` (it never entered a
wallet). Either way the ledger's money at Asaas, everything but `settlement` and `asaas_fees`, is what the
Asaas balance should be (auction/payments/balance.py).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Wallet
from ..money import Cents, require_cents
from . import ledger

PAYERS = (ledger.FEES, ledger.SETTLEMENT)


def record_gateway_fee(session: Session, *, amount: Cents, key: str, payer: str) -> ledger.Movement:
    """`payer` (FEES or SETTLEMENT) -> asaas_fees, once per `key`."""
    require_cents(amount)
    ledger._check_key(key)
    if payer not in PAYERS:
        raise ValueError(f"the fee is paid from {' or '.join(PAYERS)}")
    payer_id, expense_id = ledger.system_wallet_id(session, payer), ledger.system_wallet_id(session, ledger.ASAAS_FEES)
    if payer not in ledger.DERIVED:
        ledger._lock(session, [payer_id])  # a cached balance: updated under its row lock
    if done := ledger._existing(session, key, ledger.Kind.FEE, payer_id):
        return done
    payer_wallet, expense = session.get_one(Wallet, payer_id), session.get_one(Wallet, expense_id)
    entries = [(payer_wallet, ledger.Bucket.AVAILABLE, -amount), (expense, ledger.Bucket.AVAILABLE, amount)]
    return ledger._record(session, key, ledger.Kind.FEE, "asaas_fee", amount, payer_wallet, entries)

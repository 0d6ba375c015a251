"""The ledger against the Asaas account: `GET /finance/balance` and the statement, `GET /financialTransactions`.

Every statement line (anything that moved the Asaas balance) is matched to what the ledger knows by the reference
Asaas puts on it — `paymentId` (a charge: its money in, Asaas's fee on it, a refund or chargeback out) or
`transferId` (a withdrawal's transfer, its fee, its return) — and every line the ledger cannot account for is
listed: money in with no credit (a charge we do not know, a deposit), an anticipation, a transfer no withdrawal
made. The total is compared too: what the ledger says is at Asaas (everything but the `settlement` account,
less the withdrawals whose transfer Asaas already debited and the ledger still holds) against the balance.

Statement field names follow Asaas's financial transaction object (`id`, `value`, `date`, `type`, `description`,
`paymentId`, `transferId`, `anticipationId`); a line is classified by which reference it carries and its sign
(a fee by `FEE` in its type), not by its exact `type`, whose list of names Asaas extends over time.
`flask payments reconcile-balance` runs one check, the jobs process runs it every `BALANCE_CHECK_INTERVAL`
(daily) and alerts the admins on a difference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import Database
from ..models import Payment, User, Withdrawal
from ..money import Cents, InvalidAmount, format_brl, reais_to_cents
from ..notifications import notify
from ..uow import UnitOfWork
from ..wallet import ASAAS_FEES, SETTLEMENT, derived_balance
from .client import AsaasClient

log = logging.getLogger(__name__)

# Withdrawals whose transfer Asaas has debited while the ledger still holds the money (payout hold).
TRANSFER_IN_FLIGHT = ("submitting", "needs_review", "pending")


@dataclass(frozen=True)
class Difference:
    date: str
    kind: str
    value: Cents
    reference: str
    reason: str

    def line(self) -> str:
        return f"{self.date} {self.kind} {format_brl(self.value)} {self.reference}: {self.reason}"


@dataclass(frozen=True)
class BalanceCheck:
    asaas_balance: Cents
    expected_balance: Cents  # what the ledger says Asaas should hold
    lines: int
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class Known:
    """What the ledger knows, keyed by Asaas's ids."""

    payments: dict[str, tuple[int, Cents]]  # asaas payment id -> (our id, credited)
    withdrawals: dict[str, tuple[int, str, Cents]]  # transfer id -> (our id, status, amount)
    expected_balance: Cents


def _known(session: Session) -> Known:
    payments = {
        row.asaas_payment_id: (row.id, row.credited)
        for row in session.execute(
            select(Payment.id, Payment.asaas_payment_id, Payment.credited).where(Payment.asaas_payment_id.is_not(None))
        )
    }
    withdrawals = {
        row.asaas_transfer_id: (row.id, row.status, row.amount)
        for row in session.execute(
            select(Withdrawal.id, Withdrawal.asaas_transfer_id, Withdrawal.status, Withdrawal.amount).where(
                Withdrawal.asaas_transfer_id.is_not(None)
            )
        )
    }
    in_flight = session.scalar(
        select(func.coalesce(func.sum(Withdrawal.on_hold), 0)).where(
            Withdrawal.asaas_transfer_id.is_not(None), Withdrawal.status.in_(TRANSFER_IN_FLIGHT)
        )
    )
    # Double entry: every account but the two outside ones (settlement, asaas_fees) sums to what the platform
    # holds at Asaas.
    at_asaas = -(derived_balance(session, SETTLEMENT) + derived_balance(session, ASAAS_FEES))
    return Known(payments, withdrawals, at_asaas - int(in_flight or 0))


def _cents(value: Any) -> Cents | None:
    try:
        return reais_to_cents(value)
    except InvalidAmount:
        return None


def _is_fee(line: dict[str, Any]) -> bool:
    return "FEE" in str(line.get("type") or "").upper()


def _payment_line(line: dict[str, Any], value: Cents, known: Known) -> str | None:
    """Why a line about a charge is not in the ledger, or None when it is."""
    ours = known.payments.get(str(line["paymentId"]))
    if ours is None:
        return "a charge this site did not create"
    if value > 0 and not ours[1]:
        return f"received at Asaas, not credited in the ledger (payment #{ours[0]})"
    return None


def _transfer_line(line: dict[str, Any], value: Cents, known: Known) -> str | None:
    ours = known.withdrawals.get(str(line["transferId"]))
    if ours is None:
        return "a transfer no withdrawal made"
    withdrawal_id, status, amount = ours
    if not _is_fee(line) and value < 0 and -value != amount:
        return f"transfer of another amount than withdrawal #{withdrawal_id} ({format_brl(amount)})"
    if value > 0 and status not in ("failed", "refused"):
        return f"transfer returned at Asaas, withdrawal #{withdrawal_id} is {status}"
    return None


def explain(line: dict[str, Any], known: Known) -> str | None:
    """Why one statement line is a difference, or None when the ledger accounts for it."""
    value = _cents(line.get("value"))
    if value is None:
        return "a value that is not an amount"
    if line.get("paymentId"):
        return _payment_line(line, value, known)
    if line.get("transferId"):
        return _transfer_line(line, value, known)
    if line.get("anticipationId"):
        return "an anticipation: money advanced against a charge not paid yet"
    return "a movement with no counterpart in the ledger"


def check(db: Database, client: AsaasClient, start: date, finish: date) -> BalanceCheck:
    """Compare the ledger with the Asaas balance and with the statement between `start` and `finish`."""
    asaas_balance = _cents(client.balance().get("balance")) or 0
    statement = list(client.financial_transactions(start, finish))
    known = db.transaction(_known)
    differences = []
    for line in statement:
        if reason := explain(line, known):
            kind = str(line.get("type") or "?")
            reference = str(line.get("paymentId") or line.get("transferId") or line.get("id") or "")
            value = _cents(line.get("value")) or 0
            differences.append(Difference(str(line.get("date") or ""), kind, value, reference, reason))
    if asaas_balance != known.expected_balance:
        differences.append(
            Difference(
                finish.isoformat(),
                "BALANCE",
                asaas_balance - known.expected_balance,
                "GET /finance/balance",
                f"Asaas holds {format_brl(asaas_balance)}, the ledger expects {format_brl(known.expected_balance)}",
            )
        )
    result = BalanceCheck(asaas_balance, known.expected_balance, len(statement), differences)
    log.info(
        "event=balance_check lines=%s differences=%s asaas=%s expected=%s",
        len(statement),
        len(differences),
        asaas_balance,
        known.expected_balance,
    )
    return result


def alert(uow: UnitOfWork, result: BalanceCheck) -> None:
    """Tell the admins what did not match (the first lines; the command and the admin page list all)."""
    shown = "; ".join(d.line() for d in result.differences[:5])
    more = f" and {len(result.differences) - 5} more" if len(result.differences) > 5 else ""
    text = f"The Asaas balance does not match the ledger: {shown}{more}."
    log.warning("event=balance_check_alert differences=%s", len(result.differences))
    for admin_id in uow.session.scalars(select(User.id).where(User.is_admin.is_(True))):
        notify(uow, admin_id, "admin_alert", text[:500])

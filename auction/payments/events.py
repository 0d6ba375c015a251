"""The 28 PAYMENT_* webhook events, mapped onto a wallet *level* rather than a stream of deltas.

Each event (and each `GET /payments/{id}` during reconciliation) contributes facts
about one payment: how far it got paid, whether a chargeback is open or was won,
whether it was deleted or restored, how much was refunded, its value. Facts are
merged into the Payment row by taking the maximum of each, so merging is
commutative and idempotent: any order of deliveries, and any number of copies,
ends in the same facts. The amount the wallet should hold for the payment
(`level`) is a function of those facts alone; the webhook moves the wallet by
`level - payment.credited`. docs/payments.md shows the table below; the tests
walk every row of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..money import Cents, InvalidAmount, reais_to_cents


class PaymentStatus(StrEnum):
    """payments.status: Asaas's status names, plus two of this site's own (NEW, ABANDONED).

    The column keeps whatever status Asaas sends, so it may hold a name missing here.
    """

    NEW = "NEW"  # the row is stored, the charge not created yet
    PENDING = "PENDING"
    AUTHORIZED = "AUTHORIZED"
    AWAITING_RISK_ANALYSIS = "AWAITING_RISK_ANALYSIS"
    CONFIRMED = "CONFIRMED"
    RECEIVED = "RECEIVED"
    RECEIVED_IN_CASH = "RECEIVED_IN_CASH"
    OVERDUE = "OVERDUE"
    REFUND_REQUESTED = "REFUND_REQUESTED"
    REFUND_IN_PROGRESS = "REFUND_IN_PROGRESS"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    CHARGEBACK_REQUESTED = "CHARGEBACK_REQUESTED"
    CHARGEBACK_DISPUTE = "CHARGEBACK_DISPUTE"
    AWAITING_CHARGEBACK_REVERSAL = "AWAITING_CHARGEBACK_REVERSAL"
    DUNNING_REQUESTED = "DUNNING_REQUESTED"
    DUNNING_RECEIVED = "DUNNING_RECEIVED"
    DELETED = "DELETED"
    REFUSED = "REFUSED"
    ABANDONED = "ABANDONED"  # a NEW top-up whose charge Asaas never got (reconciliation gives it up)


# paid_stage
NOT_PAID, CONFIRMED, RECEIVED = 0, 1, 2
# chargeback_stage
NO_CHARGEBACK, CHARGEBACK_OPEN, CHARGEBACK_WON = 0, 1, 2
# removal_stage
NOT_REMOVED, REMOVED, RESTORED = 0, 1, 2

PAID_BY_STATUS = {
    PaymentStatus.CONFIRMED: CONFIRMED,
    PaymentStatus.RECEIVED: RECEIVED,
    PaymentStatus.RECEIVED_IN_CASH: RECEIVED,
    PaymentStatus.DUNNING_RECEIVED: RECEIVED,
}
CHARGEBACK_BY_STATUS = {
    PaymentStatus.CHARGEBACK_REQUESTED: CHARGEBACK_OPEN,
    PaymentStatus.CHARGEBACK_DISPUTE: CHARGEBACK_OPEN,
    PaymentStatus.AWAITING_CHARGEBACK_REVERSAL: CHARGEBACK_WON,
}
# Statuses after which nothing more is expected; reconciliation skips them.
FINAL_STATUSES = {
    PaymentStatus.RECEIVED,
    PaymentStatus.RECEIVED_IN_CASH,
    PaymentStatus.REFUNDED,
    PaymentStatus.DUNNING_RECEIVED,
    PaymentStatus.ABANDONED,
}


@dataclass(frozen=True)
class Rule:
    """What one event says by its name alone (its payload's status and refunds add more facts)."""

    event: str
    group: str
    status: PaymentStatus  # the status its payload typically carries (the simulator sends this one)
    action: str  # what it does to money, in words, for the docs
    paid: int = NOT_PAID
    chargeback: int = NO_CHARGEBACK
    removal: int = NOT_REMOVED
    full_refund: bool = False
    notify: str | None = None  # notification sent on this event itself (level changes notify on their own)
    # For the table-driven test: events delivered before it, and the level after it (in % of the value).
    before: tuple[str, ...] = ()
    level_after: int = 0


SPLIT_EVENTS = ("PAYMENT_SPLIT_CANCELLED", "PAYMENT_SPLIT_DIVERGENCE_BLOCK", "PAYMENT_SPLIT_DIVERGENCE_BLOCK_FINISHED")
RULES: tuple[Rule, ...] = (
    Rule("PAYMENT_CREATED", "lifecycle", PaymentStatus.PENDING, "record"),
    Rule("PAYMENT_UPDATED", "lifecycle", PaymentStatus.PENDING, "record (value/due date changes apply while unpaid)"),
    Rule(
        "PAYMENT_CONFIRMED",
        "lifecycle",
        PaymentStatus.CONFIRMED,
        "credit the value if ASAAS_CREDIT_ON=CONFIRMED, else record",
        paid=CONFIRMED,
    ),
    Rule(
        "PAYMENT_RECEIVED",
        "lifecycle",
        PaymentStatus.RECEIVED,
        "credit value minus refunds",
        paid=RECEIVED,
        level_after=100,
    ),
    Rule(
        "PAYMENT_ANTICIPATED",
        "lifecycle",
        PaymentStatus.CONFIRMED,
        "credit (the money was released to us early)",
        paid=RECEIVED,
        before=("PAYMENT_CONFIRMED",),
        level_after=100,
    ),
    Rule("PAYMENT_OVERDUE", "lifecycle", PaymentStatus.OVERDUE, "record, notify", notify="payment_overdue"),
    Rule(
        "PAYMENT_DELETED",
        "lifecycle",
        PaymentStatus.PENDING,
        "level 0 (reverse anything credited)",
        removal=REMOVED,
        before=("PAYMENT_CREATED",),
    ),
    Rule(
        "PAYMENT_RESTORED",
        "lifecycle",
        PaymentStatus.PENDING,
        "back to the paid amount if the payment says it is paid",
        removal=RESTORED,
        before=("PAYMENT_DELETED",),
    ),
    Rule(
        "PAYMENT_RECEIVED_IN_CASH_UNDONE",
        "lifecycle",
        PaymentStatus.PENDING,
        "level 0: reverse the credit",
        removal=REMOVED,
        before=("PAYMENT_RECEIVED",),
    ),
    Rule("PAYMENT_AUTHORIZED", "card", PaymentStatus.AUTHORIZED, "record"),
    Rule("PAYMENT_AWAITING_RISK_ANALYSIS", "card", PaymentStatus.AWAITING_RISK_ANALYSIS, "record"),
    Rule("PAYMENT_APPROVED_BY_RISK_ANALYSIS", "card", PaymentStatus.PENDING, "record (CONFIRMED/RECEIVED follow)"),
    Rule(
        "PAYMENT_REPROVED_BY_RISK_ANALYSIS",
        "card",
        PaymentStatus.PENDING,
        "record, notify refusal",
        notify="payment_refused",
    ),
    Rule(
        "PAYMENT_CREDIT_CARD_CAPTURE_REFUSED",
        "card",
        PaymentStatus.PENDING,
        "record, notify refusal",
        notify="payment_refused",
    ),
    Rule(
        "PAYMENT_REFUND_IN_PROGRESS",
        "refund",
        PaymentStatus.REFUND_IN_PROGRESS,
        "record (money moves on REFUNDED)",
        before=("PAYMENT_RECEIVED",),
        level_after=100,
    ),
    Rule(
        "PAYMENT_REFUNDED",
        "refund",
        PaymentStatus.REFUNDED,
        "level 0: reverse what is still credited",
        full_refund=True,
        before=("PAYMENT_RECEIVED",),
    ),
    Rule(
        "PAYMENT_PARTIALLY_REFUNDED",
        "refund",
        PaymentStatus.RECEIVED,
        "level value minus the refunds done: reverse the refunded part",
        before=("PAYMENT_RECEIVED",),
        level_after=60,
    ),
    Rule(
        "PAYMENT_REFUND_DENIED",
        "refund",
        PaymentStatus.RECEIVED,
        "record (the credit stays)",
        before=("PAYMENT_RECEIVED", "PAYMENT_REFUND_IN_PROGRESS"),
        level_after=100,
    ),
    Rule(
        "PAYMENT_CHARGEBACK_REQUESTED",
        "chargeback",
        PaymentStatus.CHARGEBACK_REQUESTED,
        "level 0: reverse the credit (debt if spent)",
        chargeback=CHARGEBACK_OPEN,
        before=("PAYMENT_RECEIVED",),
    ),
    Rule(
        "PAYMENT_CHARGEBACK_DISPUTE",
        "chargeback",
        PaymentStatus.CHARGEBACK_DISPUTE,
        "record (the chargeback already took the level to 0)",
        chargeback=CHARGEBACK_OPEN,
        before=("PAYMENT_RECEIVED", "PAYMENT_CHARGEBACK_REQUESTED"),
    ),
    Rule(
        "PAYMENT_AWAITING_CHARGEBACK_REVERSAL",
        "chargeback",
        PaymentStatus.AWAITING_CHARGEBACK_REVERSAL,
        "dispute won: back to the paid amount",
        chargeback=CHARGEBACK_WON,
        before=("PAYMENT_RECEIVED", "PAYMENT_CHARGEBACK_REQUESTED"),
        level_after=100,
    ),
    Rule(
        "PAYMENT_DUNNING_REQUESTED", "dunning", PaymentStatus.DUNNING_REQUESTED, "record", before=("PAYMENT_OVERDUE",)
    ),
    Rule(
        "PAYMENT_DUNNING_RECEIVED",
        "dunning",
        PaymentStatus.DUNNING_RECEIVED,
        "credit the value (paid through dunning)",
        paid=RECEIVED,
        before=("PAYMENT_OVERDUE",),
        level_after=100,
    ),
    Rule("PAYMENT_CHECKOUT_VIEWED", "views", PaymentStatus.PENDING, "record"),
    Rule("PAYMENT_BANK_SLIP_VIEWED", "views", PaymentStatus.PENDING, "record"),
    # Split events concern how a received payment is shared between Asaas accounts; none moves this wallet.
    *(
        Rule(event, "split", PaymentStatus.RECEIVED, "record", before=("PAYMENT_RECEIVED",), level_after=100)
        for event in (
            "PAYMENT_SPLIT_CANCELLED",
            "PAYMENT_SPLIT_DIVERGENCE_BLOCK",
            "PAYMENT_SPLIT_DIVERGENCE_BLOCK_FINISHED",
        )
    ),
)
EVENTS: dict[str, Rule] = {rule.event: rule for rule in RULES}


@dataclass(frozen=True)
class Facts:
    """What one delivery (or one fetch) says about a payment."""

    status: str | None
    value: Cents | None
    paid: int
    chargeback: int
    removal: int
    refunded: Cents


class BadPayment(ValueError):
    """The payment object cannot be read (e.g. a value that is not a number)."""


def _cents(value: Any) -> Cents | None:
    if value is None:
        return None
    try:
        return reais_to_cents(value)
    except InvalidAmount as exc:
        raise BadPayment(str(exc)) from exc


def refunds_done(payment: dict[str, Any]) -> Cents:
    refunds = payment.get("refunds") or []
    if not isinstance(refunds, list):
        return 0
    return sum(
        _cents(r.get("value")) or 0 for r in refunds if isinstance(r, dict) and r.get("status", "DONE") == "DONE"
    )


def facts_of(event: str | None, payment: dict[str, Any]) -> Facts:
    """The facts in one event (None: a fetched payment with no event) and its payment object."""
    rule = EVENTS.get(event or "")
    status = payment.get("status") if isinstance(payment.get("status"), str) else None
    value = _cents(payment.get("value"))
    paid = max(rule.paid if rule else NOT_PAID, PAID_BY_STATUS.get(status or "", NOT_PAID))
    chargeback = max(rule.chargeback if rule else NO_CHARGEBACK, CHARGEBACK_BY_STATUS.get(status or "", 0))
    removal = max(rule.removal if rule else NOT_REMOVED, REMOVED if payment.get("deleted") is True else NOT_REMOVED)
    refunded = refunds_done(payment)
    if (rule and rule.full_refund) or status == PaymentStatus.REFUNDED:
        refunded = max(refunded, value or 0)
    return Facts(status, value, paid, chargeback, removal, refunded)


@dataclass
class State:
    """The merged facts of one payment (the columns of the Payment row)."""

    value: Cents
    paid: int = NOT_PAID
    chargeback: int = NO_CHARGEBACK
    removal: int = NOT_REMOVED
    refunded: Cents = 0

    def merge(self, facts: Facts) -> State:
        value = self.value
        # The value may change while the charge is unpaid; once paid it is fixed.
        if facts.value is not None and (facts.paid or not self.paid):
            value = facts.value
        return State(
            value=value,
            paid=max(self.paid, facts.paid),
            chargeback=max(self.chargeback, facts.chargeback),
            removal=max(self.removal, facts.removal),
            refunded=max(self.refunded, facts.refunded),
        )


def level(state: State, credit_on: str = PaymentStatus.RECEIVED) -> Cents:
    """What the wallet should hold for this payment now (`credit_on`: ASAAS_CREDIT_ON, CONFIRMED or RECEIVED)."""
    needed = CONFIRMED if credit_on == PaymentStatus.CONFIRMED else RECEIVED
    if state.paid < needed or state.removal == REMOVED or state.chargeback == CHARGEBACK_OPEN:
        return 0
    return max(0, state.value - state.refunded)


def movement_reason(before: State, after: State, up: bool) -> str:
    """The ledger reason a person reads for a level change."""
    if up:
        if before.chargeback == CHARGEBACK_OPEN and after.chargeback == CHARGEBACK_WON:
            return "chargeback_reversed"
        if before.removal == REMOVED and after.removal == RESTORED:
            return "payment_restored"
        return "top_up"
    if after.chargeback == CHARGEBACK_OPEN:
        return "chargeback"
    if after.removal == REMOVED:
        return "payment_undone"
    return "refund"


def _facts_added(rule: Rule) -> str:
    parts = []
    if rule.paid:
        parts.append("paid: " + ("confirmed" if rule.paid == CONFIRMED else "received"))
    if rule.chargeback:
        parts.append("chargeback: " + ("open" if rule.chargeback == CHARGEBACK_OPEN else "won"))
    if rule.removal:
        parts.append("removal: " + ("removed" if rule.removal == REMOVED else "restored"))
    if rule.full_refund:
        parts.append("refunded: all")
    return ", ".join(parts) or "-"


def markdown_table() -> str:
    """The table in docs/payments.md (a test checks the two agree)."""
    lines = [
        "| event | group | status it carries | facts its name adds | wallet | notification | test: after | level |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        after = ", ".join(e.removeprefix("PAYMENT_") for e in rule.before) or "-"
        lines.append(
            f"| `{rule.event}` | {rule.group} | {rule.status} | {_facts_added(rule)} | {rule.action} "
            f"| {rule.notify or '-'} | {after} | {rule.level_after}% |"
        )
    return "\n".join(lines)

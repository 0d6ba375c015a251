"""The 29 PAYMENT_* webhook events, mapped onto a wallet *level* rather than a stream of deltas.

Over 500 lines on purpose: most of it is the one table of 29 rules (and the docs table generated from
it), which reads best whole, beside the few pure functions that interpret it.

Each event (and each `GET /payments/{id}` during reconciliation) contributes facts
about one payment: how far it got paid, whether a chargeback is open or was won,
whether it was deleted or restored, how much was refunded, its value. Facts are
merged into the Payment row by taking the maximum of each, so merging is
commutative and idempotent: any order of deliveries, and any number of copies,
ends in the same facts. The amount the wallet should hold for the payment
(`level`) and the part of it that is frozen (`frozen`: a refund in progress or
an open chargeback) are functions of those facts and the site's `CreditPolicy`
alone; the webhook moves the wallet by `level - payment.credited` and freezes
`frozen - payment.frozen`. docs/payments.md shows the table below; the tests
walk every row of it.

Over 400 lines on purpose: about half is the RULES table (data, one entry per
event), kept beside the pure functions that read it so the import-linter's
"pure rules" contract covers both in one module.
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
# chargeback_stage. WON: the dispute was won but the acquirer has not sent the money back yet (still frozen);
# REVERSED: the money is back; LOST: the chargeback took the money (REVERSED and LOST never both happen).
NO_CHARGEBACK, CHARGEBACK_OPEN, CHARGEBACK_WON, CHARGEBACK_REVERSED, CHARGEBACK_LOST = 0, 1, 2, 3, 4
# removal_stage
NOT_REMOVED, REMOVED, RESTORED = 0, 1, 2
# refund_stage: a refund was asked for and is not final yet / every refund asked for is final (done or cancelled)
NO_REFUND, REFUND_PENDING, REFUND_SETTLED = 0, 1, 2

PAID_BY_STATUS = {
    PaymentStatus.CONFIRMED: CONFIRMED,
    PaymentStatus.RECEIVED: RECEIVED,
    PaymentStatus.DUNNING_RECEIVED: RECEIVED,
}
CHARGEBACK_BY_STATUS = {
    PaymentStatus.CHARGEBACK_REQUESTED: CHARGEBACK_OPEN,
    PaymentStatus.CHARGEBACK_DISPUTE: CHARGEBACK_OPEN,
    PaymentStatus.AWAITING_CHARGEBACK_REVERSAL: CHARGEBACK_WON,
}
# payment.chargeback.status, when the payload carries it (docs.asaas.com: chargebacks). DONE: the chargeback
# was carried out, i.e. the money went to the payer.
CHARGEBACK_BY_OBJECT = {
    "REQUESTED": CHARGEBACK_OPEN,
    "IN_DISPUTE": CHARGEBACK_OPEN,
    "DISPUTE_LOST": CHARGEBACK_LOST,
    "REVERSED": CHARGEBACK_REVERSED,
    "DONE": CHARGEBACK_LOST,
}
# Refund statuses (docs.asaas.com: refunds): only DONE has moved money; CANCELLED never will.
REFUND_DONE = "DONE"
REFUND_FINAL = {"DONE", "CANCELLED"}
REFUND_STATUSES_PENDING = {"REFUND_REQUESTED", "REFUND_IN_PROGRESS"}
# Statuses after which nothing is expected soon: reconciliation watches them only rarely, for late refunds and
# chargebacks (payments/watch.py), and not at all once the watch window of their billing type has passed.
FINAL_STATUSES = {
    PaymentStatus.RECEIVED,
    PaymentStatus.RECEIVED_IN_CASH,
    PaymentStatus.REFUNDED,
    PaymentStatus.DUNNING_RECEIVED,
    PaymentStatus.ABANDONED,
    PaymentStatus.DELETED,
}
CREDIT_VALUES = ("gross", "net")  # ASAAS_CREDIT_VALUE
CASH_RECEIPTS = ("review", "credit")  # ASAAS_CASH_RECEIPTS


@dataclass(frozen=True)
class CreditPolicy:
    """How payments turn into wallet money (settings ASAAS_CREDIT_ON, ASAAS_CREDIT_VALUE, ASAAS_CASH_RECEIPTS).

    credit_on: CONFIRMED or RECEIVED; credit_value: gross (the site absorbs Asaas's fee) or net (`netValue`);
    cash_receipts: review (a charge marked received in cash credits nothing until an admin credits it) or
    credit (it credits like a payment; only for sites whose Asaas panel is trusted like the ledger).
    """

    credit_on: str = PaymentStatus.RECEIVED
    credit_value: str = "gross"
    cash_receipts: str = "review"

    @classmethod
    def from_config(cls, config: Any) -> CreditPolicy:
        return cls(config["ASAAS_CREDIT_ON"], config["ASAAS_CREDIT_VALUE"], config["ASAAS_CASH_RECEIPTS"])


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
    refund: int = NO_REFUND
    notify: str | None = None  # notification sent on this event itself (level changes notify on their own)
    # For the table-driven test: events delivered before it, and the level after it (in % of the value).
    before: tuple[str, ...] = ()
    level_after: int = 0
    frozen_after: int = 0


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
        # Asaas advanced money against the charge; the payer has not necessarily paid (an anticipated boleto is not
        # a paid boleto). The payload's status decides, as for any event: RECEIVED credits, anything else does not.
        "PAYMENT_ANTICIPATED",
        "lifecycle",
        PaymentStatus.CONFIRMED,
        "record (an advance, not a payment: credit comes with the payload's RECEIVED)",
        before=("PAYMENT_CONFIRMED",),
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
        "freeze the amount being refunded (money leaves on a DONE refund)",
        refund=REFUND_PENDING,
        before=("PAYMENT_RECEIVED",),
        level_after=100,
        frozen_after=100,
    ),
    Rule(
        "PAYMENT_REFUNDED",
        "refund",
        PaymentStatus.REFUNDED,
        "level value minus DONE refunds (all of it when the payload lists none)",
        full_refund=True,
        refund=REFUND_SETTLED,
        before=("PAYMENT_RECEIVED",),
    ),
    Rule(
        "PAYMENT_PARTIALLY_REFUNDED",
        "refund",
        PaymentStatus.RECEIVED,
        "level value minus the refunds done: reverse the refunded part",
        refund=REFUND_SETTLED,
        before=("PAYMENT_RECEIVED",),
        level_after=60,
    ),
    Rule(
        "PAYMENT_REFUND_DENIED",
        "refund",
        PaymentStatus.RECEIVED,
        "unfreeze (the credit stays)",
        refund=REFUND_SETTLED,
        before=("PAYMENT_RECEIVED", "PAYMENT_REFUND_IN_PROGRESS"),
        level_after=100,
    ),
    Rule(
        "PAYMENT_CHARGEBACK_REQUESTED",
        "chargeback",
        PaymentStatus.CHARGEBACK_REQUESTED,
        "freeze the credit while the dispute lasts (debt if already spent)",
        chargeback=CHARGEBACK_OPEN,
        before=("PAYMENT_RECEIVED",),
        level_after=100,
        frozen_after=100,
    ),
    Rule(
        "PAYMENT_CHARGEBACK_DISPUTE",
        "chargeback",
        PaymentStatus.CHARGEBACK_DISPUTE,
        "keep it frozen; chargeback.status DISPUTE_LOST or DONE: level 0",
        chargeback=CHARGEBACK_OPEN,
        before=("PAYMENT_RECEIVED", "PAYMENT_CHARGEBACK_REQUESTED"),
        level_after=100,
        frozen_after=100,
    ),
    Rule(
        "PAYMENT_AWAITING_CHARGEBACK_REVERSAL",
        "chargeback",
        PaymentStatus.AWAITING_CHARGEBACK_REVERSAL,
        "dispute won, money not back yet: frozen until chargeback.status is REVERSED",
        chargeback=CHARGEBACK_WON,
        before=("PAYMENT_RECEIVED", "PAYMENT_CHARGEBACK_REQUESTED"),
        level_after=100,
        frozen_after=100,
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
    # Added by Asaas on 2026-02-20: an overdue boleto was cancelled; it can no longer be paid.
    Rule(
        "PAYMENT_BANK_SLIP_CANCELLED",
        "boleto",
        PaymentStatus.OVERDUE,
        "record, notify (the boleto can no longer be paid)",
        notify="payment_overdue",
    ),
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
    cash: int = 0  # 1: marked received in cash (no money reached Asaas)
    net_value: Cents | None = None
    refund: int = NO_REFUND
    refund_requested: Cents = 0  # refunds asked for and not cancelled (done or not)


class BadPayment(ValueError):
    """The payment object cannot be read (e.g. a value that is not a number)."""


def _cents(value: Any) -> Cents | None:
    if value is None:
        return None
    try:
        return reais_to_cents(value)
    except InvalidAmount as exc:
        raise BadPayment(str(exc)) from exc


def _refunds(payment: dict[str, Any]) -> list[dict[str, Any]] | None:
    refunds = payment.get("refunds")
    if not isinstance(refunds, list):
        return None
    return [r for r in refunds if isinstance(r, dict)]


def _refund_status(refund: dict[str, Any]) -> str:
    # Payloads made before Asaas gave refunds a status only listed refunds that were done.
    status = refund.get("status", REFUND_DONE)
    return status if isinstance(status, str) else ""


def refunds_done(payment: dict[str, Any]) -> Cents:
    """The refunds that have moved money (status DONE); PENDING, AWAITING_* and CANCELLED change no balance."""
    return sum(_cents(r.get("value")) or 0 for r in _refunds(payment) or [] if _refund_status(r) == REFUND_DONE)


def _refund_facts(rule: Rule | None, status: str | None, payment: dict[str, Any], value: Cents | None):
    """(stage, requested, done) of the payment's refunds."""
    refunds = _refunds(payment)
    done = refunds_done(payment)
    requested = sum(_cents(r.get("value")) or 0 for r in refunds or [] if _refund_status(r) != "CANCELLED")
    pending = any(_refund_status(r) not in REFUND_FINAL for r in refunds or [])
    stage = rule.refund if rule else NO_REFUND
    if pending or status in REFUND_STATUSES_PENDING:
        stage = max(stage, REFUND_PENDING)
    elif refunds:
        stage = max(stage, REFUND_SETTLED)
    if (rule and rule.full_refund) or status == PaymentStatus.REFUNDED:
        if refunds is None:  # no list to read: the whole charge was refunded
            done = max(done, value or 0)
        stage = max(stage, REFUND_SETTLED) if not pending else stage
    if stage == REFUND_PENDING and requested <= done:
        requested = value or 0  # in progress with no amount given: the whole charge is at stake
    return stage, max(requested, done), done


def _chargeback_of(payment: dict[str, Any]) -> int:
    chargeback = payment.get("chargeback")
    status = chargeback.get("status") if isinstance(chargeback, dict) else None
    return CHARGEBACK_BY_OBJECT.get(status, NO_CHARGEBACK) if isinstance(status, str) else NO_CHARGEBACK


def facts_of(event: str | None, payment: dict[str, Any]) -> Facts:
    """The facts in one event (None: a fetched payment with no event) and its payment object."""
    rule = EVENTS.get(event or "")
    status = payment.get("status") if isinstance(payment.get("status"), str) else None
    value = _cents(payment.get("value"))
    net_value = _cents(payment.get("netValue"))
    cash = 1 if status == PaymentStatus.RECEIVED_IN_CASH else 0
    # Marked received in cash: Asaas says no balance was created, whatever the event's name says.
    paid_by_rule = NOT_PAID if cash else (rule.paid if rule else NOT_PAID)
    paid = max(paid_by_rule, PAID_BY_STATUS.get(status or "", NOT_PAID))
    chargeback = max(
        rule.chargeback if rule else NO_CHARGEBACK, CHARGEBACK_BY_STATUS.get(status or "", 0), _chargeback_of(payment)
    )
    removal = max(rule.removal if rule else NOT_REMOVED, REMOVED if payment.get("deleted") is True else NOT_REMOVED)
    refund, requested, refunded = _refund_facts(rule, status, payment, value)
    return Facts(status, value, paid, chargeback, removal, refunded, cash, net_value, refund, requested)


@dataclass
class State:
    """The merged facts of one payment (the columns of the Payment row)."""

    value: Cents
    paid: int = NOT_PAID
    chargeback: int = NO_CHARGEBACK
    removal: int = NOT_REMOVED
    refunded: Cents = 0
    cash: int = 0
    net_value: Cents | None = None
    refund: int = NO_REFUND
    refund_requested: Cents = 0
    cash_approved: bool = False  # an admin credited this cash receipt (Payment.cash_credited_by_id)

    def merge(self, facts: Facts) -> State:
        value, net_value = self.value, self.net_value
        # The value may change while the charge is unpaid; once paid it is fixed.
        if facts.value is not None and (facts.paid or not self.paid):
            value = facts.value
        if facts.net_value is not None and (facts.paid or not self.paid or net_value is None):
            net_value = facts.net_value
        return State(
            value=value,
            paid=max(self.paid, facts.paid),
            chargeback=max(self.chargeback, facts.chargeback),
            removal=max(self.removal, facts.removal),
            refunded=max(self.refunded, facts.refunded),
            cash=max(self.cash, facts.cash),
            net_value=net_value,
            refund=max(self.refund, facts.refund),
            refund_requested=max(self.refund_requested, facts.refund_requested),
            cash_approved=self.cash_approved,
        )


def _counts_as_paid(state: State, policy: CreditPolicy) -> bool:
    needed = CONFIRMED if policy.credit_on == PaymentStatus.CONFIRMED else RECEIVED
    if state.paid >= needed:
        return True
    return bool(state.cash) and (state.cash_approved or policy.cash_receipts == "credit")


def level(state: State, policy: CreditPolicy | None = None) -> Cents:
    """What the wallet should hold for this payment now (frozen or not)."""
    policy = policy or CreditPolicy()
    if not _counts_as_paid(state, policy) or state.removal == REMOVED or state.chargeback == CHARGEBACK_LOST:
        return 0
    use_net = policy.credit_value == "net" and state.net_value is not None and not state.cash
    base = state.net_value if use_net else state.value
    assert base is not None
    return max(0, base - state.refunded)


def frozen(state: State, policy: CreditPolicy | None = None) -> Cents:
    """The part of `level` that must not be spent: all of it while a chargeback is open (or won but not yet
    reversed), the amount being refunded while a refund is in progress."""
    held = level(state, policy)
    if state.chargeback in (CHARGEBACK_OPEN, CHARGEBACK_WON):
        return held
    if state.refund == REFUND_PENDING:
        return min(held, max(0, state.refund_requested - state.refunded))
    return 0


def settled(state: State) -> bool:
    """Whether nothing about this payment's money is still on its way (no refund or chargeback open)."""
    return state.refund != REFUND_PENDING and state.chargeback not in (CHARGEBACK_OPEN, CHARGEBACK_WON)


def movement_reason(before: State, after: State, up: bool) -> str:
    """The ledger reason a person reads for a level change."""
    if up:
        if before.removal == REMOVED and after.removal == RESTORED:
            return "payment_restored"
        if after.cash and not after.paid:
            return "cash_top_up"
        return "top_up"
    if after.chargeback == CHARGEBACK_LOST:
        return "chargeback"
    if after.removal == REMOVED:
        return "payment_undone"
    return "refund"


def freeze_reason(state: State) -> str:
    """The ledger reason of a freeze: what the money is frozen for."""
    return "frozen_chargeback" if state.chargeback in (CHARGEBACK_OPEN, CHARGEBACK_WON) else "frozen_refund"


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
    if rule.refund:
        parts.append("refund: " + ("pending" if rule.refund == REFUND_PENDING else "settled"))
    return ", ".join(parts) or "-"


def markdown_table() -> str:
    """The table in docs/payments.md (a test checks the two agree)."""
    lines = [
        "| event | group | status it carries | facts its name adds | wallet | notification | test: after | level "
        "| frozen |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        after = ", ".join(e.removeprefix("PAYMENT_") for e in rule.before) or "-"
        lines.append(
            f"| `{rule.event}` | {rule.group} | {rule.status} | {_facts_added(rule)} | {rule.action} "
            f"| {rule.notify or '-'} | {after} | {rule.level_after}% "
            f"| {rule.frozen_after}% |"
        )
    return "\n".join(lines)

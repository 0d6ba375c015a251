"""Payments: top-ups, Asaas customers, payment links, applying payment state to wallets, reconciliation.

Functions that take a `Session` are parts of one unit of work and never commit.
Functions that take the `Database` and an `AsaasClient` orchestrate several short
units of work around HTTP calls: no transaction is ever open while Asaas (or the
built-in simulator, which lives in the same database) is being called.

Money moves only through `auction.wallet`: a payment's merged facts give the
level the wallet should hold for it (auction.payments.events), and the wallet is
moved by the difference to `Payment.credited` under a row lock on the payment,
so concurrent and out-of-order deliveries serialize and converge.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import clock, wallet
from ..db import Database, DatabaseUnavailable
from ..errors import Invalid, NotFound, ServiceError
from ..models import LedgerTransaction, Payment, PaymentLink, User, WebhookDelivery
from ..money import Cents, cents_to_reais, format_brl
from ..notifications import notify
from ..outbox import Outbox
from .client import AsaasClient, AsaasError
from .events import EVENTS, FINAL_STATUSES, Facts, State, facts_of, level, movement_reason

log = logging.getLogger(__name__)

TOPUP_PREFIX = "topup-"
# How long one request may hold the right to create a user's Asaas customer.
CUSTOMER_CLAIM_TTL = timedelta(seconds=30)
CUSTOMER_WAIT_SECONDS = 15.0
# A NEW top-up whose charge Asaas never got is given up after this long (reconciliation).
ABANDON_AFTER = timedelta(hours=1)
# Reconciliation stops asking about charges older than this (unpaid ones expire long before).
RECONCILE_MAX_AGE = timedelta(days=40)
DUE_DAYS = 3
PROCESSED = {"applied", "recorded", "unmatched"}


class PaymentGatewayError(ServiceError):
    """Asaas (or the simulator) could not be reached or refused the call."""

    code = "payment_unavailable"


@dataclass(frozen=True)
class TopUp:
    payment_id: int
    payment_url: str


@dataclass(frozen=True)
class Applied:
    """The result of applying one event or fetch to a payment."""

    payment_id: int | None
    outcome: str  # applied | recorded | unmatched
    moved: Cents = 0
    detail: str | None = None


# -- amounts ---------------------------------------------------------------------


def validate_topup_amount(amount: object, min_cents: Cents, max_cents: Cents) -> Cents:
    """Whole cents between the configured minimum and maximum, or Invalid with the limits in words."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Invalid("the amount must be a whole number of centavos")
    if amount < min_cents:
        raise Invalid(f"the minimum top-up is {format_brl(min_cents)}", min_cents=min_cents)
    if amount > max_cents:
        raise Invalid(f"the maximum top-up is {format_brl(max_cents)}", max_cents=max_cents)
    return amount


# -- customers -------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerClaim:
    customer_id: str | None  # already known: nothing to do
    claimed: bool  # this caller must create (or find) it
    name: str = ""
    email: str = ""
    cpf_cnpj: str | None = None


def _claim_customer(session: Session, user_id: int) -> CustomerClaim:
    # The user row lock makes "is anyone creating it?" and "I am" one decision.
    user = session.scalars(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if user is None:
        raise NotFound("no such user")
    if user.asaas_customer_id:
        return CustomerClaim(user.asaas_customer_id, False)
    now = clock.now()
    if user.asaas_customer_claimed_at is not None and now - user.asaas_customer_claimed_at < CUSTOMER_CLAIM_TTL:
        return CustomerClaim(None, False)
    if not user.cpf_cnpj:
        raise Invalid("add your CPF or CNPJ to your account before adding money")
    user.asaas_customer_claimed_at = now
    return CustomerClaim(None, True, user.username, user.email, user.cpf_cnpj)


def _store_customer(session: Session, user_id: int, customer_id: str | None) -> None:
    user = session.get(User, user_id, with_for_update=True)
    assert user is not None
    if customer_id and not user.asaas_customer_id:
        user.asaas_customer_id = customer_id
    user.asaas_customer_claimed_at = None


def _customer_in_use(session: Session, customer_id: str, user_id: int) -> bool:
    return session.scalar(select(User.id).where(User.asaas_customer_id == customer_id, User.id != user_id)) is not None


def ensure_customer(db: Database, client: AsaasClient, user_id: int) -> str:
    """The user's Asaas customer id, found (by user id as externalReference, or CPF/CNPJ) or created once.

    A claim on the user row (not a transaction held across HTTP) makes a second,
    concurrent first top-up wait for the first instead of creating a duplicate.
    """
    deadline = time.monotonic() + CUSTOMER_WAIT_SECONDS
    while True:
        claim = db.transaction(_claim_customer, user_id)
        if claim.customer_id:
            return claim.customer_id
        if claim.claimed:
            break
        if time.monotonic() > deadline:
            raise PaymentGatewayError("your payment account is still being set up; try again in a moment")
        time.sleep(0.1)
    customer_id = None
    try:
        reference = str(user_id)
        found = client.find_customers(external_reference=reference)
        if not found and claim.cpf_cnpj:
            found = [
                c
                for c in client.find_customers(cpf_cnpj=claim.cpf_cnpj)
                if not db.transaction(_customer_in_use, c["id"], user_id)
            ]
        if found:
            customer_id = found[0]["id"]
        else:
            created = client.create_customer(
                name=claim.name, cpf_cnpj=claim.cpf_cnpj or "", email=claim.email, external_reference=reference
            )
            customer_id = created["id"]
        log.info("event=asaas_customer user_id=%s customer=%s created=%s", user_id, customer_id, not found)
    except AsaasError as exc:
        raise PaymentGatewayError(f"could not set up your payment account: {exc}") from exc
    finally:
        db.transaction(_store_customer, user_id, customer_id)
    return customer_id


# -- top-ups -------------------------------------------------------------------------


def _new_topup(session: Session, user_id: int, amount: Cents, customer_id: str) -> int:
    now = clock.now()
    payment = Payment(
        user_id=user_id, value=amount, status="NEW", asaas_customer_id=customer_id, created_at=now, updated_at=now
    )
    session.add(payment)
    session.flush()
    payment.external_reference = f"{TOPUP_PREFIX}{payment.id}"
    return payment.id


def _lock_payment(session: Session, payment_id: int) -> Payment:
    payment = session.scalars(
        select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if payment is None:
        raise NotFound("no such payment")
    return payment


def _attach_charge(session: Session, payment_id: int, remote: dict[str, Any]) -> str:
    payment = _lock_payment(session, payment_id)
    if payment.asaas_payment_id is None:
        payment.asaas_payment_id = str(remote["id"])
    payment.invoice_url = remote.get("invoiceUrl") or payment.invoice_url
    payment.billing_type = remote.get("billingType") or payment.billing_type
    if payment.status == "NEW":
        payment.status = remote.get("status") or "PENDING"
    payment.updated_at = clock.now()
    return payment.invoice_url or ""


def create_topup(
    db: Database, client: AsaasClient, *, user_id: int, amount: object, min_cents: Cents, max_cents: Cents
) -> TopUp:
    """Start a wallet top-up: returns the Payment id and the Asaas checkout URL (`invoiceUrl`) to send the user to.

    The Payment row (status NEW, externalReference `topup-{id}`) is committed before
    `POST /payments`, so if the call fails or the process dies, reconciliation finds
    the charge by its reference. Raises Invalid for a bad amount and
    PaymentGatewayError when Asaas cannot be reached.
    """
    cents = validate_topup_amount(amount, min_cents, max_cents)
    customer_id = ensure_customer(db, client, user_id)
    payment_id = db.transaction(_new_topup, user_id, cents, customer_id)
    due = (clock.now() + timedelta(days=DUE_DAYS)).date().isoformat()
    try:
        remote = client.create_payment(
            customer=customer_id,
            value=cents_to_reais(cents),
            due_date=due,
            external_reference=f"{TOPUP_PREFIX}{payment_id}",
            description=f"Wallet top-up #{payment_id}",
        )
    except AsaasError as exc:
        log.warning("event=topup_charge_failed payment_id=%s error=%s", payment_id, exc)
        raise PaymentGatewayError("the payment service did not answer; try again in a minute") from exc
    url = db.transaction(_attach_charge, payment_id, remote)
    log.info("event=topup_created payment_id=%s user_id=%s amount=%s", payment_id, user_id, cents)
    return TopUp(payment_id, url)


# -- applying payment state to wallets ---------------------------------------------------


def _state(payment: Payment) -> State:
    return State(
        value=payment.value,
        paid=payment.paid_stage,
        chargeback=payment.chargeback_stage,
        removal=payment.removal_stage,
        refunded=payment.refunded,
    )


def _store_state(payment: Payment, state: State) -> None:
    payment.value = state.value
    payment.paid_stage = state.paid
    payment.chargeback_stage = state.chargeback
    payment.removal_stage = state.removal
    payment.refunded = state.refunded
    payment.deleted = state.removal == 1


NOTICES: dict[str, tuple[str, str]] = {
    "top_up": ("payment_approved", "Your payment of {value} was approved: {moved} added to your wallet."),
    "payment_restored": ("payment_approved", "Your payment of {value} is valid again: {moved} added to your wallet."),
    "chargeback_reversed": (
        "payment_chargeback_reversed",
        "The chargeback on your payment of {value} was resolved in your favour: {moved} is back in your wallet.",
    ),
    "refund": ("payment_refunded", "{moved} of your payment of {value} was refunded and taken from your wallet."),
    "payment_undone": ("payment_refunded", "Your payment of {value} was undone: {moved} taken from your wallet."),
    "chargeback": (
        "payment_chargeback",
        "A chargeback was opened on your payment of {value}: {moved} taken from your wallet.",
    ),
    "payment_refused": ("payment_refused", "Your card payment of {value} was refused. Nothing was charged."),
    "payment_overdue": ("payment_overdue", "Your top-up of {value} expired without being paid."),
}


def _notice(session: Session, outbox: Outbox, payment: Payment, reason: str, moved: Cents, debt: bool) -> None:
    assert payment.user_id is not None
    kind, template = NOTICES[reason]
    message = template.format(value=format_brl(payment.value), moved=format_brl(moved))
    if debt:
        message += " Your wallet is now negative: add money before bidding again."
    notify(session, outbox, payment.user_id, kind, message, payment_id=payment.id)


def apply_facts(
    session: Session, payment: Payment, facts: Facts | None, outbox: Outbox, *, credit_on: str, event: str | None
) -> Applied:
    """Merge `facts` into the locked `payment` and move its user's wallet to the new level."""
    before = _state(payment)
    after = before.merge(facts) if facts is not None else before
    _store_state(payment, after)
    if facts is not None and facts.status:
        payment.status = facts.status
    if event:
        payment.last_event = event
    payment.updated_at = clock.now()
    if payment.user_id is None:
        return Applied(payment.id, "unmatched", detail="payment not matched to a user")
    target = level(after, credit_on)
    delta = target - payment.credited
    if delta:
        moves = session.scalar(
            select(func.count(LedgerTransaction.id)).where(LedgerTransaction.payment_id == payment.id)
        )
        key = f"pay:{payment.id}:move:{moves}:{payment.credited}->{target}"
        reason = movement_reason(before, after, delta > 0)
        move = wallet.credit if delta > 0 else wallet.reverse
        movement = move(
            session, user_id=payment.user_id, amount=abs(delta), key=key, reason=reason, payment_id=payment.id
        )
        payment.credited = target
        log.info(
            "event=payment_level payment_id=%s user_id=%s from=%s to=%s reason=%s",
            payment.id,
            payment.user_id,
            target - delta,
            target,
            reason,
        )
        outbox.wallet(session, payment.user_id)
        _notice(session, outbox, payment, reason, abs(delta), movement.created_debt)
    rule = EVENTS.get(event or "")
    if rule is not None and rule.notify and not (rule.notify == "payment_overdue" and payment.credited):
        _notice(session, outbox, payment, rule.notify, 0, False)
    return Applied(payment.id, "applied" if delta else "recorded", moved=delta)


# -- webhook deliveries -------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event: str
    payment: dict[str, Any]
    raw_body: str

    @property
    def asaas_payment_id(self) -> str:
        return str(self.payment["id"])


def _insert_delivery(session: Session, delivery: Delivery) -> tuple[int, bool]:
    existing = session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.event_id == delivery.event_id))
    if existing is not None:
        # Atomic increment: concurrent copies of one event must not lose counts.
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == existing).values(attempts=WebhookDelivery.attempts + 1)
        )
        return existing, False
    row = WebhookDelivery(
        event_id=delivery.event_id,
        event=delivery.event[:64],
        asaas_payment_id=delivery.asaas_payment_id[:64],
        raw_body=delivery.raw_body,
        outcome="received",
        received_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row.id, True


def store_delivery(db: Database, delivery: Delivery) -> tuple[int, bool]:
    """Store an authentic delivery (its own committed transaction); returns (row id, first time seen).

    A concurrent copy of the same event id that wins the insert makes this one's retry (Database.run
    retries a duplicate key) find the stored row: a duplicate.
    """
    return db.transaction(_insert_delivery, delivery)


@dataclass(frozen=True)
class PayerInfo:
    """The payer of a link payment as Asaas knows them (to match a user by CPF/CNPJ or email)."""

    customer_id: str | None
    cpf_cnpj: str | None
    email: str | None


def _find_payment(session: Session, payment: dict[str, Any]) -> Payment | None:
    asaas_id = str(payment["id"])
    row = session.scalars(
        select(Payment)
        .where(Payment.asaas_payment_id == asaas_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is not None:
        return row
    reference = payment.get("externalReference")
    if not isinstance(reference, str) or not reference.startswith(TOPUP_PREFIX):
        return None
    row = session.scalars(
        select(Payment)
        .where(Payment.external_reference == reference)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None or row.asaas_payment_id not in (None, asaas_id):
        return None
    row.asaas_payment_id = asaas_id
    return row


def _link_id(payment: dict[str, Any]) -> str | None:
    link_id = payment.get("paymentLink")
    return link_id if isinstance(link_id, str) and link_id else None


def _link_of(session: Session, payment: dict[str, Any]) -> PaymentLink | None:
    link_id = _link_id(payment)
    if link_id is None:
        return None
    return session.scalars(select(PaymentLink).where(PaymentLink.asaas_link_id == link_id)).first()


def _match_user(session: Session, payer: PayerInfo) -> int | None:
    if payer.customer_id:
        user_id = session.scalar(select(User.id).where(User.asaas_customer_id == payer.customer_id))
        if user_id is not None:
            return user_id
    for column, value in ((User.cpf_cnpj, payer.cpf_cnpj), (User.email, (payer.email or "").lower() or None)):
        if value:
            ids = session.scalars(select(User.id).where(func.lower(column) == value)).all()
            if len(ids) == 1:
                return ids[0]
    return None


def _new_link_payment(session: Session, payment: dict[str, Any], link: PaymentLink, payer: PayerInfo) -> Payment:
    """A payment Asaas told us about that this site did not create: kept, matched to a user if possible."""
    now = clock.now()
    user_id = _match_user(session, payer)
    row = Payment(
        user_id=user_id,
        asaas_payment_id=str(payment["id"]),
        payment_link_id=link.id,
        asaas_customer_id=payer.customer_id,
        value=facts_of(None, payment).value or 0,
        billing_type=payment.get("billingType") if isinstance(payment.get("billingType"), str) else None,
        status="PENDING",
        matched=user_id is not None,
        invoice_url=payment.get("invoiceUrl") if isinstance(payment.get("invoiceUrl"), str) else None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    log.info("event=link_payment payment_id=%s matched=%s", row.id, user_id is not None)
    return row


def needs_payer(session: Session, payment: dict[str, Any]) -> bool:
    """True when this is a link payment we do not know yet (the payer must be fetched to match a user)."""
    if _link_of(session, payment) is None:
        return False
    asaas_id = str(payment["id"])
    return session.scalar(select(Payment.id).where(Payment.asaas_payment_id == asaas_id)) is None


def process_delivery(
    session: Session,
    delivery_id: int,
    outbox: Outbox,
    *,
    credit_on: str,
    payer: PayerInfo | None = None,
    force: bool = False,
) -> Applied:
    """Apply one stored delivery: lock it, then its payment, then move the wallet to the new level."""
    row = session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound("no such delivery")
    if row.outcome in PROCESSED and not force:
        return Applied(None, "duplicate")
    body = json.loads(row.raw_body)
    payment = body["payment"]
    facts = facts_of(row.event, payment)
    target = _find_payment(session, payment)
    link = _link_of(session, payment) if target is None else None
    if link is not None:
        target = _new_link_payment(session, payment, link, payer or PayerInfo(None, None, None))
    if target is None:
        result = Applied(None, "unmatched", detail="unknown payment")
    else:
        result = apply_facts(session, target, facts, outbox, credit_on=credit_on, event=row.event)
    row.outcome = result.outcome
    row.detail = result.detail
    row.processed_at = clock.now()
    return result


def mark_failed(session: Session, delivery_id: int, detail: str) -> None:
    row = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if row is not None:
        row.outcome = "failed"
        row.detail = detail[:255]
        row.processed_at = clock.now()


def fetch_payer(client: AsaasClient, payment: dict[str, Any]) -> PayerInfo:
    customer_id = payment.get("customer") if isinstance(payment.get("customer"), str) else None
    if not customer_id:
        return PayerInfo(None, None, None)
    try:
        customer = client.get_customer(customer_id)
    except AsaasError as exc:
        log.warning("event=payer_lookup_failed customer=%s error=%s", customer_id, type(exc).__name__)
        return PayerInfo(customer_id, None, None)
    digits = "".join(c for c in str(customer.get("cpfCnpj") or "") if c.isdigit()) or None
    return PayerInfo(customer_id, digits, customer.get("email") or None)


def handle_delivery(
    db: Database, client: AsaasClient, delivery_id: int, payment: dict[str, Any], *, credit_on: str, force: bool = False
) -> tuple[Applied, Outbox]:
    """Process a stored delivery (fetching the payer first for an unknown link payment)."""
    # Only a payment made through a link may need its payer fetched: no transaction for the others.
    payer = fetch_payer(client, payment) if _link_id(payment) and db.transaction(needs_payer, payment) else None
    outbox = Outbox()
    try:
        # Two first events of one link payment racing to create its row: Database.run retries the
        # duplicate key and the retry finds the row the other one stored.
        result = db.transaction(process_delivery, delivery_id, outbox, credit_on=credit_on, payer=payer, force=force)
    except DatabaseUnavailable:
        raise  # nothing can be recorded now; the caller asks Asaas to redeliver
    except Exception as exc:
        if isinstance(exc, ServiceError | AsaasError):
            detail = str(exc)
        else:
            detail = type(exc).__name__
            log.exception("event=webhook_processing_failed delivery_id=%s", delivery_id)
        db.transaction(mark_failed, delivery_id, detail)
        return Applied(None, "failed", detail=detail), Outbox()
    return result, outbox


def _delivery_payment(session: Session, delivery_id: int) -> tuple[str, dict[str, Any]]:
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise NotFound("no such delivery")
    return row.event_id, json.loads(row.raw_body)["payment"]


def reprocess_delivery(
    db: Database, client: AsaasClient, delivery_id: int, *, credit_on: str
) -> tuple[Applied, Outbox]:
    """Run a stored delivery through the mapping again (safe: the level makes it idempotent)."""
    event_id, payment = db.transaction(_delivery_payment, delivery_id)
    log.info("event=delivery_reprocess delivery_id=%s event_id=%s", delivery_id, event_id)
    return handle_delivery(db, client, delivery_id, payment, credit_on=credit_on, force=True)


def delivery_id_for_event(session: Session, event_id: str) -> int:
    row_id = session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id))
    if row_id is None:
        raise NotFound(f"no delivery with event id {event_id}")
    return row_id


# -- reconciliation ------------------------------------------------------------------------


def _open_payments(session: Session) -> list[tuple[int, str | None, str | None]]:
    rows = session.execute(
        select(Payment.id, Payment.asaas_payment_id, Payment.external_reference)
        .where(
            Payment.status.not_in(FINAL_STATUSES),
            Payment.deleted.is_(False),
            Payment.created_at > clock.now() - RECONCILE_MAX_AGE,
        )
        .order_by(Payment.id)
    ).all()
    return [(r.id, r.asaas_payment_id, r.external_reference) for r in rows]


def _apply_fetched(session: Session, payment_id: int, remote: dict[str, Any] | None, outbox: Outbox, credit_on: str):
    payment = _lock_payment(session, payment_id)
    if remote is None:
        if payment.status == "NEW" and clock.now() - payment.created_at > ABANDON_AFTER:
            payment.status = "ABANDONED"
            payment.updated_at = clock.now()
            return Applied(payment.id, "abandoned")
        return Applied(payment.id, "recorded")
    if payment.asaas_payment_id is None:
        payment.asaas_payment_id = str(remote["id"])
        payment.invoice_url = remote.get("invoiceUrl") or payment.invoice_url
    return apply_facts(session, payment, facts_of(None, remote), outbox, credit_on=credit_on, event=None)


def reconcile(db: Database, client: AsaasClient, *, credit_on: str) -> tuple[list[Applied], Outbox]:
    """Fetch every non-final payment from Asaas and apply its state through the same mapping."""
    results: list[Applied] = []
    outbox = Outbox()
    for payment_id, asaas_id, reference in db.transaction(_open_payments):
        try:
            if asaas_id:
                remote: dict[str, Any] | None = client.get_payment(asaas_id)
            else:
                remote = next(iter(client.find_payments(reference or "")), None)
        except AsaasError as exc:
            log.warning("event=reconcile_fetch_failed payment_id=%s error=%s", payment_id, exc)
            continue
        result = db.transaction(_apply_fetched, payment_id, remote, outbox, credit_on)
        if result.moved or result.outcome == "abandoned":
            log.info(
                "event=reconcile_corrected payment_id=%s outcome=%s moved=%s", payment_id, result.outcome, result.moved
            )
        results.append(result)
    return results, outbox


# -- reads and admin actions for pages ----------------------------------------------------------


def list_user_payments(session: Session, user_id: int, limit: int = 100) -> list[Payment]:
    """The user's top-ups and link payments, newest first (status, value, credited, refunded)."""
    return list(
        session.scalars(select(Payment).where(Payment.user_id == user_id).order_by(Payment.id.desc()).limit(limit))
    )


def list_deliveries(
    session: Session, *, outcome: str | None = None, limit: int = 100, before_id: int | None = None
) -> list[WebhookDelivery]:
    """Stored webhook deliveries, newest first; filter by outcome; page with `before_id`."""
    statement = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if outcome:
        statement = statement.where(WebhookDelivery.outcome == outcome)
    if before_id:
        statement = statement.where(WebhookDelivery.id < before_id)
    return list(session.scalars(statement))


def get_delivery(session: Session, delivery_id: int) -> dict[str, Any]:
    """One delivery with its raw body as received (the token is a header and is never stored)."""
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise NotFound("no such delivery")
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event": row.event,
        "asaas_payment_id": row.asaas_payment_id,
        "outcome": row.outcome,
        "detail": row.detail,
        "attempts": row.attempts,
        "received_at": clock.isoformat(row.received_at),
        "processed_at": clock.isoformat(row.processed_at),
        "raw_body": row.raw_body,
    }


def list_unmatched(session: Session, limit: int = 100) -> dict[str, list[Any]]:
    """Money nobody could be matched to: link payments without a user, and deliveries for unknown payments."""
    payments = list(
        session.scalars(select(Payment).where(Payment.user_id.is_(None)).order_by(Payment.id.desc()).limit(limit))
    )
    deliveries = list_deliveries(session, outcome="unmatched", limit=limit)
    return {"payments": payments, "deliveries": deliveries}


def assign_unmatched(session: Session, payment_id: int, user_id: int, outbox: Outbox, *, credit_on: str) -> Applied:
    """An admin gives an unmatched payment to a user; the wallet moves to the payment's level at once."""
    payment = _lock_payment(session, payment_id)
    if payment.user_id is not None:
        raise Invalid("this payment already belongs to a user")
    if session.get(User, user_id) is None:
        raise NotFound("no such user")
    payment.user_id = user_id
    payment.matched = True
    log.info("event=payment_assigned payment_id=%s user_id=%s", payment_id, user_id)
    return apply_facts(session, payment, None, outbox, credit_on=credit_on, event=None)


def _store_link(session: Session, remote: dict[str, Any], name: str, value: Cents, admin_id: int) -> PaymentLink:
    link = PaymentLink(
        asaas_link_id=str(remote["id"]),
        name=name,
        value=value,
        url=remote.get("url"),
        active=bool(remote.get("active", True)),
        created_by_id=admin_id,
        created_at=clock.now(),
    )
    session.add(link)
    session.flush()
    return link


def create_payment_link(
    db: Database, client: AsaasClient, *, admin_id: int, name: str, amount: object, min_cents: Cents, max_cents: Cents
) -> PaymentLink:
    """Admins: a DETACHED Asaas payment link for a fixed top-up amount; payments through it are matched by payer."""
    cents = validate_topup_amount(amount, min_cents, max_cents)
    name = (name or "").strip()[:120] or f"Wallet top-up {format_brl(cents)}"
    try:
        remote = client.create_payment_link(name=name, value=cents_to_reais(cents), description="Top up your wallet")
    except AsaasError as exc:
        raise PaymentGatewayError(f"could not create the payment link: {exc}") from exc
    link = db.transaction(_store_link, remote, name, cents, admin_id)
    log.info("event=payment_link_created link_id=%s value=%s", link.id, cents)
    return link


def list_payment_links(session: Session) -> list[PaymentLink]:
    return list(session.scalars(select(PaymentLink).order_by(PaymentLink.id.desc())))

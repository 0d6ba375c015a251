"""Wallet top-ups: a Payment row first, then the Asaas charge, then the checkout URL for the user.

No transaction is ever open while Asaas (or the built-in simulator, which lives in
the same database) is being called.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from .. import clock
from ..db import Database
from ..errors import Invalid
from ..models import Payment
from ..money import Cents, cents_to_reais, format_brl
from .client import AsaasClient, AsaasError, asaas_date
from .customers import ensure_customer
from .errors import PaymentGatewayError
from .events import PaymentStatus
from .levels import lock_payment
from .watch import BACKOFF

log = logging.getLogger(__name__)

TOPUP_PREFIX = "topup-"
DUE_DAYS = 3
# What the payer may choose on the wallet page; the charge is created with that billingType, so our own
# page can show the PIX QR code or the boleto line (auction.payments.instructions).
BILLING_TYPES = ("PIX", "BOLETO", "CREDIT_CARD")


@dataclass(frozen=True)
class TopUpLimits:
    """The smallest and largest top-up (TOPUP_MIN_CENTS / TOPUP_MAX_CENTS)."""

    min_cents: Cents
    max_cents: Cents

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TopUpLimits:
        return cls(config["TOPUP_MIN_CENTS"], config["TOPUP_MAX_CENTS"])


@dataclass(frozen=True)
class StartTopUp:
    user_id: int
    amount: object  # as the user sent it: validated into cents by the use case
    limits: TopUpLimits
    billing_type: object = "PIX"  # as the user sent it: one of BILLING_TYPES
    # Where Asaas's own page sends the payer back (callback.successUrl); "{id}" becomes the payment id.
    return_url: str | None = None


@dataclass(frozen=True)
class TopUp:
    payment_id: int
    payment_url: str  # Asaas's invoice page
    billing_type: str


def validate_billing_type(billing_type: object) -> str:
    if billing_type not in BILLING_TYPES:
        raise Invalid("choose PIX, boleto or card", field="billing_type")
    return str(billing_type)


def validate_topup_amount(amount: object, limits: TopUpLimits) -> Cents:
    """Whole cents between the configured minimum and maximum, or Invalid with the limits in words."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Invalid("the amount must be a whole number of centavos")
    if amount < limits.min_cents:
        raise Invalid(f"the minimum top-up is {format_brl(limits.min_cents)}", min_cents=limits.min_cents)
    if amount > limits.max_cents:
        raise Invalid(f"the maximum top-up is {format_brl(limits.max_cents)}", max_cents=limits.max_cents)
    return amount


def topup_reference(payment_id: int) -> str:
    """The externalReference a top-up's charge carries (how reconciliation finds a charge we never heard of)."""
    return f"{TOPUP_PREFIX}{payment_id}"


def _new_topup(session: Session, user_id: int, amount: Cents, customer_id: str, billing_type: str) -> int:
    now = clock.now()
    payment = Payment(
        user_id=user_id,
        value=amount,
        billing_type=billing_type,
        status=PaymentStatus.NEW,
        asaas_customer_id=customer_id,
        created_at=now,
        updated_at=now,
        # Webhook-first: reconciliation asks about it only if no webhook came (auction.payments.watch).
        next_check_at=now + BACKOFF[0],
    )
    session.add(payment)
    session.flush()
    payment.external_reference = topup_reference(payment.id)
    return payment.id


def _attach_charge(session: Session, payment_id: int, remote: dict[str, Any]) -> str:
    payment = lock_payment(session, payment_id)
    if payment.asaas_payment_id is None:
        payment.asaas_payment_id = str(remote["id"])
    payment.invoice_url = remote.get("invoiceUrl") or payment.invoice_url
    payment.billing_type = remote.get("billingType") or payment.billing_type
    if payment.status == PaymentStatus.NEW:
        payment.status = remote.get("status") or PaymentStatus.PENDING
    payment.updated_at = clock.now()
    return payment.invoice_url or ""


def create_topup(db: Database, client: AsaasClient, command: StartTopUp) -> TopUp:
    """Start a wallet top-up: returns the Payment id and the Asaas checkout URL (`invoiceUrl`) to send the user to.

    The Payment row (status NEW, externalReference `topup-{id}`) is committed before
    `POST /payments`, so if the call fails or the process dies, reconciliation finds
    the charge by its reference. Raises Invalid for a bad amount and
    PaymentGatewayError when Asaas cannot be reached.
    """
    user_id = command.user_id
    cents = validate_topup_amount(command.amount, command.limits)
    billing_type = validate_billing_type(command.billing_type)
    customer_id = ensure_customer(db, client, user_id)
    payment_id = db.transaction(_new_topup, user_id, cents, customer_id, billing_type)
    due = asaas_date(clock.now() + timedelta(days=DUE_DAYS))
    try:
        remote = client.create_payment(
            customer=customer_id,
            value=cents_to_reais(cents),
            due_date=due,
            external_reference=topup_reference(payment_id),
            # Asaas shows it to the payer on its own Portuguese invoice page and in their bank app.
            description=f"Depósito na carteira Leilão nº {payment_id}",
            billing_type=billing_type,
            success_url=command.return_url.replace("{id}", str(payment_id)) if command.return_url else None,
        )
    except AsaasError as exc:
        log.warning("event=topup_charge_failed payment_id=%s error=%s", payment_id, exc)
        raise PaymentGatewayError("the payment service did not answer; try again in a minute") from exc
    url = db.transaction(_attach_charge, payment_id, remote)
    log.info("event=topup_created payment_id=%s user_id=%s amount=%s", payment_id, user_id, cents)
    return TopUp(payment_id, url, billing_type)

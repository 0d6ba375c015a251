"""Payment links: fixed-amount Asaas links anyone can pay. Payments through them arrive unknown, by webhook,
and are matched to a user by the payer (Asaas customer, CPF/CNPJ or email), or kept unmatched for an admin."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database
from ..errors import Invalid, NotFound
from ..models import Payment, PaymentLink, User
from ..money import Cents, cents_to_reais, format_brl
from ..uow import UnitOfWork
from .client import AsaasClient, AsaasError
from .errors import PaymentGatewayError
from .events import CreditPolicy, PaymentStatus, facts_of
from .levels import Applied, apply_facts, lock_payment
from .topups import TopUpLimits, validate_topup_amount

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreatePaymentLink:
    admin_id: int
    name: str  # empty: named after the amount
    amount: object  # as the admin sent it: validated into cents by the use case
    limits: TopUpLimits


@dataclass(frozen=True)
class AssignPayment:
    """An admin gives an unmatched payment to a user."""

    payment_id: int
    user_id: int
    policy: CreditPolicy


@dataclass(frozen=True)
class PayerInfo:
    """The payer of a link payment as Asaas knows them (to match a user by CPF/CNPJ or email)."""

    customer_id: str | None
    cpf_cnpj: str | None
    email: str | None


def link_id(payment: dict[str, Any]) -> str | None:
    """The Asaas id of the payment link a payment was made through, if any."""
    value = payment.get("paymentLink")
    return value if isinstance(value, str) and value else None


def link_of(session: Session, payment: dict[str, Any]) -> PaymentLink | None:
    asaas_link_id = link_id(payment)
    if asaas_link_id is None:
        return None
    return session.scalars(select(PaymentLink).where(PaymentLink.asaas_link_id == asaas_link_id)).first()


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


def new_link_payment(session: Session, payment: dict[str, Any], link: PaymentLink, payer: PayerInfo) -> Payment:
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
        status=PaymentStatus.PENDING,
        matched=user_id is not None,
        invoice_url=payment.get("invoiceUrl") if isinstance(payment.get("invoiceUrl"), str) else None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    log.info("event=link_payment payment_id=%s matched=%s", row.id, user_id is not None)
    return row


def fetch_payer(client: AsaasClient, customer_id: str) -> PayerInfo | None:
    """The payer as Asaas knows them (one `GET /customers/{id}`; never inside the webhook); None if Asaas
    could not answer (asked again next round)."""
    try:
        customer = client.get_customer(customer_id)
    except AsaasError as exc:
        log.warning("event=payer_lookup_failed customer=%s error=%s", customer_id, type(exc).__name__)
        return None
    digits = "".join(c for c in str(customer.get("cpfCnpj") or "") if c.isdigit()) or None
    return PayerInfo(customer_id, digits, customer.get("email") or None)


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


def create_payment_link(db: Database, client: AsaasClient, command: CreatePaymentLink) -> PaymentLink:
    """Admins: a DETACHED Asaas payment link for a fixed top-up amount; payments through it are matched by payer."""
    cents = validate_topup_amount(command.amount, command.limits)
    name = (command.name or "").strip()[:120] or f"Depósito na carteira Leilão {format_brl(cents)}"
    try:
        remote = client.create_payment_link(name=name, value=cents_to_reais(cents), description="Top up your wallet")
    except AsaasError as exc:
        raise PaymentGatewayError(f"could not create the payment link: {exc}") from exc
    link = db.transaction(_store_link, remote, name, cents, command.admin_id)
    log.info("event=payment_link_created link_id=%s value=%s", link.id, cents)
    return link


def assign_unmatched(uow: UnitOfWork, command: AssignPayment) -> Applied:
    """An admin gives an unmatched payment to a user; the wallet moves to the payment's level at once."""
    payment = lock_payment(uow.session, command.payment_id)
    if payment.user_id is not None:
        raise Invalid("this payment already belongs to a user")
    if uow.session.get(User, command.user_id) is None:
        raise NotFound("no such user")
    payment.user_id = command.user_id
    payment.matched = True
    log.info("event=payment_assigned payment_id=%s user_id=%s", payment.id, payment.user_id)
    return apply_facts(uow, payment, None, policy=command.policy, event=None)


def match_payer(uow: UnitOfWork, payment_id: int, payer: PayerInfo, policy: CreditPolicy) -> Applied | None:
    """The background payer look-up's answer: give an unmatched link payment to the user it matches, if one."""
    payment = lock_payment(uow.session, payment_id)
    payment.payer_checked_at = clock.now()
    if payment.user_id is not None:
        return None
    user_id = _match_user(uow.session, payer)
    if user_id is None:
        return None
    payment.user_id = user_id
    payment.matched = True
    log.info("event=link_payment_matched payment_id=%s user_id=%s", payment.id, user_id)
    return apply_facts(uow, payment, None, policy=policy, event=None)


def unmatched_to_look_up(session: Session, limit: int) -> list[tuple[int, str]]:
    """Unmatched link payments whose payer was never looked up at Asaas."""
    rows = session.execute(
        select(Payment.id, Payment.asaas_customer_id)
        .where(
            Payment.user_id.is_(None),
            Payment.asaas_customer_id.is_not(None),
            Payment.payer_checked_at.is_(None),
        )
        .order_by(Payment.id)
        .limit(limit)
    ).all()
    return [(r.id, r.asaas_customer_id) for r in rows]


def resolve_payers(db: Database, client: AsaasClient, policy: CreditPolicy, limit: int = 20) -> list[Applied]:
    """Background job: look up the payers the webhook could not match from what we stored, and match them."""
    results = []
    for payment_id, customer_id in db.transaction(unmatched_to_look_up, limit):
        payer = fetch_payer(client, customer_id)
        if payer is None:
            continue
        result = db.run(match_payer, payment_id, payer, policy)
        if result is not None:
            results.append(result)
    return results

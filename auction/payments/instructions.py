"""Paying on our own page: the PIX QR code and copy-paste code, the boleto's line, or the card invoice link.

Asked of Asaas once per charge (`GET /payments/{id}/pixQrCode`, `/identificationField`) when the payer first
opens the page, and kept in `payment_instructions`; a reload costs no request. No transaction is open while
Asaas is called.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock
from ..db import Database
from ..errors import NotFound
from ..models import Payment, PaymentInstructions
from ..money import Cents
from .client import AsaasClient, AsaasError, parse_asaas_datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PayPage:
    """What the pay page shows for one of the user's payments."""

    payment_id: int
    value: Cents
    net_value: Cents | None
    credited: Cents
    frozen: Cents
    status: str
    billing_type: str | None
    invoice_url: str | None
    paid: bool
    kind: str | None = None  # pix | boleto: instructions below; None: pay on the invoice page
    code: str | None = None
    image: str | None = None
    expires_at: datetime | None = None


def _page(session: Session, payment_id: int, user_id: int) -> tuple[PayPage, str | None]:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.user_id != user_id:
        raise NotFound("no such payment")
    stored = session.get(PaymentInstructions, payment_id)
    page = PayPage(
        payment.id,
        payment.value,
        payment.net_value,
        payment.credited,
        payment.frozen,
        payment.status,
        payment.billing_type,
        payment.invoice_url,
        paid=payment.paid_stage > 0 or payment.credited > 0,
        kind=stored.kind if stored else None,
        code=stored.code if stored else None,
        image=stored.image if stored else None,
        expires_at=stored.expires_at if stored else None,
    )
    return page, payment.asaas_payment_id


def _store(session: Session, payment_id: int, kind: str, code: str, image: str | None, expires: str | None) -> None:
    old = session.get(PaymentInstructions, payment_id)
    if old is not None:
        session.delete(old)  # an expired QR code being replaced
        session.flush()
    expires_at = None
    if expires:
        try:
            expires_at = parse_asaas_datetime(expires)
        except ValueError:
            expires_at = None
    session.add(
        PaymentInstructions(
            payment_id=payment_id, kind=kind, code=code, image=image, expires_at=expires_at, fetched_at=clock.now()
        )
    )


def _fetch(client: AsaasClient, billing_type: str | None, asaas_id: str) -> tuple[str, str, str | None, str | None]:
    if billing_type == "PIX":
        qr = client.pix_qr_code(asaas_id)
        return "pix", str(qr.get("payload") or ""), qr.get("encodedImage"), qr.get("expirationDate")
    line = client.identification_field(asaas_id)
    return "boleto", str(line.get("identificationField") or ""), None, None


def pay_page(db: Database, client: AsaasClient, payment_id: int, user_id: int) -> PayPage:
    """The user's payment with how to pay it; fetches the instructions from Asaas the first time."""
    page, asaas_id = db.transaction(_page, payment_id, user_id)
    # A QR code made without a PIX key registered at Asaas expires the same day (docs.asaas.com): fetch anew.
    fresh = page.kind and (page.expires_at is None or page.expires_at > clock.now())
    if fresh or page.paid or not asaas_id or page.billing_type not in ("PIX", "BOLETO"):
        return page
    try:
        kind, code, image, expires = _fetch(client, page.billing_type, asaas_id)
    except AsaasError as exc:
        log.warning("event=pay_instructions_failed payment_id=%s error=%s", payment_id, exc)
        return page  # the invoice link still works
    if code:
        db.transaction(_store, payment_id, kind, code, image, expires)
    return db.transaction(_page, payment_id, user_id)[0]

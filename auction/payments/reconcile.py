"""Reconciliation: ask Asaas about every payment not final yet and apply its state through the same mapping."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database
from ..models import Payment
from ..uow import UnitOfWork
from .client import AsaasClient, AsaasError
from .events import FINAL_STATUSES, PaymentStatus, facts_of
from .levels import Applied, Outcome, apply_facts, lock_payment

log = logging.getLogger(__name__)

# A NEW top-up whose charge Asaas never got is given up after this long.
ABANDON_AFTER = timedelta(hours=1)
# Reconciliation stops asking about charges older than this (unpaid ones expire long before).
RECONCILE_MAX_AGE = timedelta(days=40)


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


def _apply_fetched(uow: UnitOfWork, payment_id: int, remote: dict[str, Any] | None, credit_on: str) -> Applied:
    """Apply what Asaas answered about one payment (None: Asaas does not know its charge)."""
    payment = lock_payment(uow.session, payment_id)
    if remote is None:
        if payment.status == PaymentStatus.NEW and clock.now() - payment.created_at > ABANDON_AFTER:
            payment.status = PaymentStatus.ABANDONED
            payment.updated_at = clock.now()
            return Applied(payment.id, Outcome.ABANDONED)
        return Applied(payment.id, Outcome.RECORDED)
    if payment.asaas_payment_id is None:
        payment.asaas_payment_id = str(remote["id"])
        payment.invoice_url = remote.get("invoiceUrl") or payment.invoice_url
    return apply_facts(uow, payment, facts_of(None, remote), credit_on=credit_on, event=None)


def reconcile(db: Database, client: AsaasClient, *, credit_on: str) -> list[Applied]:
    """Fetch every non-final payment from Asaas and apply its state through the same mapping.

    One unit of work per payment, each delivering its messages when it commits.
    """
    results: list[Applied] = []
    for payment_id, asaas_id, reference in db.transaction(_open_payments):
        try:
            if asaas_id:
                remote: dict[str, Any] | None = client.get_payment(asaas_id)
            else:
                remote = next(iter(client.find_payments(reference or "")), None)
        except AsaasError as exc:
            log.warning("event=reconcile_fetch_failed payment_id=%s error=%s", payment_id, exc)
            continue
        result = db.run(_apply_fetched, payment_id, remote, credit_on)
        if result.corrected:
            log.info(
                "event=reconcile_corrected payment_id=%s outcome=%s moved=%s", payment_id, result.outcome, result.moved
            )
        results.append(result)
    return results

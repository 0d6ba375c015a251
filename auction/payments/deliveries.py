"""Webhook deliveries: stored first (raw body, own transaction), then processed idempotently from what was stored.

Processing can be re-run from the stored delivery (admin page, `flask payments replay`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database, DatabaseUnavailable
from ..errors import NotFound, ServiceError
from ..models import Payment, WebhookDelivery
from ..uow import UnitOfWork
from .client import AsaasClient, AsaasError
from .events import facts_of
from .levels import Applied, Outcome, apply_facts, lock_payment_where
from .links import PayerInfo, fetch_payer, link_id, link_of, needs_payer, new_link_payment
from .topups import TOPUP_PREFIX

log = logging.getLogger(__name__)

# A delivery with one of these outcomes is not processed again unless forced (a redelivery is a duplicate).
PROCESSED = {Outcome.APPLIED, Outcome.RECORDED, Outcome.UNMATCHED}


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event: str
    payment: dict[str, Any]
    raw_body: str

    @property
    def asaas_payment_id(self) -> str:
        return str(self.payment["id"])


@dataclass(frozen=True)
class ProcessDelivery:
    delivery_id: int
    credit_on: str  # ASAAS_CREDIT_ON
    force: bool = False  # process it again even if it was processed before (admin reprocess, replay)


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
        outcome=Outcome.RECEIVED,
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


def _find_payment(session: Session, payment: dict[str, Any]) -> Payment | None:
    asaas_id = str(payment["id"])
    row = lock_payment_where(session, Payment.asaas_payment_id == asaas_id)
    if row is not None:
        return row
    reference = payment.get("externalReference")
    if not isinstance(reference, str) or not reference.startswith(TOPUP_PREFIX):
        return None
    row = lock_payment_where(session, Payment.external_reference == reference)
    if row is None or row.asaas_payment_id not in (None, asaas_id):
        return None
    row.asaas_payment_id = asaas_id
    return row


def process_delivery(uow: UnitOfWork, command: ProcessDelivery, payer: PayerInfo | None = None) -> Applied:
    """Apply one stored delivery: lock it, then its payment, then move the wallet to the new level.

    `payer` is the payer fetched beforehand (outside the transaction) for a link payment not known yet.
    """
    session = uow.session
    row = session.get(WebhookDelivery, command.delivery_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound("no such delivery")
    if row.outcome in PROCESSED and not command.force:
        return Applied(None, Outcome.DUPLICATE)
    body = json.loads(row.raw_body)
    payment = body["payment"]
    facts = facts_of(row.event, payment)
    target = _find_payment(session, payment)
    link = link_of(session, payment) if target is None else None
    if link is not None:
        target = new_link_payment(session, payment, link, payer or PayerInfo(None, None, None))
    if target is None:
        result = Applied(None, Outcome.UNMATCHED, detail="unknown payment")
    else:
        result = apply_facts(uow, target, facts, credit_on=command.credit_on, event=row.event)
    row.outcome = result.outcome
    row.detail = result.detail
    row.processed_at = clock.now()
    return result


def mark_failed(session: Session, delivery_id: int, detail: str) -> None:
    row = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if row is not None:
        row.outcome = Outcome.FAILED
        row.detail = detail[:255]
        row.processed_at = clock.now()


def handle_delivery(db: Database, client: AsaasClient, command: ProcessDelivery, payment: dict[str, Any]) -> Applied:
    """Process a stored delivery (fetching the payer first for an unknown link payment); its messages go out on commit.

    `payment` is the delivery's payment object, to decide without a transaction whether a payer must be fetched.
    A failure is recorded on the delivery and returned as a FAILED result; only DatabaseUnavailable is raised.
    """
    # Only a payment made through a link may need its payer fetched: no transaction for the others.
    payer = fetch_payer(client, payment) if link_id(payment) and db.transaction(needs_payer, payment) else None
    delivery_id = command.delivery_id
    try:
        # Two first events of one link payment racing to create its row: Database.run retries the
        # duplicate key and the retry finds the row the other one stored.
        return db.run(process_delivery, command, payer)
    except DatabaseUnavailable:
        raise  # nothing can be recorded now; the caller asks Asaas to redeliver
    except Exception as exc:
        if isinstance(exc, ServiceError | AsaasError):
            detail = str(exc)
        else:
            detail = type(exc).__name__
            log.exception("event=webhook_processing_failed delivery_id=%s", delivery_id)
        db.transaction(mark_failed, delivery_id, detail)
        return Applied(None, Outcome.FAILED, detail=detail)


def _delivery_payment(session: Session, delivery_id: int) -> tuple[str, dict[str, Any]]:
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise NotFound("no such delivery")
    return row.event_id, json.loads(row.raw_body)["payment"]


def reprocess_delivery(db: Database, client: AsaasClient, delivery_id: int, *, credit_on: str) -> Applied:
    """Run a stored delivery through the mapping again (safe: the level makes it idempotent)."""
    event_id, payment = db.transaction(_delivery_payment, delivery_id)
    log.info("event=delivery_reprocess delivery_id=%s event_id=%s", delivery_id, event_id)
    return handle_delivery(db, client, ProcessDelivery(delivery_id, credit_on, force=True), payment)

"""Webhook deliveries: stored first (raw body, own transaction), then processed idempotently from what was stored.

Every authentic JSON object is stored, whatever its event: Asaas pauses the whole queue after 15 non-200
answers, so a CHECKOUT_*, TRANSFER_*, SUBSCRIPTION_* or unknown event is kept (outcome `stored`) and
acknowledged. A delivery is dispatched by its event's prefix to the processor registered in `PROCESSORS`
(one line per kind: `PROCESSORS["TRANSFER_"] = handle_transfer_delivery`). Processing never calls Asaas:
a link payment's payer is matched from what we stored (its customer id) and otherwise left for the
background job (`payments.payers`). Processing can be re-run from the stored delivery (admin page,
`flask payments replay`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database, DatabaseUnavailable
from ..errors import NotFound, ServiceError
from ..models import Payment, PaymentInstructions, WebhookDelivery
from ..uow import UnitOfWork
from .client import AsaasError
from .events import CreditPolicy, facts_of
from .levels import Applied, Outcome, apply_facts, lock_payment_where
from .links import PayerInfo, link_of, new_link_payment
from .topups import TOPUP_PREFIX

log = logging.getLogger(__name__)

# A delivery with one of these outcomes is not processed again unless forced (a redelivery is a duplicate).
PROCESSED = {Outcome.APPLIED, Outcome.RECORDED, Outcome.UNMATCHED, Outcome.STORED}


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event: str
    body: dict[str, Any]
    raw_body: str

    @property
    def payment(self) -> dict[str, Any] | None:
        payment = self.body.get("payment")
        return payment if isinstance(payment, dict) else None

    @property
    def asaas_payment_id(self) -> str | None:
        payment = self.payment
        return str(payment["id"])[:64] if payment and isinstance(payment.get("id"), str | int) else None


def event_id_of(body: dict[str, Any], raw_body: str) -> str:
    """The Asaas event id; a body without one (not a PAYMENT_* shape we know) is deduplicated by its content."""
    event_id = body.get("id")
    if isinstance(event_id, str | int) and str(event_id) and len(str(event_id)) <= 191:
        return str(event_id)
    return "sha256:" + hashlib.sha256(raw_body.encode()).hexdigest()


@dataclass(frozen=True)
class ProcessDelivery:
    delivery_id: int
    policy: CreditPolicy
    force: bool = False  # process it again even if it was processed before (admin reprocess, replay)


# A processor applies one stored delivery of its kind in one unit of work (run by `handle_delivery`).
Processor = Callable[[UnitOfWork, ProcessDelivery, "WebhookDelivery", dict[str, Any]], Applied]
PROCESSORS: dict[str, Processor] = {}


def processor_for(event: str) -> Processor | None:
    """The processor registered for the longest prefix of `event` (None: store it, nothing else)."""
    matches = [prefix for prefix in PROCESSORS if event.startswith(prefix)]
    return PROCESSORS[max(matches, key=len)] if matches else None


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
        asaas_payment_id=delivery.asaas_payment_id,
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


def process_payment(uow: UnitOfWork, command: ProcessDelivery, row: WebhookDelivery, body: dict[str, Any]) -> Applied:
    """A PAYMENT_* delivery: lock its payment, then move the wallet to the new level (no call to Asaas)."""
    session = uow.session
    payment = body.get("payment")
    if not isinstance(payment, dict) or not isinstance(payment.get("id"), str | int):
        return Applied(None, Outcome.STORED, detail="no payment object")
    facts = facts_of(row.event, payment)
    target = _find_payment(session, payment)
    link = link_of(session, payment) if target is None else None
    if link is not None:
        customer = payment.get("customer") if isinstance(payment.get("customer"), str) else None
        # Matched now by the Asaas customer we stored; otherwise `payments.payers` looks the payer up later.
        target = new_link_payment(session, payment, link, PayerInfo(customer, None, None))
    if target is None:
        return Applied(None, Outcome.UNMATCHED, detail="unknown payment")
    if row.event == "PAYMENT_UPDATED":
        # "With each update to your billing, a new QR Code must be obtained" (docs.asaas.com): the pay page refetches.
        session.execute(delete(PaymentInstructions).where(PaymentInstructions.payment_id == target.id))
    return apply_facts(uow, target, facts, policy=command.policy, event=row.event)


PROCESSORS["PAYMENT_"] = process_payment


def process_delivery(uow: UnitOfWork, command: ProcessDelivery) -> Applied:
    """Apply one stored delivery: lock it, then dispatch it by its event's prefix."""
    session = uow.session
    row = session.get(WebhookDelivery, command.delivery_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound("no such delivery")
    if row.outcome in PROCESSED and not command.force:
        return Applied(None, Outcome.DUPLICATE)
    processor = processor_for(row.event)
    body = json.loads(row.raw_body)
    if processor is None:
        result = Applied(None, Outcome.STORED, detail="no processor for this event")
    else:
        result = processor(uow, command, row, body)
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


def handle_delivery(db: Database, command: ProcessDelivery) -> Applied:
    """Process a stored delivery; its messages go out on commit.

    A failure is recorded on the delivery and returned as a FAILED result; only DatabaseUnavailable is raised.
    """
    try:
        # Two first events of one link payment racing to create its row: Database.run retries the
        # duplicate key and the retry finds the row the other one stored.
        return db.run(process_delivery, command)
    except DatabaseUnavailable:
        raise  # nothing can be recorded now; the caller asks Asaas to redeliver
    except Exception as exc:
        return _record_failure(db, command.delivery_id, exc)


def receive(uow: UnitOfWork, delivery: Delivery, policy: CreditPolicy) -> tuple[int, bool, Applied]:
    """Store a delivery and process it in the same transaction: one commit per webhook when all goes well."""
    delivery_id, first = _insert_delivery(uow.session, delivery)
    return delivery_id, first, process_delivery(uow, ProcessDelivery(delivery_id, policy))


def receive_delivery(db: Database, delivery: Delivery, policy: CreditPolicy) -> tuple[int, bool, Applied]:
    """`receive` in one transaction; if processing fails, the delivery is stored on its own and marked
    failed (two more transactions, only then), so it is kept for the admin page and a re-process."""
    try:
        return db.run(receive, delivery, policy)
    except DatabaseUnavailable:
        raise
    except Exception as exc:
        delivery_id, first = store_delivery(db, delivery)
        return delivery_id, first, _record_failure(db, delivery_id, exc)


def _record_failure(db: Database, delivery_id: int, exc: Exception) -> Applied:
    if isinstance(exc, ServiceError | AsaasError | ValueError):
        detail = f"{type(exc).__name__}: {exc}" if isinstance(exc, ValueError) else str(exc)
    else:
        detail = type(exc).__name__
        log.error("event=webhook_processing_failed delivery_id=%s", delivery_id, exc_info=exc)
    db.transaction(mark_failed, delivery_id, detail)
    return Applied(None, Outcome.FAILED, detail=detail)


def _delivery_event_id(session: Session, delivery_id: int) -> str:
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise NotFound("no such delivery")
    return row.event_id


def reprocess_delivery(db: Database, delivery_id: int, *, policy: CreditPolicy) -> Applied:
    """Run a stored delivery through the mapping again (safe: the level makes it idempotent)."""
    event_id = db.transaction(_delivery_event_id, delivery_id)
    log.info("event=delivery_reprocess delivery_id=%s event_id=%s", delivery_id, event_id)
    return handle_delivery(db, ProcessDelivery(delivery_id, policy, force=True))

"""Webhook deliveries: stored first (raw body), then processed idempotently from what was stored.

Every authentic JSON object is stored, whatever its event: Asaas pauses the whole queue after 15 non-200
answers, so a CHECKOUT_*, TRANSFER_*, SUBSCRIPTION_* or unknown event is kept (outcome `stored`) and
acknowledged. Storing is one upsert on the event id that locks the row, and processing happens in the same
transaction (one commit per webhook); only if processing fails is the delivery stored on its own, marked
failed. A delivery is dispatched by its event's prefix to its processor in `PROCESSORS`: `PAYMENT_` here, and
another area's kinds plugged in by create_app (`plug("TRANSFER_", payouts.deliveries.process_webhook)`), so
payments never imports the area that handles them. Processing never calls Asaas: a link
payment's payer is matched from what we stored (its customer id) and otherwise left for the background job
(`payments.payers`). Processing can be re-run from the stored delivery (admin page, `flask payments
replay`). Every webhook comes through here, so its statements are prepared Core statements built once
(bench.webhook_cpu): no ORM load or flush of the delivery or the payment.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database, DatabaseUnavailable, upsert
from ..errors import NotFound, ServiceError
from ..models import Payment, PaymentInstructions, WebhookDelivery
from ..uow import UnitOfWork
from .client import AsaasError
from .events import CreditPolicy, facts_of
from .levels import Applied, Outcome, apply_facts
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
    def stored_event(self) -> str:
        """The event's name as its column keeps it."""
        return self.event[:64]

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


# A processor applies one stored delivery of its kind (its event's name and body) as a part of a unit of work.
Processor = Callable[[UnitOfWork, ProcessDelivery, str, dict[str, Any]], Applied]
PROCESSORS: dict[str, Processor] = {}


# Another area's processor sees only the stored delivery (its id, whether it is processed again, its body) and
# returns the outcome it recorded on the row, and a detail.
ForeignProcessor = Callable[[UnitOfWork, int, bool, dict[str, Any]], tuple[str, str | None]]


def plug(prefix: str, processor: ForeignProcessor) -> None:
    """Deliveries whose event starts with `prefix` go to another area's `processor` (create_app wires it)."""

    def run(uow: UnitOfWork, command: ProcessDelivery, _event: str, body: dict[str, Any]) -> Applied:
        outcome, detail = processor(uow, command.delivery_id, command.force, body)
        return Applied(None, Outcome(outcome), detail=detail)

    PROCESSORS[prefix] = run


def processor_for(event: str) -> Processor | None:
    """The processor registered for the longest prefix of `event` (None: store it, nothing else)."""
    matches = [prefix for prefix in PROCESSORS if event.startswith(prefix)]
    return PROCESSORS[max(matches, key=len)] if matches else None


@dataclass(frozen=True)
class Stored:
    """A delivery's row as storing it left it: locked until the storing transaction ends."""

    id: int
    first: bool  # this copy made the row; any later one only counted an attempt
    outcome: str


def _store(session: Session, delivery: Delivery) -> Stored:
    """Insert the delivery, or count one more attempt of its event id: one statement either way.

    The upsert locks the row, so a concurrent copy of the same event waits here until this transaction
    ends, then finds what it did (committed: the outcome; rolled back: no row, so it inserts it itself).
    """
    conn = session.connection()
    row = conn.execute(
        _upsert_delivery(conn.dialect.name),
        {
            "event_id": delivery.event_id,
            "event": delivery.stored_event,
            "asaas_payment_id": delivery.asaas_payment_id,
            "raw_body": delivery.raw_body,
            "outcome": Outcome.RECEIVED,
            "attempts": 1,
            "received_at": clock.now(),
        },
    ).one()
    return Stored(row.id, row.attempts == 1, row.outcome)


def store_delivery(db: Database, delivery: Delivery) -> tuple[int, bool]:
    """Store an authentic delivery (its own committed transaction); returns (row id, first time seen)."""
    stored = db.transaction(_store, delivery)
    return stored.id, stored.first


def _set_outcome(session: Session, delivery_id: int, outcome: str, detail: str | None) -> None:
    values = {"outcome": outcome, "detail": detail and detail[:255], "processed_at": clock.now()}
    session.connection().execute(_SET_OUTCOME, {"delivery": delivery_id, **values})


# Built once: constructing a statement and its cache key costs more CPU than running it (bench.webhook_cpu).
_DELIVERIES = WebhookDelivery.__table__
_LOCK_DELIVERY = (
    select(_DELIVERIES.c.event, _DELIVERIES.c.raw_body, _DELIVERIES.c.outcome)
    .where(_DELIVERIES.c.id == bindparam("delivery"))
    .with_for_update()
)
_SET_OUTCOME = update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("delivery"))  # SET: the columns given
_PAYMENTS = Payment.__table__
_LOCK_BY_ASAAS_ID = select(*_PAYMENTS.columns).where(_PAYMENTS.c.asaas_payment_id == bindparam("key")).with_for_update()
_LOCK_BY_REFERENCE = (
    select(*_PAYMENTS.columns).where(_PAYMENTS.c.external_reference == bindparam("key")).with_for_update()
)
_UPDATE_PAYMENT = update(_PAYMENTS).where(_PAYMENTS.c.id == bindparam("payment"))  # SET: the columns given


@cache  # built once per dialect
def _upsert_delivery(dialect: str) -> Any:
    """INSERT, or on the event id's unique key add an attempt; RETURNING the row's id, attempts and outcome
    (on both dialects, the row as the statement left it)."""
    columns = _DELIVERIES.c
    statement = upsert(dialect, _DELIVERIES, ["event_id"], lambda _new: {"attempts": columns.attempts + 1})
    return statement.returning(columns.id, columns.attempts, columns.outcome)


def _find_payment(session: Session, payment: dict[str, Any]) -> tuple[Payment, dict[str, Any]] | None:
    """Our payment the delivery names (by Asaas's id, else a top-up's reference), locked FOR UPDATE.

    Read with a prepared Core statement into a transient Payment that is not in the session, returned with
    the row as read: `_write_payment` writes what processing changed (no ORM load, no flush: every
    delivery comes here, bench.webhook_cpu).
    """
    asaas_id = str(payment["id"])
    conn = session.connection()
    row = conn.execute(_LOCK_BY_ASAAS_ID, {"key": asaas_id}).first()
    if row is None:
        reference = payment.get("externalReference")
        if not isinstance(reference, str) or not reference.startswith(TOPUP_PREFIX):
            return None
        row = conn.execute(_LOCK_BY_REFERENCE, {"key": reference}).first()
        if row is None or row.asaas_payment_id not in (None, asaas_id):
            return None
    read = dict(row._mapping)
    found = Payment(**read)
    found.asaas_payment_id = asaas_id  # a top-up found by its reference learns Asaas's id
    return found, read


def _write_payment(session: Session, payment: Payment, read: dict[str, Any]) -> None:
    """One UPDATE of the columns that differ on the transient `payment` from the row as `read`."""
    changed = {name: getattr(payment, name) for name, value in read.items() if getattr(payment, name) != value}
    if changed:
        session.connection().execute(_UPDATE_PAYMENT, {"payment": payment.id, **changed})


def _link_payment(session: Session, payment: dict[str, Any]) -> Payment | None:
    """A new payment of one of our payment links (in the session: written with the transaction), or None."""
    link = link_of(session, payment)
    if link is None:
        return None
    customer = payment.get("customer") if isinstance(payment.get("customer"), str) else None
    # Matched now by the Asaas customer we stored; otherwise `payments.payers` looks the payer up later.
    return new_link_payment(session, payment, link, PayerInfo(customer, None, None))


def process_payment(uow: UnitOfWork, command: ProcessDelivery, event: str, body: dict[str, Any]) -> Applied:
    """A PAYMENT_* delivery: lock its payment, then move the wallet to the new level (no call to Asaas)."""
    session = uow.session
    payment = body.get("payment")
    if not isinstance(payment, dict) or not isinstance(payment.get("id"), str | int):
        return Applied(None, Outcome.STORED, detail="no payment object")
    facts = facts_of(event, payment)
    found = _find_payment(session, payment)
    target = found[0] if found is not None else _link_payment(session, payment)
    if target is None:
        return Applied(None, Outcome.UNMATCHED, detail="unknown payment")
    if event == "PAYMENT_UPDATED":
        # "With each update to your billing, a new QR Code must be obtained" (docs.asaas.com): the pay page refetches.
        session.execute(delete(PaymentInstructions).where(PaymentInstructions.payment_id == target.id))
    result = apply_facts(uow, target, facts, policy=command.policy, event=event)
    if found is not None:
        _write_payment(session, *found)
    return result


PROCESSORS["PAYMENT_"] = process_payment


def process_delivery(uow: UnitOfWork, command: ProcessDelivery) -> Applied:
    """Apply one stored delivery from what was stored: lock it, then dispatch it by its event's prefix."""
    row = uow.session.connection().execute(_LOCK_DELIVERY, {"delivery": command.delivery_id}).first()
    if row is None:
        raise NotFound("no such delivery")
    if row.outcome in PROCESSED and not command.force:
        return Applied(None, Outcome.DUPLICATE)
    return _dispatch(uow, command, row.event, json.loads(row.raw_body))


def _dispatch(uow: UnitOfWork, command: ProcessDelivery, event: str, body: dict[str, Any]) -> Applied:
    """Run the delivery's processor and record its outcome on the (locked) row."""
    processor = processor_for(event)
    if processor is None:
        result = Applied(None, Outcome.STORED, detail="no processor for this event")
    else:
        result = processor(uow, command, event, body)
    _set_outcome(uow.session, command.delivery_id, result.outcome, result.detail)
    return result


def mark_failed(session: Session, delivery_id: int, detail: str) -> None:
    _set_outcome(session, delivery_id, Outcome.FAILED, detail)


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
    """Store a delivery and process it in the same transaction: one commit per webhook when all goes well.

    A first copy is processed from the body in hand, which is what was just stored; a later copy of a
    processed event is a duplicate at once (storing it locked the row and read its outcome); a stored
    event never processed (its processing failed) is processed again from what was stored.
    """
    stored = _store(uow.session, delivery)
    command = ProcessDelivery(stored.id, policy)
    if stored.first:
        return stored.id, True, _dispatch(uow, command, delivery.stored_event, delivery.body)
    if stored.outcome in PROCESSED:
        return stored.id, False, Applied(None, Outcome.DUPLICATE)
    return stored.id, False, process_delivery(uow, command)


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

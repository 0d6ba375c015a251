"""Reconciliation: webhook-first, asking Asaas only about payments whose check is due, within a request budget.

Each payment carries `next_check_at` (auction.payments.watch: a backoff while it is open, rare checks for
late refunds and chargebacks once it is final). A round takes the due payments, oldest due first, and
spends at most its share of ASAAS_RECONCILE_BUDGET (auction.payments.quota): when one list request
(`GET /payments?dateCreated[ge]=...`, 100 charges a page) covers them more cheaply than one
`GET /payments/{id}` each, it lists; otherwise it fetches one by one. Top-ups nobody paid within
TOPUP_EXPIRE_HOURS are deleted at Asaas, so they can no longer be paid and are never asked about again.
Every answer goes through the same mapping as the webhook.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database
from ..models import Payment
from ..uow import UnitOfWork
from . import quota
from .client import PAGE_LIMIT, AsaasClient, AsaasError, AsaasNotFound, AsaasRateLimited, asaas_date
from .events import FINAL_STATUSES, NOT_PAID, REMOVED, CreditPolicy, PaymentStatus, facts_of
from .levels import Applied, Outcome, apply_facts, lock_payment
from .topups import TOPUP_PREFIX

log = logging.getLogger(__name__)

# A NEW top-up whose charge Asaas never got is given up after this long.
ABANDON_AFTER = timedelta(hours=1)
UNPAID_STATUSES = (PaymentStatus.PENDING, PaymentStatus.OVERDUE, PaymentStatus.REFUSED)


@dataclass(frozen=True)
class Reconcile:
    policy: CreditPolicy
    budget: int  # ASAAS_RECONCILE_BUDGET: requests per 12 h
    interval: float  # RECONCILE_INTERVAL: seconds between rounds
    expire_after: timedelta  # TOPUP_EXPIRE_HOURS


@dataclass(frozen=True)
class Due:
    payment_id: int
    asaas_id: str | None
    reference: str | None
    created_at: datetime


def _due_payments(session: Session, limit: int) -> list[Due]:
    now = clock.now()
    rows = session.execute(
        select(Payment.id, Payment.asaas_payment_id, Payment.external_reference, Payment.created_at)
        .where(
            or_(
                Payment.next_check_at <= now,
                # Rows from before the backoff existed, never checked since.
                Payment.next_check_at.is_(None) & Payment.status.not_in(FINAL_STATUSES) & (Payment.checks == 0),
            ),
            Payment.status != PaymentStatus.ABANDONED,
        )
        .order_by(Payment.next_check_at, Payment.id)
        .limit(limit)
    ).all()
    return [Due(r.id, r.asaas_payment_id, r.external_reference, r.created_at) for r in rows]


def _charges_since(session: Session, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count(Payment.id)).where(Payment.created_at >= since, Payment.asaas_payment_id.is_not(None))
        )
        or 0
    )


def _apply_fetched(uow: UnitOfWork, payment_id: int, remote: dict[str, Any] | None, policy: CreditPolicy) -> Applied:
    """Apply what Asaas answered about one payment (None: Asaas does not know its charge)."""
    payment = lock_payment(uow.session, payment_id)
    payment.checks += 1
    if remote is None:
        if payment.status == PaymentStatus.NEW and clock.now() - payment.created_at > ABANDON_AFTER:
            payment.status = PaymentStatus.ABANDONED
            payment.next_check_at = None
            payment.updated_at = clock.now()
            return Applied(payment.id, Outcome.ABANDONED)
        return apply_facts(uow, payment, None, policy=policy, event=None)
    if payment.asaas_payment_id is None:
        payment.asaas_payment_id = str(remote["id"])
        payment.invoice_url = remote.get("invoiceUrl") or payment.invoice_url
    payment.billing_type = remote.get("billingType") or payment.billing_type
    return apply_facts(uow, payment, facts_of(None, remote), policy=policy, event=None)


def _expired(session: Session, expire_after: timedelta) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Payment.id, Payment.asaas_payment_id).where(
            Payment.status.in_(UNPAID_STATUSES),
            Payment.external_reference.like(f"{TOPUP_PREFIX}%"),
            Payment.asaas_payment_id.is_not(None),
            Payment.paid_stage == NOT_PAID,
            Payment.cash_stage == 0,
            Payment.credited == 0,
            Payment.created_at < clock.now() - expire_after,
        )
    ).all()
    return [(r.id, r.asaas_payment_id) for r in rows]


def _mark_deleted(uow: UnitOfWork, payment_id: int, policy: CreditPolicy) -> Applied:
    payment = lock_payment(uow.session, payment_id)
    if payment.paid_stage != NOT_PAID or payment.credited:
        return Applied(payment.id, Outcome.RECORDED)  # paid meanwhile: the delete failed at Asaas anyway
    payment.removal_stage = REMOVED
    payment.deleted = True
    payment.status = PaymentStatus.DELETED
    result = apply_facts(uow, payment, None, policy=policy, event=None)
    payment.next_check_at = None
    return Applied(payment.id, Outcome.ABANDONED, moved=result.moved)


def expire_topups(db: Database, client: AsaasClient, command: Reconcile, allowance: int) -> tuple[list[Applied], int]:
    """Delete at Asaas the top-ups nobody paid in time; returns the results and the requests spent."""
    results, spent = [], 0
    for payment_id, asaas_id in db.transaction(_expired, command.expire_after):
        if spent >= allowance:
            break
        spent += 1
        try:
            client.delete_payment(asaas_id)
        except AsaasNotFound:
            pass  # gone already
        except AsaasError as exc:
            log.warning("event=topup_expire_failed payment_id=%s error=%s", payment_id, exc)
            if isinstance(exc, AsaasRateLimited):
                break
            continue
        results.append(db.run(_mark_deleted, payment_id, command.policy))
        log.info("event=topup_expired payment_id=%s", payment_id)
    return results, spent


def _listed(client: AsaasClient, due: list[Due], db: Database, allowance: int) -> tuple[dict[str, dict], int]:
    """The due charges from the list endpoint, when that costs fewer requests than one GET each."""
    known = [d for d in due if d.asaas_id]
    if len(known) < 2:
        return {}, 0
    since = min(d.created_at for d in known)
    pages = max(1, math.ceil(db.transaction(_charges_since, since) / PAGE_LIMIT))
    if pages >= len(known) or pages > allowance:
        return {}, 0
    wanted = {d.asaas_id for d in known}
    found: dict[str, dict] = {}
    for item in client.list_payments(**{"dateCreated[ge]": asaas_date(since)}):
        if item.get("id") in wanted:
            found[str(item["id"])] = item
    return found, pages


def reconcile(db: Database, client: AsaasClient, command: Reconcile) -> list[Applied]:
    """One round: expire abandoned top-ups, then fetch the payments whose check is due, within the budget.

    One unit of work per payment, each delivering its messages when it commits.
    """
    allowance = db.transaction(quota.round_allowance, command.budget, command.interval)
    results, spent = expire_topups(db, client, command, allowance)
    due = db.transaction(_due_payments, max(0, allowance - spent) * PAGE_LIMIT)
    try:
        listed, pages = _listed(client, due, db, allowance - spent)
    except AsaasError as exc:
        log.warning("event=reconcile_list_failed error=%s", exc)
        listed, pages = {}, 1
    spent += pages
    for item in due:
        remote: dict[str, Any] | None
        if item.asaas_id and item.asaas_id in listed:
            remote = listed[item.asaas_id]
        elif spent >= allowance:
            break
        else:
            spent += 1
            try:
                if item.asaas_id:
                    remote = client.get_payment(item.asaas_id)
                else:
                    remote = next(iter(client.find_payments(item.reference or "")), None)
            except AsaasRateLimited:
                log.warning("event=reconcile_rate_limited payment_id=%s", item.payment_id)
                break
            except AsaasError as exc:
                log.warning("event=reconcile_fetch_failed payment_id=%s error=%s", item.payment_id, exc)
                continue
        result = db.run(_apply_fetched, item.payment_id, remote, command.policy)
        if result.corrected:
            log.info(
                "event=reconcile_corrected payment_id=%s outcome=%s moved=%s",
                item.payment_id,
                result.outcome,
                result.moved,
            )
        results.append(result)
    log.info("event=reconcile_spent requests=%d allowance=%d due=%d", spent, allowance, len(due))
    return results

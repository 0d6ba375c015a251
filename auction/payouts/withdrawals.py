"""Withdrawals: available balance out to a PIX key through an Asaas transfer.

Over 500 lines on purpose: the three steps below are one state machine over one row (its statuses, row lock
and the money given back on every failure are shared by all three), and a reader checks a transition against
the others; split, each step would import the other two's private helpers.

1. `request_withdrawal` (one transaction): validate the key and the limits, write the row and move
   the amount to the payout hold at once. Above WITHDRAWAL_APPROVAL_CENTS it waits for an admin.
2. `submit` (no transaction open while Asaas is called): claim the row (queued -> submitting), then
   `POST /transfers` with our `externalReference` (`withdrawal-{id}`). A call that failed or timed out
   is never blindly sent again: every later attempt first looks the reference up at Asaas. Asaas
   refusing the request (400) gives the money back; no answer leaves the row `submitting` for the
   reconciliation job to look up and retry.
3. The transfer's status, from webhooks, the validation call or `GET /transfers/{id}`, moves the hold
   through `apply_status` (the level model of payouts/events.py): DONE captures it out of the platform,
   FAILED/CANCELLED return it to the wallet.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database, lock_existing, lock_row
from ..errors import Forbidden, Invalid, ServiceError
from ..mail import queue_mail
from ..models import User, Withdrawal
from ..money import Cents, InvalidAmount, cents_to_reais, format_brl, reais_to_cents
from ..payments.client import AsaasClient, AsaasError, AsaasInvalid
from ..uow import UnitOfWork
from ..wallet import FEES, record_gateway_fee
from ..wallet import payouts as ledger
from . import messages
from .events import Level, is_final, level_of, merge
from .pix import asaas_key, check_owner, owner_matches, parse_key

log = logging.getLogger(__name__)
REFERENCE_PREFIX = "withdrawal-"


class WithdrawalStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # held, waiting for an admin (above the approval threshold)
    QUEUED = "queued"  # held, to be sent to Asaas
    SUBMITTING = "submitting"  # POST /transfers sent (maybe more than once, always looked up first)
    # Asaas answered "critical authorisation enabled": nothing was created; held, retried once the set-up is fixed.
    NEEDS_AUTHORIZATION = "needs_authorization"
    # Asaas refused a resend after an attempt that got no answer: that one may exist; held until an admin decides.
    NEEDS_REVIEW = "needs_review"
    PENDING = "pending"  # Asaas has the transfer; not final yet
    DONE = "done"
    FAILED = "failed"  # failed, cancelled, or refused by Asaas: the money is back in the wallet
    REFUSED = "refused"  # an admin refused it: the money is back in the wallet


# Not final: the money is in the payout hold.
IN_FLIGHT = (
    WithdrawalStatus.AWAITING_APPROVAL,
    WithdrawalStatus.QUEUED,
    WithdrawalStatus.SUBMITTING,
    WithdrawalStatus.NEEDS_AUTHORIZATION,
    WithdrawalStatus.NEEDS_REVIEW,
    WithdrawalStatus.PENDING,
)
# Sent or being sent, no transfer known yet.
UNBOUND = (WithdrawalStatus.SUBMITTING, WithdrawalStatus.NEEDS_AUTHORIZATION, WithdrawalStatus.NEEDS_REVIEW)
# What an admin may refuse (the money goes back): not sent yet, or sent but found nowhere at Asaas.
REFUSABLE = (WithdrawalStatus.AWAITING_APPROVAL, WithdrawalStatus.NEEDS_REVIEW)


class WithdrawalLimit(ServiceError, code="withdrawal_limit", http_status=409):
    """Below the minimum, above the maximum per withdrawal, or beyond the daily cap."""


class WithdrawalState(ServiceError, code="withdrawal_state", http_status=409):
    """The withdrawal is not in a status that allows this (already approved, sent, finished)."""


@dataclass(frozen=True)
class WithdrawalLimits:
    min_cents: Cents
    max_cents: Cents
    daily_cents: Cents
    approval_cents: Cents  # above this an admin approves first
    other_keys: bool = False  # WITHDRAWAL_OTHER_KEYS: e-mail, phone and random keys accepted too

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WithdrawalLimits:
        return cls(
            config["WITHDRAWAL_MIN_CENTS"],
            config["WITHDRAWAL_MAX_CENTS"],
            config["WITHDRAWAL_DAILY_CENTS"],
            config["WITHDRAWAL_APPROVAL_CENTS"],
            bool(config.get("WITHDRAWAL_OTHER_KEYS", False)),
        )


@dataclass(frozen=True)
class RequestWithdrawal:
    user_id: int
    amount: object  # as sent: validated into cents here
    pix_key: object
    pix_key_type: object
    limits: WithdrawalLimits


def reference(withdrawal_id: int) -> str:
    return f"{REFERENCE_PREFIX}{withdrawal_id}"


def _amount(amount: object, limits: WithdrawalLimits) -> Cents:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Invalid("the amount must be a whole number of centavos", field="amount")
    if amount < limits.min_cents:
        raise WithdrawalLimit(f"the minimum withdrawal is {format_brl(limits.min_cents)}", min_cents=limits.min_cents)
    if amount > limits.max_cents:
        raise WithdrawalLimit(f"the maximum withdrawal is {format_brl(limits.max_cents)}", max_cents=limits.max_cents)
    return amount


def _withdrawn_today(session: Session, user_id: int) -> Cents:
    """What the user asked to withdraw in the last 24 hours, except what came back."""
    since = clock.now() - timedelta(days=1)
    total = session.scalar(
        select(func.coalesce(func.sum(Withdrawal.amount), 0)).where(
            Withdrawal.user_id == user_id,
            Withdrawal.created_at >= since,
            Withdrawal.status.not_in([WithdrawalStatus.FAILED, WithdrawalStatus.REFUSED]),
        )
    )
    return int(total or 0)


def request_withdrawal(uow: UnitOfWork, cmd: RequestWithdrawal) -> Withdrawal:
    """Hold the amount for a new withdrawal (the caller then `submit`s it unless it awaits approval)."""
    session = uow.session
    amount = _amount(cmd.amount, cmd.limits)
    key = parse_key(cmd.pix_key, cmd.pix_key_type)
    # One user's withdrawals serialize on their user row, so the daily cap holds under concurrency too.
    user = lock_existing(session, User, User.id == cmd.user_id, missing="no such user")
    check_owner(key, user.cpf_cnpj, other_keys=cmd.limits.other_keys)
    today = _withdrawn_today(session, user.id)
    if today + amount > cmd.limits.daily_cents:
        left = max(cmd.limits.daily_cents - today, 0)
        raise WithdrawalLimit(
            f"that is over the daily limit of {format_brl(cmd.limits.daily_cents)}; {format_brl(left)} left today",
            daily_cents=cmd.limits.daily_cents,
            left=left,
        )
    now = clock.now()
    needs_approval = amount > cmd.limits.approval_cents
    row = Withdrawal(
        user_id=user.id,
        amount=amount,
        on_hold=0,
        pix_key=key.key,
        pix_key_type=key.type,
        status=WithdrawalStatus.AWAITING_APPROVAL if needs_approval else WithdrawalStatus.QUEUED,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    row.external_reference = reference(row.id)
    ledger.hold_payout(session, user_id=user.id, amount=amount, key=f"withdrawal:{row.id}:hold")
    row.on_hold = amount
    queue_mail(
        uow,
        to=user.email,
        template="withdrawal_requested",
        locale=user.locale,
        context={
            "username": user.username,
            "amount": format_brl(amount),
            "key": _masked(key.key),
            "withdrawal_id": row.id,
        },
        user_id=user.id,
    )
    note = " It waits for an admin's approval." if needs_approval else ""
    messages.changed(uow, row, f"Withdrawal #{row.id} of {format_brl(amount)} requested.{note}")
    log.info("event=withdrawal_requested withdrawal_id=%s user_id=%s amount=%s", row.id, user.id, amount)
    return row


def _masked(key: str) -> str:
    """Enough of a PIX key for its owner to recognise it in a notice e-mail."""
    return f"{key[:3]}…{key[-3:]}" if len(key) > 8 else "…"


def _lock(session: Session, withdrawal_id: int) -> Withdrawal:
    return lock_existing(session, Withdrawal, Withdrawal.id == withdrawal_id, missing="no such withdrawal")


def _give_back(uow: UnitOfWork, row: Withdrawal, status: WithdrawalStatus, reason: str, text: str) -> None:
    ledger.release_payout(uow.session, user_id=row.user_id, amount=row.on_hold, key=f"withdrawal:{row.id}:return")
    row.on_hold = 0
    row.status = status
    row.fail_reason = reason[:255]
    row.finished_at = row.updated_at = clock.now()
    messages.changed(uow, row, text, kind="withdrawal_failed")


@dataclass(frozen=True)
class AdminDecision:
    withdrawal_id: int
    admin_id: int
    reason: str = ""


def _require_admin(session: Session, user_id: int) -> None:
    user = session.get(User, user_id)
    if user is None or not user.is_admin:
        raise Forbidden("only an admin may approve or refuse withdrawals")


def approve(uow: UnitOfWork, cmd: AdminDecision) -> Withdrawal:
    _require_admin(uow.session, cmd.admin_id)
    row = _lock(uow.session, cmd.withdrawal_id)
    if row.status != WithdrawalStatus.AWAITING_APPROVAL:
        raise WithdrawalState(f"withdrawal #{row.id} is {row.status}, not awaiting approval")
    row.status = WithdrawalStatus.QUEUED
    row.approved_by_id = cmd.admin_id
    row.updated_at = clock.now()
    messages.changed(uow, row, f"Withdrawal #{row.id} approved; it is on its way.")
    return row


def refuse(uow: UnitOfWork, cmd: AdminDecision) -> Withdrawal:
    _require_admin(uow.session, cmd.admin_id)
    row = _lock(uow.session, cmd.withdrawal_id)
    if row.status not in REFUSABLE or row.asaas_transfer_id:
        raise WithdrawalState(f"withdrawal #{row.id} is {row.status}, not awaiting approval")
    reason = cmd.reason.strip() or "refused by an admin"
    row.approved_by_id = cmd.admin_id
    _give_back(
        uow, row, WithdrawalStatus.REFUSED, reason, f"Withdrawal #{row.id} was refused ({reason}); the money is back."
    )
    return row


# -- sending it to Asaas ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    withdrawal_id: int
    attempt: int
    amount: Cents
    pix_key: str
    pix_key_type: str
    reference: str
    created_on: date
    holder_document: str


SUBMITTABLE = (WithdrawalStatus.QUEUED, WithdrawalStatus.SUBMITTING, WithdrawalStatus.NEEDS_AUTHORIZATION)


def claim(uow: UnitOfWork, withdrawal_id: int) -> Claim | None:
    row = _lock(uow.session, withdrawal_id)
    if row.status not in SUBMITTABLE or row.asaas_transfer_id:
        return None
    row.status = WithdrawalStatus.SUBMITTING
    row.submit_attempts += 1
    row.updated_at = clock.now()
    # Asaas dates transfers in Brasília time, up to a day behind UTC's date: the look-up starts a day earlier.
    since = (row.created_at - timedelta(days=1)).date()
    holder = uow.session.get(User, row.user_id)
    return Claim(
        row.id,
        row.submit_attempts,
        row.amount,
        row.pix_key,
        row.pix_key_type,
        row.external_reference or "",
        since,
        holder.cpf_cnpj if holder else "",
    )


def _refused_by_asaas(uow: UnitOfWork, withdrawal_id: int, detail: str, maybe_sent: bool) -> str:
    """Asaas refused the POST. The first one: the money goes back. A resend after an attempt with no answer:
    that attempt may still exist at Asaas, so the hold stays and an admin decides (NEEDS_REVIEW)."""
    row = _lock(uow.session, withdrawal_id)
    if row.status != WithdrawalStatus.SUBMITTING or row.asaas_transfer_id:
        return row.status
    if maybe_sent:
        row.status, row.fail_reason, row.updated_at = WithdrawalStatus.NEEDS_REVIEW, detail[:255], clock.now()
        messages.changed(uow, row)
        messages.alert_admins(
            uow,
            f"Withdrawal #{row.id}: Asaas refused a resend ({detail}) after an attempt that got no answer; "
            "the money stays held. Refuse it once you are sure no transfer exists at Asaas.",
        )
        return row.status
    _give_back(uow, row, WithdrawalStatus.FAILED, detail, f"Withdrawal #{row.id} failed ({detail}); the money is back.")
    return row.status


def _needs_authorisation(uow: UnitOfWork, withdrawal_id: int) -> str:
    """Critical authorisation is on at Asaas: nothing was created. The hold stays; the admins hear it once (while
    no other withdrawal already waits for it), and reconciliation retries when the set-up is fixed."""
    row = _lock(uow.session, withdrawal_id)
    if row.status != WithdrawalStatus.SUBMITTING or row.asaas_transfer_id:
        return row.status
    already = uow.session.scalar(
        select(func.count(Withdrawal.id)).where(
            Withdrawal.status == WithdrawalStatus.NEEDS_AUTHORIZATION, Withdrawal.id != row.id
        )
    )
    row.status, row.updated_at = WithdrawalStatus.NEEDS_AUTHORIZATION, clock.now()
    messages.changed(uow, row, f"Withdrawal #{row.id} is waiting for authorisation at Asaas; the money stays held.")
    if not already:
        messages.alert_admins(uow, AUTHORISATION_ALERT)
    return row.status


AUTHORISATION_ALERT = (
    "Asaas refuses transfers: the account has critical authorisation on (an SMS/app token per transfer). "
    "Withdrawals wait, held, until the account has an IP allow-list or the transfer validation webhook and "
    "Asaas turns critical authorisation off (docs/payments.md, Money out); they are retried then."
)


def _send(client: AsaasClient, claimed: Claim) -> dict[str, Any]:
    """POST /transfers, after looking our reference up when an earlier attempt may have created it."""
    remote = client.find_transfer(claimed.reference, claimed.created_on) if claimed.attempt > 1 else None
    if remote is not None:
        return remote
    return client.create_transfer(
        value=cents_to_reais(claimed.amount),
        pix_key=asaas_key(claimed.pix_key, claimed.pix_key_type),
        pix_key_type=claimed.pix_key_type,
        description=f"Leilão withdrawal #{claimed.withdrawal_id}",
        external_reference=claimed.reference,
        since=claimed.created_on,
    )


def submit(db: Database, client: AsaasClient, withdrawal_id: int) -> str:
    """Send the withdrawal's transfer to Asaas (or find the one an earlier attempt created); returns its status."""
    claimed = db.run(claim, withdrawal_id)
    if claimed is None:
        return "skipped"
    try:
        remote = _send(client, claimed)
    except AsaasInvalid as exc:
        log.warning("event=transfer_refused withdrawal_id=%s codes=%s", withdrawal_id, ",".join(exc.codes))
        if exc.needs_critical_authorisation:
            return db.run(_needs_authorisation, withdrawal_id)
        detail = "; ".join(e.get("description", "") for e in exc.errors) or "refused by the payment service"
        return db.run(_refused_by_asaas, withdrawal_id, detail, claimed.attempt > 1 or exc.after_unanswered)
    except AsaasError as exc:
        # Unknown whether it landed: left `submitting`; the next attempt looks the reference up first.
        log.warning(
            "event=transfer_unanswered withdrawal_id=%s attempt=%s error=%s", withdrawal_id, claimed.attempt, exc
        )
        return WithdrawalStatus.SUBMITTING
    if owner_matches(remote, claimed.holder_document) is False:
        remote = _cancel_foreign(db, client, withdrawal_id, remote)
    return db.run(attach, withdrawal_id, remote)


def _cancel_foreign(db: Database, client: AsaasClient, withdrawal_id: int, remote: dict[str, Any]) -> dict[str, Any]:
    """Asaas says the key leads to someone else's account: cancel the transfer while it is still pending (its
    TRANSFER_CANCELLED, or this answer, returns the hold) and tell the admins."""
    try:
        remote = client.cancel_transfer(str(remote.get("id") or ""))
    except AsaasError as exc:
        log.warning("event=transfer_cancel_failed withdrawal_id=%s error=%s", withdrawal_id, exc)
    db.run(_foreign_destination, withdrawal_id, str(remote.get("status") or ""))
    return remote


def _foreign_destination(uow: UnitOfWork, withdrawal_id: int, status: str) -> None:
    row = _lock(uow.session, withdrawal_id)
    log.warning("event=transfer_foreign_owner withdrawal_id=%s status=%s", row.id, status)
    messages.alert_admins(
        uow,
        f"Withdrawal #{row.id}: Asaas says its PIX key leads to an account in another person's document; "
        f"the transfer was cancelled (Asaas status now {status or 'unknown'}).",
    )


def attach(uow: UnitOfWork, withdrawal_id: int, remote: dict[str, Any]) -> str:
    """Store the transfer Asaas created for the withdrawal, and take in the status it came with."""
    row = _lock(uow.session, withdrawal_id)
    transfer_id = str(remote.get("id") or "")
    if row.asaas_transfer_id is None and transfer_id:
        row.asaas_transfer_id = transfer_id
    if row.status == WithdrawalStatus.SUBMITTING:
        row.status = WithdrawalStatus.PENDING
        row.updated_at = clock.now()
        messages.changed(uow, row)
    apply_status(uow, row, str(remote.get("status") or "PENDING"), remote)
    log.info("event=transfer_created withdrawal_id=%s transfer_id=%s", row.id, row.asaas_transfer_id)
    return row.status


def attach_found(uow: UnitOfWork, withdrawal_id: int, remote: dict[str, Any]) -> bool:
    """A transfer found by our reference for a withdrawal in review: it is ours if the amount agrees."""
    row = _lock(uow.session, withdrawal_id)
    if row.status != WithdrawalStatus.NEEDS_REVIEW or row.asaas_transfer_id or not same_amount(row, remote):
        return False
    row.asaas_transfer_id = str(remote.get("id") or "") or None
    apply_status(uow, row, str(remote.get("status") or "PENDING"), remote)
    messages.changed(uow, row)
    return True


# -- the transfer's status ------------------------------------------------------------------------


def same_amount(row: Withdrawal, transfer: dict[str, Any]) -> bool:
    try:
        return reais_to_cents(transfer.get("value")) == row.amount
    except InvalidAmount:
        return False


def lock_for_transfer(session: Session, transfer: dict[str, Any], *, bind: bool = True) -> Withdrawal | None:
    """Our withdrawal for a transfer Asaas tells us about: by its id, else by our reference (id not stored yet).

    Found by the reference, the transfer's id is stored on the withdrawal (`bind`) only if the amounts agree:
    a transfer someone else created with our reference must not take the place of ours.
    """
    transfer_id = str(transfer.get("id") or "")
    ref = transfer.get("externalReference")
    criteria = [Withdrawal.asaas_transfer_id == transfer_id]
    if isinstance(ref, str) and ref.startswith(REFERENCE_PREFIX):
        criteria.append(Withdrawal.external_reference == ref)
    row = lock_row(session, Withdrawal, or_(*criteria))
    if row is None or row.asaas_transfer_id not in (None, transfer_id):
        return None
    if row.asaas_transfer_id is None:
        if not transfer_id or not same_amount(row, transfer):
            return None
        if bind:
            row.asaas_transfer_id = transfer_id
    return row


def _current_level(row: Withdrawal) -> Level:
    if row.status == WithdrawalStatus.DONE:
        return Level.DONE
    if row.status in (WithdrawalStatus.FAILED, WithdrawalStatus.REFUSED):
        return Level.RETURNED
    return Level.HELD


def _blocked(uow: UnitOfWork, row: Withdrawal) -> None:
    """TRANSFER_BLOCKED: Asaas holds the transfer (for analysis); the owner and the admins hear it once."""
    messages.changed(uow, row, f"Withdrawal #{row.id} was blocked at Asaas for review; the money stays held.")
    messages.alert_admins(uow, f"Withdrawal #{row.id}: Asaas blocked transfer {row.asaas_transfer_id}.")


def _record_transfer_fee(uow: UnitOfWork, row: Withdrawal, transfer: dict[str, Any]) -> None:
    """Asaas's fee for the transfer (`transferFee`) is the platform's expense (wallet/gateway_fees.py)."""
    try:
        fee = reais_to_cents(transfer.get("transferFee") or 0)
    except InvalidAmount:
        log.warning("event=transfer_fee_unreadable withdrawal_id=%s", row.id)
        return
    if fee > 0:
        record_gateway_fee(uow.session, amount=fee, key=f"withdrawal:{row.id}:asaas_fee", payer=FEES)


def apply_status(uow: UnitOfWork, row: Withdrawal, status: str, transfer: dict[str, Any]) -> bool:
    """Move the payout hold to the level `status` means; True if money moved. The caller holds the row lock."""
    target, conflict = merge(_current_level(row), level_of(status))
    if conflict:
        messages.alert_admins(
            uow,
            f"Withdrawal #{row.id}: Asaas reports transfer {row.asaas_transfer_id} {status} after it was {row.status}.",
        )
        return False
    if status == "BLOCKED" and row.transfer_status != "BLOCKED" and not is_final(row.transfer_status):
        _blocked(uow, row)
    if not is_final(row.transfer_status) or level_of(status) != Level.HELD:
        row.transfer_status = status
    if row.asaas_transfer_id and row.status in UNBOUND:
        row.status = WithdrawalStatus.PENDING  # Asaas has it (heard before our POST's answer, or after losing it)
        messages.changed(uow, row)
    if target == _current_level(row):
        row.updated_at = clock.now()
        return False
    if row.status in (WithdrawalStatus.AWAITING_APPROVAL, WithdrawalStatus.QUEUED):
        row.status = WithdrawalStatus.SUBMITTING  # a transfer we had not sent yet: cannot be ours to hold back
    if target == Level.DONE:
        ledger.capture_payout(uow.session, user_id=row.user_id, amount=row.on_hold, key=f"withdrawal:{row.id}:done")
        _record_transfer_fee(uow, row, transfer)
        row.on_hold = 0
        row.status = WithdrawalStatus.DONE
        row.finished_at = row.updated_at = clock.now()
        messages.changed(
            uow,
            row,
            f"Withdrawal #{row.id} of {format_brl(row.amount)} is done: the PIX was sent.",
            kind="withdrawal_done",
        )
        return True
    reason = str(transfer.get("failReason") or status.lower())
    _give_back(
        uow,
        row,
        WithdrawalStatus.FAILED,
        reason,
        f"Withdrawal #{row.id} did not go through ({reason}); the money is back.",
    )
    return True


def withdraw(db: Database, client: AsaasClient, cmd: RequestWithdrawal) -> tuple[int, str]:
    """Hold and, unless it waits for an admin, send one withdrawal; (its id, its status now)."""
    row = db.run(request_withdrawal, cmd)
    if row.status != WithdrawalStatus.QUEUED:
        return row.id, row.status
    return row.id, submit(db, client, row.id)

"""Reconciliation of withdrawals not final: Asaas's webhooks are the source of truth, this round covers what they miss.

Every `TRANSFER_RECONCILE_INTERVAL` (and `flask payouts reconcile`): a withdrawal never sent, or whose POST got no
answer, is submitted again -- which looks its reference up at Asaas first, so it cannot pay twice; one whose
transfer is not final is read with `GET /transfers/{id}` and its status applied through the same level model.
Withdrawals waiting for Asaas's critical authorisation are retried, oldest first, until one is refused again
(one request a round while the account's set-up is unchanged); one in review is only looked up, never resent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database, lock_existing
from ..models import Withdrawal
from ..payments.client import AsaasClient, AsaasError
from ..uow import UnitOfWork
from .withdrawals import WithdrawalStatus, apply_status, attach_found, submit

log = logging.getLogger(__name__)


def not_final_ids(session: Session, older_than_seconds: int = 30, limit: int = 100) -> list[int]:
    """Withdrawals reconciliation looks at: sent or being sent, not final, untouched for a while."""
    before = clock.now() - timedelta(seconds=older_than_seconds)
    return list(
        session.scalars(
            select(Withdrawal.id)
            .where(
                Withdrawal.status.in_(
                    [
                        WithdrawalStatus.QUEUED,
                        WithdrawalStatus.SUBMITTING,
                        WithdrawalStatus.PENDING,
                        WithdrawalStatus.NEEDS_AUTHORIZATION,
                        WithdrawalStatus.NEEDS_REVIEW,
                    ]
                ),
                Withdrawal.updated_at <= before,
            )
            .order_by(Withdrawal.updated_at)
            .limit(limit)
        )
    )


def _refresh(uow: UnitOfWork, withdrawal_id: int, remote: dict[str, Any]) -> bool:
    row = lock_existing(uow.session, Withdrawal, Withdrawal.id == withdrawal_id, missing="no such withdrawal")
    return apply_status(uow, row, str(remote.get("status") or "PENDING"), remote)


def _state(session: Session, withdrawal_id: int) -> tuple[str | None, str, Any]:
    row = session.get(Withdrawal, withdrawal_id)
    assert row is not None
    return row.asaas_transfer_id, row.status, (row.external_reference, (row.created_at - timedelta(days=1)).date())


def _look_up(db: Database, client: AsaasClient, withdrawal_id: int, lookup: Any) -> bool:
    """A withdrawal in review: bind the transfer if it turned up at Asaas after all."""
    remote = client.find_transfer(*lookup)
    return remote is not None and bool(db.run(attach_found, withdrawal_id, remote))


def reconcile(db: Database, client: AsaasClient, *, older_than_seconds: int = 30) -> int:
    """One round; returns how many withdrawals changed."""
    changed = 0
    authorisation_refused = False
    for withdrawal_id in db.transaction(not_final_ids, older_than_seconds):
        try:
            transfer_id, status, lookup = db.transaction(_state, withdrawal_id)
            if transfer_id is None and status == WithdrawalStatus.NEEDS_REVIEW:
                changed += _look_up(db, client, withdrawal_id, lookup)
                continue
            if transfer_id is None:
                if status == WithdrawalStatus.NEEDS_AUTHORIZATION and authorisation_refused:
                    continue
                after = submit(db, client, withdrawal_id)
                authorisation_refused |= after == WithdrawalStatus.NEEDS_AUTHORIZATION
                changed += after not in (WithdrawalStatus.SUBMITTING, status, "skipped")
                continue
            changed += db.run(_refresh, withdrawal_id, client.get_transfer(transfer_id))
        except AsaasError as exc:
            log.info("event=transfer_reconcile_failed withdrawal_id=%s error=%s", withdrawal_id, exc)
    return changed

"""The transfer validation webhook: Asaas asks, about five seconds after a transfer is created, whether it is ours.

Approved only when the transfer is one this site created -- same id (or our reference, if its id
is not stored yet), same amount, same PIX key -- and still on its way on our side. Anything else
is refused and the admins are alerted: with this mechanism on, a leaked API key cannot empty the
Asaas account, because no transfer we did not ask for is approved. Asaas cancels a refused
transfer (and one whose validation failed three times); its TRANSFER_CANCELLED returns a hold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..uow import UnitOfWork
from . import messages
from .events import is_final
from .withdrawals import WithdrawalStatus, lock_for_transfer, same_amount

log = logging.getLogger(__name__)
APPROVABLE = (WithdrawalStatus.SUBMITTING, WithdrawalStatus.PENDING)


@dataclass(frozen=True)
class Verdict:
    approved: bool
    reason: str = ""

    def as_answer(self) -> dict[str, str]:
        return {"status": "APPROVED"} if self.approved else {"status": "REFUSED", "refuseReason": self.reason}


def _same_key(stored: str, sent: object) -> bool:
    if not isinstance(sent, str):
        return False
    if stored.startswith("+") or stored.isdigit():  # phone, CPF, CNPJ: compare the digits
        return "".join(c for c in stored if c.isdigit()) == "".join(c for c in sent if c.isdigit())
    return stored.lower() == sent.strip().lower()


def _check(uow: UnitOfWork, transfer: dict[str, Any]) -> Verdict:
    row = lock_for_transfer(uow.session, transfer, bind=False)
    if row is None:
        return Verdict(False, "unknown transfer")
    if not same_amount(row, transfer):
        return Verdict(False, f"value {transfer.get('value')!r} differs from withdrawal #{row.id}")
    sent_key = transfer.get("pixAddressKey") or (transfer.get("bankAccount") or {}).get("pixAddressKey")
    if not _same_key(row.pix_key, sent_key):
        return Verdict(False, f"PIX key differs from withdrawal #{row.id}")
    if row.status not in APPROVABLE or is_final(row.transfer_status):
        return Verdict(False, f"withdrawal #{row.id} is {row.status}")
    if row.asaas_transfer_id is None:  # approved before our POST's answer was stored
        row.asaas_transfer_id = str(transfer["id"])
    return Verdict(True)


def validate(uow: UnitOfWork, body: Any) -> Verdict:
    """The answer for one validation request; a refusal alerts the admins."""
    transfer = body.get("transfer") if isinstance(body, dict) else None
    if not isinstance(transfer, dict) or body.get("type") not in (None, "TRANSFER"):
        verdict = Verdict(False, "not a transfer")
    else:
        verdict = _check(uow, transfer)
    transfer_id = str(transfer.get("id"))[:64] if isinstance(transfer, dict) else "-"
    log.info(
        "event=transfer_validation transfer_id=%s approved=%s reason=%s", transfer_id, verdict.approved, verdict.reason
    )
    if not verdict.approved:
        messages.alert_admins(uow, f"Transfer validation refused transfer {transfer_id}: {verdict.reason}.")
    return verdict

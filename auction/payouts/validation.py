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
from .pix import owner_matches, same_key
from .withdrawals import WithdrawalStatus, lock_for_transfer, same_amount

log = logging.getLogger(__name__)
APPROVABLE = (WithdrawalStatus.SUBMITTING, WithdrawalStatus.PENDING)


@dataclass(frozen=True)
class Verdict:
    approved: bool
    reason: str = ""

    def as_answer(self) -> dict[str, str]:
        return {"status": "APPROVED"} if self.approved else {"status": "REFUSED", "refuseReason": self.reason}


def _check(uow: UnitOfWork, transfer: dict[str, Any]) -> Verdict:
    row = lock_for_transfer(uow.session, transfer, bind=False)
    if row is None:
        return Verdict(False, "unknown transfer")
    if not same_amount(row, transfer):
        return Verdict(False, f"value {transfer.get('value')!r} differs from withdrawal #{row.id}")
    sent_key = transfer.get("pixAddressKey") or (transfer.get("bankAccount") or {}).get("pixAddressKey")
    if not same_key(row.pix_key, row.pix_key_type, sent_key):
        return Verdict(False, f"PIX key differs from withdrawal #{row.id}")
    if owner_matches(transfer, row.user.cpf_cnpj) is False:
        return Verdict(False, f"the key of withdrawal #{row.id} leads to another person's account")
    if row.status not in APPROVABLE or is_final(row.transfer_status):
        return Verdict(False, f"withdrawal #{row.id} is {row.status}")
    if row.asaas_transfer_id is None:  # approved before our POST's answer was stored
        row.asaas_transfer_id = str(transfer["id"])
    return Verdict(True)


# Cash-outs Asaas asks about besides TRANSFER (docs: "mecanismo para validação de saque via webhooks"). The site
# makes none of them: it never pays bills, QR codes or phone top-ups, never splits, and never asks Asaas for a PIX
# refund (no code calls AsaasClient.refund_payment), so each is someone else's cash-out from this account.
NOT_OURS = {
    "PIX_REFUND": "the site asked for no PIX refund",
    "BILL": "the site pays no bills",
    "PIX_QR_CODE": "the site pays no PIX QR codes",
    "MOBILE_PHONE_RECHARGE": "the site makes no phone recharges",
    "PAYMENT_SPLIT": "the site makes no payment splits",
}


def validate(uow: UnitOfWork, body: Any) -> Verdict:
    """The answer for one validation request; a refusal alerts the admins."""
    kind = body.get("type") if isinstance(body, dict) else None
    transfer = body.get("transfer") if isinstance(body, dict) else None
    if kind in NOT_OURS:
        verdict = Verdict(False, NOT_OURS[kind])
        transfer = next((v for v in body.values() if isinstance(v, dict)), None)
    elif not isinstance(transfer, dict) or kind not in (None, "TRANSFER"):
        verdict = Verdict(False, "not a transfer")
    else:
        verdict = _check(uow, transfer)
    transfer_id = str(transfer.get("id"))[:64] if isinstance(transfer, dict) else "-"
    log.info(
        "event=transfer_validation type=%s id=%s approved=%s reason=%s",
        str(kind)[:32],
        transfer_id,
        verdict.approved,
        verdict.reason,
    )
    if not verdict.approved:
        messages.alert_admins(uow, f"Cash-out validation refused {kind or 'request'} {transfer_id}: {verdict.reason}.")
    return verdict

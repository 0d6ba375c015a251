"""The simulated Asaas account itself: its cash-out security set-up, its balance and its statement.

Asaas (docs.asaas.com, security and "mecanismo para validação de saque via webhooks"): every transfer
needs an SMS/app token ("critical authorisation") unless the account manager turned it off because the
account has an IP allow-list for the API or the transfer validation webhook. The switch `cashoutAuth`
picks which of these the simulated account has:

- `critical` (the default, as a new Asaas account): `POST /transfers` answers 400 `invalid_action`,
  "Your account has critical authorization enabled...";
- `token`: the transfer is created with `authorized: false` and waits until the merchant types the token
  on the simulator's transfers page (what a panel-made transfer does);
- `ip_allowlist`: transfers from an address in `allowedIps` are authorised at once (any other address
  gets the critical-authorisation 400); no validation call;
- `validation_webhook`: every cash-out is authorised by the site's validation webhook, called about five
  seconds after creation (`PIX_REFUND` too when `pixRefundValidation` is ticked).

The balance is the sum of the statement (`GET /financialTransactions`): charges received (their value),
Asaas's fee on each (a debit of value - netValue), refunds settled, transfers and their fees. A transfer
larger than the available balance is refused, as Asaas does (transfers FAQ).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from auction import clock
from auction.config import SIM_CASHOUT_AUTH

from .models import AsaasSimObject

# Asaas keeps its calendar in Brasília time: a due date, a payment date or a statement line's date is the day in
# São Paulo, which from 21:00 to 24:00 there is still the day before UTC's.
BRASILIA = ZoneInfo("America/Sao_Paulo")


def today() -> date:
    """Asaas's today: the calendar day in Brasília."""
    return clock.now().astimezone(BRASILIA).date()


ACCOUNT_ID = "acc_simulator_000001"
CASHOUT_AUTH = SIM_CASHOUT_AUTH
CRITICAL_MESSAGE = (
    "Your account has critical authorization enabled. To perform this action, enter the confirmation code."
)
# What each switch means, for the simulator's admin page (pt-BR first, English second).
EXPLAINED = {
    "critical": (
        "Autorização crítica ligada (padrão de uma conta nova): toda transferência pela API é recusada com 400 "
        "invalid_action até o gerente da conta desligá-la.",
        "Critical authorisation on (a new account's default): every API transfer is refused with 400 "
        "invalid_action until the account manager turns it off.",
    ),
    "token": (
        "Transferência criada com authorized: false, esperando o token SMS/app digitado nesta página.",
        "Transfers are created with authorized: false and wait for the SMS/app token typed on this page.",
    ),
    "ip_allowlist": (
        "Lista de IPs liberados: transferências vindas desses endereços são autorizadas na hora; de outros, 400.",
        "IP allow-list: transfers from these addresses are authorised at once; from any other, 400.",
    ),
    "validation_webhook": (
        "Webhook de validação de saque: cerca de 5 s após criar, o simulador pergunta ao site (TRANSFER, "
        "PIX_REFUND, BILL, PIX_QR_CODE, MOBILE_PHONE_RECHARGE, PAYMENT_SPLIT); recusa ou 3 falhas cancelam.",
        "Transfer validation webhook: about 5 s after creation the simulator asks the site (TRANSFER, PIX_REFUND, "
        "BILL, PIX_QR_CODE, MOBILE_PHONE_RECHARGE, PAYMENT_SPLIT); a refusal or 3 failures cancel it.",
    ),
}


def defaults(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The account before anyone changed a switch (ASAAS_SIM_CASHOUT_AUTH, ASAAS_SIM_TRANSFER_FEE). Read in the
    request's thread: the transaction that uses them may run on another (Database offloads it)."""
    config = config if config is not None else current_app.config
    return {
        "id": ACCOUNT_ID,
        "cashoutAuth": config.get("ASAAS_SIM_CASHOUT_AUTH", "critical"),
        "allowedIps": ["127.0.0.1"],
        "pixRefundValidation": False,
        "transferFee": float(config.get("ASAAS_SIM_TRANSFER_FEE", 0)),
        # Per-endpoint rate limit (RateLimit-Limit), its window in seconds, and the 12-hour quota.
        "rateLimit": 100,
        "rateWindow": 60,
        "quota": 25_000,
        "concurrentGets": 50,
    }


def settings(session: Session, initial: dict[str, Any]) -> dict[str, Any]:
    row = session.get(AsaasSimObject, ACCOUNT_ID)
    return initial | (json.loads(row.body) if row is not None else {})


def save_settings(session: Session, changes: dict[str, Any], initial: dict[str, Any]) -> dict[str, Any]:
    current = settings(session, initial) | changes
    if current["cashoutAuth"] not in CASHOUT_AUTH:
        raise ValueError(f"cashoutAuth is one of {', '.join(CASHOUT_AUTH)}")
    row = session.get(AsaasSimObject, ACCOUNT_ID, with_for_update=True)
    if row is None:
        row = AsaasSimObject(id=ACCOUNT_ID, kind="account", created_at=clock.now(), body="")
        session.add(row)
    row.body = json.dumps(current)
    session.flush()
    return current


def record(session: Session, kind: str, value: Decimal, description: str, **refs: Any) -> None:
    """One statement line (`value` signed: credits positive, debits negative)."""
    if value == 0:
        return
    body = {
        "object": "financialTransaction",
        "id": f"ftr_{secrets.token_hex(8)}",
        "value": float(value),
        "type": kind,
        "description": description,
        "date": today().isoformat(),
        "dateCreated": clock.now().strftime("%Y-%m-%d %H:%M:%S"),
        **refs,
    }
    session.add(AsaasSimObject(id=body["id"], kind="statement", created_at=clock.now(), body=json.dumps(body)))
    session.flush()


def statement(session: Session) -> list[dict[str, Any]]:
    """Every statement line, oldest first (as GET /financialTransactions lists them)."""
    rows = session.scalars(
        select(AsaasSimObject)
        .where(AsaasSimObject.kind == "statement")
        .order_by(AsaasSimObject.created_at, AsaasSimObject.id)
    )
    return [json.loads(row.body) for row in rows]


def balance(session: Session) -> Decimal:
    return sum((Decimal(str(line["value"])) for line in statement(session)), Decimal(0))


def deposit(session: Session, value: Decimal) -> None:
    """Money put into the account from outside (the admin page's "deposit", and tests)."""
    record(session, "DEPOSIT", value, "Depósito simulado")

"""The simulated Asaas account: customers, charges, payment links, refunds, and the webhooks each change causes.

Every function here is one transaction's work on a session (run it with `Database.transaction`).
A change that Asaas would announce records its webhook events in the same transaction
(`asaas_sim_events`, status pending); `asaas_sim.sender` posts them after the commit.
Long because it is the whole simulated account; the webhook's own state lives in asaas_sim/webhooks.py.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from auction import clock

from . import account
from .models import AsaasSimEvent, AsaasSimObject

BILLING_TYPES = {"UNDEFINED", "PIX", "BOLETO", "CREDIT_CARD"}
# The 29 payment events Asaas sends, in the order of its documentation (the admin page replays any of them).
ASAAS_EVENTS: tuple[str, ...] = (
    "PAYMENT_CREATED",
    "PAYMENT_UPDATED",
    "PAYMENT_CONFIRMED",
    "PAYMENT_RECEIVED",
    "PAYMENT_ANTICIPATED",
    "PAYMENT_OVERDUE",
    "PAYMENT_DELETED",
    "PAYMENT_RESTORED",
    "PAYMENT_RECEIVED_IN_CASH_UNDONE",
    "PAYMENT_AUTHORIZED",
    "PAYMENT_AWAITING_RISK_ANALYSIS",
    "PAYMENT_APPROVED_BY_RISK_ANALYSIS",
    "PAYMENT_REPROVED_BY_RISK_ANALYSIS",
    "PAYMENT_CREDIT_CARD_CAPTURE_REFUSED",
    "PAYMENT_REFUND_IN_PROGRESS",
    "PAYMENT_REFUNDED",
    "PAYMENT_PARTIALLY_REFUNDED",
    "PAYMENT_REFUND_DENIED",
    "PAYMENT_CHARGEBACK_REQUESTED",
    "PAYMENT_CHARGEBACK_DISPUTE",
    "PAYMENT_AWAITING_CHARGEBACK_REVERSAL",
    "PAYMENT_DUNNING_REQUESTED",
    "PAYMENT_DUNNING_RECEIVED",
    "PAYMENT_CHECKOUT_VIEWED",
    "PAYMENT_BANK_SLIP_VIEWED",
    "PAYMENT_BANK_SLIP_CANCELLED",
    "PAYMENT_SPLIT_CANCELLED",
    "PAYMENT_SPLIT_DIVERGENCE_BLOCK",
    "PAYMENT_SPLIT_DIVERGENCE_BLOCK_FINISHED",
)
# The status an event leaves the simulated payment in (others leave it as it is).
STATUS_AFTER = {
    "PAYMENT_CONFIRMED": "CONFIRMED",
    "PAYMENT_RECEIVED": "RECEIVED",
    "PAYMENT_OVERDUE": "OVERDUE",
    "PAYMENT_RECEIVED_IN_CASH_UNDONE": "PENDING",
    "PAYMENT_AUTHORIZED": "AUTHORIZED",
    "PAYMENT_AWAITING_RISK_ANALYSIS": "AWAITING_RISK_ANALYSIS",
    "PAYMENT_REFUND_IN_PROGRESS": "REFUND_IN_PROGRESS",
    "PAYMENT_REFUND_DENIED": "RECEIVED",
    "PAYMENT_CHARGEBACK_REQUESTED": "CHARGEBACK_REQUESTED",
    "PAYMENT_CHARGEBACK_DISPUTE": "CHARGEBACK_DISPUTE",
    "PAYMENT_AWAITING_CHARGEBACK_REVERSAL": "AWAITING_CHARGEBACK_REVERSAL",
    "PAYMENT_DUNNING_REQUESTED": "DUNNING_REQUESTED",
    "PAYMENT_DUNNING_RECEIVED": "DUNNING_RECEIVED",
    "PAYMENT_BANK_SLIP_CANCELLED": "OVERDUE",
}
# chargeback.status after each chargeback event (docs.asaas.com: REQUESTED, IN_DISPUTE, DISPUTE_LOST, REVERSED, DONE).
CHARGEBACK_AFTER = {
    "PAYMENT_CHARGEBACK_REQUESTED": "REQUESTED",
    "PAYMENT_CHARGEBACK_DISPUTE": "IN_DISPUTE",
    "PAYMENT_AWAITING_CHARGEBACK_REVERSAL": "IN_DISPUTE",
}
PAYABLE = {"PENDING", "OVERDUE", "AWAITING_RISK_ANALYSIS", "AUTHORIZED"}
ACCOUNT = {"id": "acc_simulator_000001", "ownerId": None}
PAGE_MAX = 100


class SimError(Exception):
    """An API error answered as Asaas does: `{"errors": [{code, description}]}`."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


# -- stored objects -------------------------------------------------------------------------


def load(session: Session, kind: str, object_id: str, *, lock: bool = False) -> tuple[AsaasSimObject, dict]:
    statement = select(AsaasSimObject).where(AsaasSimObject.id == object_id, AsaasSimObject.kind == kind)
    if lock:
        statement = statement.with_for_update()
    row = session.scalars(statement).first()
    if row is None:
        raise SimError(404, "not_found", f"{kind} {object_id} not found")
    return row, json.loads(row.body)


def body_of(session: Session, kind: str, object_id: str) -> dict[str, Any]:
    return public(load(session, kind, object_id)[1])


def sim_body_of(session: Session, kind: str, object_id: str) -> dict[str, Any]:
    """With the simulator's own bookkeeping (for its pages)."""
    return load(session, kind, object_id)[1]


def _save(session: Session, kind: str, body: dict[str, Any], row: AsaasSimObject | None = None) -> dict[str, Any]:
    if row is None:
        row = AsaasSimObject(id=body["id"], kind=kind, created_at=clock.now(), body="")
        session.add(row)
    if kind == "payment":
        _book(session, body)
    row.external_reference = body.get("externalReference")
    row.cpf_cnpj = body.get("cpfCnpj")
    row.body = json.dumps(body)
    session.flush()
    return body


def _book(session: Session, body: dict[str, Any]) -> None:
    """The account's statement follows the charge: received money (and Asaas's fee on it) in, settled refunds out.

    Marked received in cash moves nothing ("does not generate balance", docs.asaas.com); CONFIRMED card money is
    not released yet.
    """
    if body["status"] == "RECEIVED" and not body.get("_booked"):
        value, net = Decimal(str(body["value"])), Decimal(str(body["netValue"]))
        account.record(session, "PAYMENT_RECEIVED", value, f"Cobrança recebida {body['id']}", paymentId=body["id"])
        account.record(session, "PAYMENT_FEE", net - value, f"Taxa da cobrança {body['id']}", paymentId=body["id"])
        body["_booked"] = True
    if not body.get("_booked"):
        return
    done = [Decimal(str(r["value"])) for r in body.get("refunds") or [] if r.get("status") == "DONE"]
    refunded = sum(done, Decimal(0))
    owed = refunded - Decimal(str(body.get("_refundBooked", 0)))
    if owed > 0:
        account.record(session, "PAYMENT_REFUND", -owed, f"Estorno da cobrança {body['id']}", paymentId=body["id"])
        body["_refundBooked"] = float(refunded)


def find(session: Session, kind: str, filters: dict[str, str]) -> list[dict[str, Any]]:
    """Every matching object, newest first (the API pages them: `page`)."""
    statement = (
        select(AsaasSimObject)
        .where(AsaasSimObject.kind == kind)
        .order_by(AsaasSimObject.created_at.desc(), AsaasSimObject.id)
    )
    if ref := filters.get("externalReference"):
        statement = statement.where(AsaasSimObject.external_reference == ref)
    if cpf := filters.get("cpfCnpj"):
        statement = statement.where(AsaasSimObject.cpf_cnpj == _digits(cpf))
    bodies = [public(json.loads(row.body)) for row in session.scalars(statement)]
    for field in ("customer", "email", "paymentLink", "status", "billingType"):
        if value := filters.get(field):
            bodies = [b for b in bodies if b.get(field) == value]
    if since := filters.get("dateCreated[ge]"):
        bodies = [b for b in bodies if str(b.get("dateCreated") or "") >= since]
    if kind == "payment" and filters.get("deleted") != "true":
        bodies = [b for b in bodies if not b.get("deleted")]
    return bodies


def page(items: list[dict[str, Any]], args: dict[str, str]) -> dict[str, Any]:
    """Asaas's list envelope: `offset`, `limit` (default 10, at most 100), `hasMore`, `totalCount`."""
    try:
        offset = max(0, int(args.get("offset") or 0))
        limit = min(PAGE_MAX, max(1, int(args.get("limit") or 10)))
    except ValueError:
        raise SimError(400, "invalid_parameter", "offset e limit devem ser números.") from None
    data = items[offset : offset + limit]
    return {
        "object": "list",
        "hasMore": offset + len(data) < len(items),
        "totalCount": len(items),
        "limit": limit,
        "offset": offset,
        "data": data,
    }


def public(body: dict[str, Any]) -> dict[str, Any]:
    """The body as Asaas shows it: the simulator's own bookkeeping (keys starting with "_") left out."""
    return {k: v for k, v in body.items() if not k.startswith("_")}


def overview(session: Session) -> dict[str, Any]:
    """The newest payments and webhooks, for the admin page."""
    payments = [
        json.loads(row.body)
        for row in session.scalars(
            select(AsaasSimObject)
            .where(AsaasSimObject.kind == "payment")
            .order_by(AsaasSimObject.created_at.desc())
            .limit(100)
        )
    ]
    events = list(session.scalars(select(AsaasSimEvent).order_by(AsaasSimEvent.id.desc()).limit(50)))
    return {"payments": payments, "events": events}


ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def new_payment_id() -> str:
    """Asaas's payment id since November 2026 (changelog "alteração no formato dos identificadores de cobranças"):
    `pay_`, a digit 1-9, `_`, 14 letters and digits; 20 characters, like the old `pay_` + 16."""
    tail = "".join(secrets.choice(ID_ALPHABET) for _ in range(14))
    return f"pay_{secrets.randbelow(9) + 1}_{tail}"


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _reais(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise SimError(400, "invalid_value", "value must be a number") from None
    if not amount.is_finite() or amount <= 0:
        raise SimError(400, "invalid_value", "value must be greater than zero")
    return amount


def _today() -> str:
    return account.today().isoformat()


def record_event(session: Session, event: str, object_id: str, content: dict[str, Any]) -> str:
    """A webhook to send about the object `object_id` (a payment or a transfer): Asaas's envelope around `content`."""
    event_id = f"evt_{uuid.uuid4().hex}&{secrets.randbelow(10**6)}"
    body = {"id": event_id, "event": event, "dateCreated": clock.now().strftime("%Y-%m-%d %H:%M:%S"), **content}
    session.add(
        AsaasSimEvent(
            event_id=event_id,
            event=event,
            payment_id=object_id,
            body=json.dumps(body),
            status="pending",
            attempts=0,
            created_at=clock.now(),
        )
    )
    return event_id


def _record_event(session: Session, event: str, payment: dict[str, Any]) -> str:
    return record_event(session, event, payment["id"], {"payment": public(payment), "account": ACCOUNT})


# -- changes (each records the webhooks it causes) ----------------------------------------------


def create_customer(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    name = str(data.get("name") or "").strip()
    cpf = _digits(str(data.get("cpfCnpj") or ""))
    if not name:
        raise SimError(400, "invalid_name", "O nome do cliente é obrigatório.")
    if len(cpf) not in (11, 14):
        raise SimError(400, "invalid_cpfCnpj", "O CPF/CNPJ informado é inválido.")
    body = {
        "object": "customer",
        "id": f"cus_{secrets.randbelow(10**12):012d}",
        "dateCreated": _today(),
        "name": name,
        "email": data.get("email"),
        "cpfCnpj": cpf,
        "externalReference": data.get("externalReference"),
        "notificationDisabled": bool(data.get("notificationDisabled", False)),
        "deleted": False,
    }
    return _save(session, "customer", body)


def create_payment(session: Session, data: dict[str, Any], public_url: str) -> dict[str, Any]:
    customer = str(data.get("customer") or "")
    if not customer:
        raise SimError(400, "invalid_customer", "O cliente é obrigatório.")
    load(session, "customer", customer)
    billing = data.get("billingType")
    if billing not in BILLING_TYPES:
        raise SimError(400, "invalid_billingType", "Forma de pagamento inválida.")
    value = _reais(data.get("value"))
    try:
        due = date.fromisoformat(str(data.get("dueDate")))
    except ValueError:
        raise SimError(400, "invalid_dueDate", "Data de vencimento inválida.") from None
    if due < account.today():
        raise SimError(400, "invalid_dueDate", "A data de vencimento não pode ser anterior a hoje.")
    payment_id = new_payment_id()
    body = {
        "object": "payment",
        "id": payment_id,
        "dateCreated": _today(),
        "customer": customer,
        "paymentLink": data.get("paymentLink"),
        "value": float(value),
        "netValue": float((value * Decimal("0.99")).quantize(Decimal("0.01"))),
        "originalValue": None,
        "description": data.get("description"),
        "billingType": billing,
        "status": "PENDING",
        "dueDate": due.isoformat(),
        "paymentDate": None,
        "confirmedDate": None,
        "clientPaymentDate": None,
        "externalReference": data.get("externalReference"),
        "invoiceUrl": f"{public_url}/asaas-sim/i/{payment_id}",
        "deleted": False,
        "refunds": None,
        "chargeback": None,
        "callback": data.get("callback") if isinstance(data.get("callback"), dict) else None,
    }
    _save(session, "payment", body)
    _record_event(session, "PAYMENT_CREATED", body)
    return body


def _change(body: dict[str, Any], event: str) -> None:
    """What an event does to the simulated payment before it is sent."""
    if status := STATUS_AFTER.get(event):
        body["status"] = status
    if chargeback := CHARGEBACK_AFTER.get(event):
        body["chargeback"] = {"status": chargeback, "reason": "ABSENCE_OF_PRINT"}
    body.pop("_cardRefused", None)
    if event == "PAYMENT_CREDIT_CARD_CAPTURE_REFUSED":
        body["_cardRefused"] = True
    if event in ("PAYMENT_CONFIRMED", "PAYMENT_RECEIVED", "PAYMENT_DUNNING_RECEIVED"):
        body["confirmedDate"] = body.get("confirmedDate") or _today()
        body["paymentDate"] = body["clientPaymentDate"] = _today()
    elif event == "PAYMENT_DELETED":
        body["deleted"] = True
    elif event == "PAYMENT_RESTORED":
        body["deleted"] = False
    elif event in ("PAYMENT_REFUNDED", "PAYMENT_PARTIALLY_REFUNDED"):
        remaining = _refundable(body)
        if remaining > 0:
            _add_refund(body, remaining if event == "PAYMENT_REFUNDED" else (remaining / 2).quantize(Decimal("0.01")))
        _settle(body)
        body["status"] = "REFUNDED" if event == "PAYMENT_REFUNDED" else "RECEIVED"


def _refundable(body: dict[str, Any]) -> Decimal:
    asked = sum(
        (Decimal(str(r["value"])) for r in body.get("refunds") or [] if r.get("status") != "CANCELLED"), Decimal(0)
    )
    return Decimal(str(body["value"])) - asked


def _add_refund(body: dict[str, Any], value: Decimal) -> str:
    """A refund as Asaas does it: PENDING first (PAYMENT_REFUND_IN_PROGRESS), DONE when `settle_refunds` runs."""
    body["refunds"] = [
        *(body.get("refunds") or []),
        {"dateCreated": _today(), "status": "PENDING", "value": float(value), "description": "Simulated refund"},
    ]
    body["_statusBeforeRefund"] = body.get("_statusBeforeRefund") or body["status"]
    body["status"] = "REFUND_IN_PROGRESS"
    return "PAYMENT_REFUND_IN_PROGRESS"


def _settle(body: dict[str, Any]) -> str | None:
    pending = [r for r in body.get("refunds") or [] if r.get("status") == "PENDING"]
    if not pending:
        return None
    for refund in pending:
        refund["status"] = "DONE"
    if _refundable(body) <= 0:
        body["status"] = "REFUNDED"
        return "PAYMENT_REFUNDED"
    body["status"] = body.pop("_statusBeforeRefund", None) or "RECEIVED"
    return "PAYMENT_PARTIALLY_REFUNDED"


def settle_refunds(session: Session, payment_id: str) -> list[str]:
    """Every PENDING refund of the payment becomes DONE (the refund's settlement ran)."""
    row, body = load(session, "payment", payment_id, lock=True)
    event = _settle(body)
    if event is None:
        return []
    body.pop("_statusBeforeRefund", None)
    _save(session, "payment", body, row)
    return [_record_event(session, event, dict(body))]


def deny_refunds(session: Session, payment_id: str) -> list[str]:
    """The PIX refund's validation was refused: its PENDING refunds are CANCELLED (PAYMENT_REFUND_DENIED)."""
    row, body = load(session, "payment", payment_id, lock=True)
    pending = [r for r in body.get("refunds") or [] if r.get("status") == "PENDING"]
    if not pending:
        return []
    for refund in pending:
        refund["status"] = "CANCELLED"
    body["status"] = body.pop("_statusBeforeRefund", None) or "RECEIVED"
    _save(session, "payment", body, row)
    return [_record_event(session, "PAYMENT_REFUND_DENIED", dict(body))]


def apply_events(session: Session, payment_id: str, events: tuple[str, ...], billing_type: str = "") -> list[str]:
    """Move a simulated payment through `events`, recording one webhook per step."""
    row, body = load(session, "payment", payment_id, lock=True)
    if billing_type:
        body["billingType"] = billing_type
    sent = []
    for event in events:
        _change(body, event)
        sent.append(_record_event(session, event, dict(body)))
    _save(session, "payment", body, row)
    return sent


def refund(session: Session, payment_id: str, value: Any = None) -> tuple[dict[str, Any], list[str]]:
    """Ask for a refund: it is PENDING (PAYMENT_REFUND_IN_PROGRESS) until `settle_refunds` makes it DONE."""
    row, body = load(session, "payment", payment_id, lock=True)
    if body["status"] not in ("RECEIVED", "CONFIRMED", "RECEIVED_IN_CASH"):
        raise SimError(400, "invalid_action", f"A cobrança com status {body['status']} não pode ser estornada.")
    amount = _refundable(body) if value in (None, "") else _reais(value)
    if amount > _refundable(body):
        raise SimError(400, "invalid_value", "O valor do estorno é maior que o saldo da cobrança.")
    event = _add_refund(body, amount)
    _save(session, "payment", body, row)
    return public(body), [_record_event(session, event, dict(body))]


def create_link(session: Session, data: dict[str, Any], public_url: str) -> dict[str, Any]:
    name = str(data.get("name") or "").strip()
    if not name:
        raise SimError(400, "invalid_name", "O nome do link é obrigatório.")
    if data.get("chargeType") not in ("DETACHED", "INSTALLMENT", "RECURRENT"):
        raise SimError(400, "invalid_chargeType", "Tipo de cobrança inválido.")
    if data.get("billingType") not in BILLING_TYPES:
        raise SimError(400, "invalid_billingType", "Forma de pagamento inválida.")
    link_id = f"{secrets.randbelow(10**12):012d}"
    body = {
        "id": link_id,
        "name": name,
        "value": float(_reais(data.get("value"))),
        "active": True,
        "chargeType": data["chargeType"],
        "url": f"{public_url}/asaas-sim/c/{link_id}",
        "billingType": data["billingType"],
        "description": data.get("description"),
        "endDate": data.get("endDate"),
        "deleted": False,
        "viewCount": 0,
        "dueDateLimitDays": data.get("dueDateLimitDays"),
        "notificationEnabled": bool(data.get("notificationEnabled", True)),
    }
    return _save(session, "paymentLink", body)


def delete_link(session: Session, link_id: str) -> dict[str, Any]:
    row, body = load(session, "paymentLink", link_id, lock=True)
    body["deleted"], body["active"] = True, False
    _save(session, "paymentLink", body, row)
    return {"deleted": True, "id": link_id}


def pay_link(session: Session, link_id: str, payer: dict[str, str], public_url: str) -> str:
    """A payer fills in the link page: find or create their customer, then a charge carrying the link id."""
    _row, link = load(session, "paymentLink", link_id)
    if not link.get("active") or link.get("deleted"):
        raise SimError(400, "invalid_action", "Este link de pagamento não está ativo.")
    found = find(session, "customer", {"cpfCnpj": payer.get("cpfCnpj", "")})
    customer = found[0] if found else create_customer(session, payer)
    due = (account.today() + timedelta(days=int(link.get("dueDateLimitDays") or 3))).isoformat()
    data = {
        "customer": customer["id"],
        "billingType": "UNDEFINED",
        "value": link["value"],
        "dueDate": due,
        "description": link["name"],
        "paymentLink": link_id,
    }
    return create_payment(session, data, public_url)["id"]


def delete_payment(session: Session, payment_id: str) -> tuple[dict[str, Any], list[str]]:
    """DELETE /payments/{id}: an unpaid charge is removed (PAYMENT_DELETED); a paid one cannot be."""
    row, body = load(session, "payment", payment_id, lock=True)
    if body.get("deleted"):
        return {"deleted": True, "id": payment_id}, []
    if body["status"] not in PAYABLE:
        raise SimError(400, "invalid_action", f"A cobrança com status {body['status']} não pode ser removida.")
    _change(body, "PAYMENT_DELETED")
    _save(session, "payment", body, row)
    return {"deleted": True, "id": payment_id}, [_record_event(session, "PAYMENT_DELETED", dict(body))]


def pix_qr_code(session: Session, payment_id: str) -> dict[str, Any]:
    """GET /payments/{id}/pixQrCode: a real QR code of a made-up copy-paste code."""
    _row, body = load(session, "payment", payment_id)
    if body.get("billingType") not in ("PIX", "UNDEFINED"):
        raise SimError(400, "invalid_billingType", "Esta cobrança não aceita PIX.")
    payload = f"00020101021226820014br.gov.bcb.pix2560sim.asaas/{payment_id}5204000053039865406{body['value']:.2f}6304"
    png = io.BytesIO()
    segno.make(payload, error="m").save(png, kind="png", scale=4)
    return {
        "encodedImage": base64.b64encode(png.getvalue()).decode(),
        "payload": payload,
        # "The QR Code expires 12 months after the due date" (docs.asaas.com, pixQrCode).
        "expirationDate": f"{_months_later(date.fromisoformat(body['dueDate']), 12).isoformat()} 23:59:59",
    }


def _months_later(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    target_year, target_month = day.year + year, month + 1
    for last in (31, 30, 29, 28):  # the same day, or the month's last when it is shorter (29 Feb -> 28 Feb)
        try:
            return date(target_year, target_month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def identification_field(session: Session, payment_id: str) -> dict[str, Any]:
    """GET /payments/{id}/identificationField: the boleto's digitable line."""
    _row, body = load(session, "payment", payment_id)
    if body.get("billingType") not in ("BOLETO", "UNDEFINED"):
        raise SimError(400, "invalid_billingType", "Esta cobrança não é um boleto.")
    digits = "".join(c for c in payment_id if c.isdigit()).ljust(10, "0")[:10]
    cents = int(Decimal(str(body["value"])) * 100)
    line = f"23793.38128 6{digits[:4]}.{digits[4:9]}0 0{digits[9]}000.063305 1 {9000 + cents % 1000:04d}{cents:010d}"
    return {"identificationField": line, "nossoNumero": digits, "barCode": line.replace(".", "").replace(" ", "")}


def pay(session: Session, payment_id: str, billing_type: str, receive_delay: float) -> list[str]:
    """The payer pays on the checkout page, as Asaas reports it: PIX and boleto go straight to RECEIVED; a card
    is CONFIRMED now and RECEIVED `receive_delay` seconds later (`release_due`), so ASAAS_CREDIT_ON matters."""
    row, body = load(session, "payment", payment_id, lock=True)
    if body["status"] not in PAYABLE or body.get("deleted"):
        raise SimError(400, "invalid_action", "Esta cobrança não pode mais ser paga.")
    body["billingType"] = billing_type
    events: list[str] = []
    if billing_type == "CREDIT_CARD":
        _change(body, "PAYMENT_CONFIRMED")
        events.append(_record_event(session, "PAYMENT_CONFIRMED", dict(body)))
        body["_receiveAt"] = (clock.now() + timedelta(seconds=receive_delay)).isoformat()
    else:
        _change(body, "PAYMENT_RECEIVED")
        events.append(_record_event(session, "PAYMENT_RECEIVED", dict(body)))
    _save(session, "payment", body, row)
    return events + (release_due(session, payment_id) if receive_delay <= 0 else [])


def release_due(session: Session, payment_id: str | None = None) -> list[str]:
    """Card payments whose money Asaas releases now: CONFIRMED -> RECEIVED (PAYMENT_RECEIVED)."""
    statement = select(AsaasSimObject).where(AsaasSimObject.kind == "payment").with_for_update()
    if payment_id:
        statement = statement.where(AsaasSimObject.id == payment_id)
    sent = []
    now = clock.now()
    for row in session.scalars(statement):
        body = json.loads(row.body)
        due = body.get("_receiveAt")
        if not due or body["status"] != "CONFIRMED" or datetime.fromisoformat(due) > now:
            continue
        body.pop("_receiveAt")
        _change(body, "PAYMENT_RECEIVED")
        sent.append(_record_event(session, "PAYMENT_RECEIVED", dict(body)))
        _save(session, "payment", body, row)
    return sent


def _payment_step(session: Session, payment_id: str, change: Any) -> list[str]:
    row, body = load(session, "payment", payment_id, lock=True)
    event = change(body)
    _save(session, "payment", body, row)
    return [_record_event(session, event, dict(body))]


def receive_in_cash(session: Session, payment_id: str) -> list[str]:
    """The merchant marks the charge received in cash: PAYMENT_RECEIVED with status RECEIVED_IN_CASH."""

    def change(body: dict[str, Any]) -> str:
        if body["status"] not in PAYABLE:
            raise SimError(400, "invalid_action", "Esta cobrança não pode ser recebida em dinheiro.")
        body["status"] = "RECEIVED_IN_CASH"
        body["paymentDate"] = body["clientPaymentDate"] = _today()
        return "PAYMENT_RECEIVED"

    return _payment_step(session, payment_id, change)


def chargeback_reversed(session: Session, payment_id: str) -> list[str]:
    """The acquirer sent the disputed money back: chargeback.status REVERSED, the payment RECEIVED again."""

    def change(body: dict[str, Any]) -> str:
        body["status"] = "RECEIVED"
        body["chargeback"] = {"status": "REVERSED", "reason": (body.get("chargeback") or {}).get("reason")}
        return "PAYMENT_UPDATED"

    return _payment_step(session, payment_id, change)


def dispute_lost(session: Session, payment_id: str) -> list[str]:
    """The dispute was lost: chargeback.status DISPUTE_LOST, the money goes to the payer."""

    def change(body: dict[str, Any]) -> str:
        body["chargeback"] = {"status": "DISPUTE_LOST", "reason": (body.get("chargeback") or {}).get("reason")}
        return "PAYMENT_CHARGEBACK_DISPUTE"

    return _payment_step(session, payment_id, change)

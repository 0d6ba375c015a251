"""The built-in Asaas simulator: the embedded default when no ASAAS_API_KEY is set.

It is a separate "site" under /asaas-sim that the payment code reaches only over
HTTP, exactly like Asaas: the same v3 API subset (customers, payments, payment
links, refunds) at /asaas-sim/v3, an invoice page at each payment's `invoiceUrl`
with pay / refuse / pay-by-card-then-charge-back buttons, a payment link page,
and webhooks POSTed with the `asaas-access-token` header to the site's
/payment/webhook, in Asaas's JSON shape with unique event ids, retried until the
site answers 200. Its state lives in the app's database (asaas_sim_* tables) so
several server processes share it. Admins get refund / chargeback buttons and a
page that replays any of the 28 events for a payment.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..extensions import csrf, get_db, socketio
from ..models import AsaasSimEvent, AsaasSimObject
from ..money import format_brl, reais_to_cents
from ..entrypoints.web.auth import admin_required, current_user
from .events import EVENTS, RULES

bp = Blueprint("asaas_sim", __name__, url_prefix="/asaas-sim")
api = Blueprint("asaas_sim_api", __name__, url_prefix="/asaas-sim/v3")
csrf.exempt(api)
log = logging.getLogger(__name__)

BILLING_TYPES = {"UNDEFINED", "PIX", "BOLETO", "CREDIT_CARD"}
RETRY_DELAYS = (0.2, 0.5, 1, 2, 4, 8, 15, 30)
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
}
# What each checkout button does, as the events Asaas would send.
CHECKOUT_ACTIONS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    # action: (billing type, events, admin only)
    "pay": ("PIX", ("PAYMENT_CONFIRMED", "PAYMENT_RECEIVED"), False),
    "refuse": ("CREDIT_CARD", ("PAYMENT_CREDIT_CARD_CAPTURE_REFUSED",), False),
    "card_chargeback": (
        "CREDIT_CARD",
        ("PAYMENT_CONFIRMED", "PAYMENT_RECEIVED", "PAYMENT_CHARGEBACK_REQUESTED"),
        False,
    ),
    "chargeback": ("", ("PAYMENT_CHARGEBACK_REQUESTED",), True),
    "dispute_won": ("", ("PAYMENT_AWAITING_CHARGEBACK_REVERSAL",), True),
}
PAYABLE = {"PENDING", "OVERDUE", "AWAITING_RISK_ANALYSIS", "AUTHORIZED"}


class SimError(Exception):
    """An API error answered as Asaas does: `{"errors": [{code, description}]}`."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


# -- state ----------------------------------------------------------------------------


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"]


def _load(session: Session, kind: str, object_id: str, *, lock: bool = False) -> tuple[AsaasSimObject, dict]:
    statement = select(AsaasSimObject).where(AsaasSimObject.id == object_id, AsaasSimObject.kind == kind)
    if lock:
        statement = statement.with_for_update()
    row = session.scalars(statement).first()
    if row is None:
        raise SimError(404, "not_found", f"{kind} {object_id} not found")
    return row, json.loads(row.body)


def _save(session: Session, kind: str, body: dict[str, Any], row: AsaasSimObject | None = None) -> dict[str, Any]:
    if row is None:
        row = AsaasSimObject(id=body["id"], kind=kind, created_at=clock.now(), body="")
        session.add(row)
    row.external_reference = body.get("externalReference")
    row.cpf_cnpj = body.get("cpfCnpj")
    row.body = json.dumps(body)
    session.flush()
    return body


def _find(session: Session, kind: str, filters: dict[str, str]) -> list[dict[str, Any]]:
    statement = select(AsaasSimObject).where(AsaasSimObject.kind == kind).order_by(AsaasSimObject.created_at.desc())
    if ref := filters.get("externalReference"):
        statement = statement.where(AsaasSimObject.external_reference == ref)
    if cpf := filters.get("cpfCnpj"):
        statement = statement.where(AsaasSimObject.cpf_cnpj == _digits(cpf))
    bodies = [json.loads(row.body) for row in session.scalars(statement.limit(100))]
    for field in ("customer", "email", "paymentLink"):
        if value := filters.get(field):
            bodies = [b for b in bodies if b.get(field) == value]
    return bodies


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
    return clock.now().date().isoformat()


def _record_event(session: Session, event: str, payment: dict[str, Any]) -> str:
    event_id = f"evt_{uuid.uuid4().hex}&{secrets.randbelow(10**6)}"
    body = {
        "id": event_id,
        "event": event,
        "dateCreated": clock.now().strftime("%Y-%m-%d %H:%M:%S"),
        "payment": payment,
    }
    session.add(
        AsaasSimEvent(
            event_id=event_id,
            event=event,
            payment_id=payment["id"],
            body=json.dumps(body),
            status="pending",
            attempts=0,
            created_at=clock.now(),
        )
    )
    return event_id


# -- state changes (each is one unit of work that also records the webhooks it causes) --------------


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
    _load(session, "customer", customer)
    billing = data.get("billingType")
    if billing not in BILLING_TYPES:
        raise SimError(400, "invalid_billingType", "Forma de pagamento inválida.")
    value = _reais(data.get("value"))
    try:
        due = date.fromisoformat(str(data.get("dueDate")))
    except ValueError:
        raise SimError(400, "invalid_dueDate", "Data de vencimento inválida.") from None
    if due < clock.now().date():
        raise SimError(400, "invalid_dueDate", "A data de vencimento não pode ser anterior a hoje.")
    payment_id = f"pay_{secrets.token_hex(8)}"
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
    }
    _save(session, "payment", body)
    _record_event(session, "PAYMENT_CREATED", body)
    return body


def _change(body: dict[str, Any], event: str) -> None:
    """What an event does to the simulated payment before it is sent."""
    if status := STATUS_AFTER.get(event):
        body["status"] = status
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


def _refundable(body: dict[str, Any]) -> Decimal:
    done = sum((Decimal(str(r["value"])) for r in body.get("refunds") or []), Decimal(0))
    return Decimal(str(body["value"])) - done


def _add_refund(body: dict[str, Any], value: Decimal) -> str:
    body["refunds"] = [
        *(body.get("refunds") or []),
        {"dateCreated": _today(), "status": "DONE", "value": float(value), "description": "Simulated refund"},
    ]
    if _refundable(body) <= 0:
        body["status"] = "REFUNDED"
        return "PAYMENT_REFUNDED"
    return "PAYMENT_PARTIALLY_REFUNDED"


def apply_events(session: Session, payment_id: str, events: tuple[str, ...], billing_type: str = "") -> list[str]:
    """Move a simulated payment through `events`, recording one webhook per step."""
    row, body = _load(session, "payment", payment_id, lock=True)
    if billing_type:
        body["billingType"] = billing_type
    sent = []
    for event in events:
        _change(body, event)
        sent.append(_record_event(session, event, dict(body)))
    _save(session, "payment", body, row)
    return sent


def refund(session: Session, payment_id: str, value: Any = None) -> tuple[dict[str, Any], list[str]]:
    row, body = _load(session, "payment", payment_id, lock=True)
    if body["status"] not in ("RECEIVED", "CONFIRMED", "RECEIVED_IN_CASH"):
        raise SimError(400, "invalid_action", f"A cobrança com status {body['status']} não pode ser estornada.")
    amount = _refundable(body) if value in (None, "") else _reais(value)
    if amount > _refundable(body):
        raise SimError(400, "invalid_value", "O valor do estorno é maior que o saldo da cobrança.")
    event = _add_refund(body, amount)
    _save(session, "payment", body, row)
    return body, [_record_event(session, event, dict(body))]


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


def pay_link(session: Session, link_id: str, payer: dict[str, str], public_url: str) -> str:
    """A payer fills in the link page: find or create their customer, then a charge carrying the link id."""
    _row, link = _load(session, "paymentLink", link_id)
    if not link.get("active") or link.get("deleted"):
        raise SimError(400, "invalid_action", "Este link de pagamento não está ativo.")
    found = _find(session, "customer", {"cpfCnpj": payer.get("cpfCnpj", "")})
    customer = found[0] if found else create_customer(session, payer)
    due = (clock.now() + timedelta(days=int(link.get("dueDateLimitDays") or 3))).date().isoformat()
    data = {
        "customer": customer["id"],
        "billingType": "UNDEFINED",
        "value": link["value"],
        "dueDate": due,
        "description": link["name"],
        "paymentLink": link_id,
    }
    return create_payment(session, data, public_url)["id"]


# -- sending webhooks ------------------------------------------------------------------


def _post(app: Flask, body: str) -> int:
    url = app.config.get("ASAAS_SIM_WEBHOOK_URL") or f"{app.config['PUBLIC_URL']}/payment/webhook"
    headers = {
        "asaas-access-token": app.config["ASAAS_WEBHOOK_TOKEN"],
        "Content-Type": "application/json",
        "User-Agent": "Asaas-Simulator/1.0",
    }
    if app.config.get("ASAAS_SIM_DELIVERY") == "inline":
        return app.test_client().post("/payment/webhook", data=body, headers=headers).status_code
    try:
        return requests.post(url, data=body.encode(), headers=headers, timeout=10, allow_redirects=False).status_code
    except requests.RequestException as exc:
        log.info("event=sim_webhook_unreachable error=%s", type(exc).__name__)
        return 0


def _attempt(session: Session, event_id: str) -> tuple[str, str] | None:
    row = session.scalars(select(AsaasSimEvent).where(AsaasSimEvent.event_id == event_id)).first()
    if row is None or row.status == "delivered":
        return None
    return row.event, row.body


def _outcome(session: Session, event_id: str, status: int, give_up: bool) -> None:
    row = session.scalars(select(AsaasSimEvent).where(AsaasSimEvent.event_id == event_id).with_for_update()).first()
    if row is None:
        return
    row.attempts += 1
    row.last_status = status
    if status == 200:
        row.status, row.delivered_at = "delivered", clock.now()
    elif give_up:
        row.status = "failed"


def deliver_events(app: Flask, event_ids: list[str], delays: tuple[float, ...] = RETRY_DELAYS) -> None:
    """POST each event in order, retrying on anything but 200 (as Asaas does, on a shorter schedule)."""
    with app.app_context():
        db = get_db()
        for event_id in event_ids:
            pending = db.transaction(_attempt, event_id)
            if pending is None:
                continue
            name, body = pending
            for attempt, delay in enumerate((0.0, *delays)):
                if delay:
                    socketio.sleep(delay)
                status = _post(app, body)
                db.transaction(_outcome, event_id, status, attempt == len(delays))
                log.info("event=sim_webhook_sent name=%s event_id=%s status=%s", name, event_id, status)
                if status == 200:
                    break


def dispatch(event_ids: list[str]) -> None:
    """Send after the commit: inline (tests with the Flask test client) or in a background green thread."""
    if not event_ids:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("ASAAS_SIM_DELIVERY") == "inline":
        deliver_events(app, event_ids, delays=())
    else:
        socketio.start_background_task(deliver_events, app, event_ids)


def _pending_event_ids(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(AsaasSimEvent.event_id).where(AsaasSimEvent.status != "delivered").order_by(AsaasSimEvent.id)
        )
    )


# -- the HTTP API -------------------------------------------------------------------------


def _sent_key() -> str:
    """The `access_token` header. Servers drop headers with underscores from the WSGI environ
    (eventlet keeps them in `headers_raw`), so look there too."""
    raw = request.environ.get("headers_raw") or ()
    sent = [value for name, value in raw if name.lower() == "access_token"]
    return (sent[0] if sent else request.headers.get("access_token", "")).strip()


@api.before_request
def _require_key() -> Any:
    if not _sent_key():
        return _error(SimError(401, "invalid_access_token", "A chave de API fornecida é inválida"))
    return None


@api.errorhandler(SimError)
def _error(exc: SimError) -> Any:
    return {"errors": [{"code": exc.code, "description": exc.description}]}, exc.status


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise SimError(400, "invalid_body", "O corpo da requisição deve ser um objeto JSON.")
    return data


def _list(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "hasMore": False, "totalCount": len(data), "limit": 100, "offset": 0, "data": data}


@api.post("/customers")
def api_create_customer() -> Any:
    return get_db().transaction(create_customer, _json())


@api.get("/customers")
def api_find_customers() -> Any:
    return _list(get_db().transaction(_find, "customer", request.args.to_dict()))


@api.get("/customers/<customer_id>")
def api_get_customer(customer_id: str) -> Any:
    return get_db().transaction(lambda s: _load(s, "customer", customer_id)[1])


@api.post("/payments")
def api_create_payment() -> Any:
    body = get_db().transaction(create_payment, _json(), _public_url())
    dispatch(get_db().transaction(_pending_for, body["id"]))
    return body


def _pending_for(session: Session, payment_id: str) -> list[str]:
    return list(
        session.scalars(
            select(AsaasSimEvent.event_id)
            .where(AsaasSimEvent.payment_id == payment_id, AsaasSimEvent.status == "pending")
            .order_by(AsaasSimEvent.id)
        )
    )


@api.get("/payments")
def api_find_payments() -> Any:
    return _list(get_db().transaction(_find, "payment", request.args.to_dict()))


@api.get("/payments/<payment_id>")
def api_get_payment(payment_id: str) -> Any:
    return get_db().transaction(lambda s: _load(s, "payment", payment_id)[1])


@api.post("/payments/<payment_id>/refund")
def api_refund(payment_id: str) -> Any:
    data = request.get_json(silent=True) or {}
    body, event_ids = get_db().transaction(refund, payment_id, data.get("value"))
    dispatch(event_ids)
    return body


@api.post("/paymentLinks")
def api_create_link() -> Any:
    return get_db().transaction(create_link, _json(), _public_url())


@api.get("/paymentLinks/<link_id>")
def api_get_link(link_id: str) -> Any:
    return get_db().transaction(lambda s: _load(s, "paymentLink", link_id)[1])


@api.delete("/paymentLinks/<link_id>")
def api_delete_link(link_id: str) -> Any:
    def remove(session: Session) -> dict[str, Any]:
        row, body = _load(session, "paymentLink", link_id, lock=True)
        body["deleted"], body["active"] = True, False
        _save(session, "paymentLink", body, row)
        return {"deleted": True, "id": link_id}

    return get_db().transaction(remove)


# -- pages: invoice, payment link, admin --------------------------------------------------------


def _page_error(exc: SimError) -> Any:
    return render_template("asaas_sim/message.html", title="Asaas simulator", message=exc.description), exc.status


bp.register_error_handler(SimError, _page_error)


@bp.get("/i/<payment_id>")
def checkout(payment_id: str) -> Any:
    _row, body = get_db().transaction(_load, "payment", payment_id)
    user = current_user()
    return render_template(
        "asaas_sim/checkout.html",
        payment=body,
        amount=format_brl(reais_to_cents(body["value"])),
        payable=body["status"] in PAYABLE and not body.get("deleted"),
        is_admin=bool(user and user.is_admin),
    )


@bp.post("/i/<payment_id>/<action>")
def checkout_action(payment_id: str, action: str) -> Any:
    if action not in CHECKOUT_ACTIONS and action != "refund":
        abort(404)
    user = current_user()
    admin_only = action == "refund" or CHECKOUT_ACTIONS[action][2]
    if admin_only and not (user and user.is_admin):
        abort(403)
    db = get_db()
    if action == "refund":
        value = (request.form.get("value") or "").strip().replace(",", ".")
        _body, event_ids = db.transaction(refund, payment_id, value or None)
    else:
        billing, events, _admin = CHECKOUT_ACTIONS[action]
        _row, body = db.transaction(_load, "payment", payment_id)
        if not admin_only and (body["status"] not in PAYABLE or body.get("deleted")):
            raise SimError(400, "invalid_action", "Esta cobrança não pode mais ser paga.")
        event_ids = db.transaction(apply_events, payment_id, events, billing)
    dispatch(event_ids)
    flash(f"Simulated: {action.replace('_', ' ')}.", "success")
    return redirect(url_for("asaas_sim.checkout", payment_id=payment_id))


@bp.get("/c/<link_id>")
def link_page(link_id: str) -> Any:
    _row, link = get_db().transaction(_load, "paymentLink", link_id)
    return render_template("asaas_sim/link.html", link=link, amount=format_brl(reais_to_cents(link["value"])))


@bp.post("/c/<link_id>")
def link_pay(link_id: str) -> Any:
    payer = {k: (request.form.get(k) or "").strip() for k in ("name", "cpfCnpj", "email")}
    db = get_db()
    payment_id = db.transaction(pay_link, link_id, payer, _public_url())
    dispatch(db.transaction(_pending_for, payment_id))
    return redirect(url_for("asaas_sim.checkout", payment_id=payment_id))


def _admin_overview(session: Session) -> dict[str, Any]:
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


@bp.get("/admin")
@admin_required
def admin() -> Any:
    overview = get_db().transaction(_admin_overview)
    return render_template("asaas_sim/admin.html", rules=RULES, **overview)


@bp.post("/admin/replay")
@admin_required
def admin_replay() -> Any:
    payment_id = request.form.get("payment_id", "")
    event = request.form.get("event", "")
    if event not in EVENTS:
        raise SimError(400, "invalid_event", "Escolha um dos 28 eventos PAYMENT_*.")
    dispatch(get_db().transaction(apply_events, payment_id, (event,)))
    flash(f"Sent {event} for {payment_id}.", "success")
    return redirect(url_for("asaas_sim.admin"))


@bp.post("/admin/redeliver")
@admin_required
def admin_redeliver() -> Any:
    pending = get_db().transaction(_pending_event_ids)
    dispatch(pending)
    flash(f"Redelivering {len(pending)} event(s).", "info")
    return redirect(url_for("asaas_sim.admin"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)

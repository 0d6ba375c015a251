"""The REST imitation at /asaas-sim/v3: the subset of Asaas's v3 API the site's client uses.

Any non-empty `access_token` header is accepted (there is one simulated account); errors are
answered in Asaas's shape, `{"errors": [{"code", "description"}]}`, with its status codes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from . import account, gateway, limits, validation, webhooks
from .gateway import SimError
from .host import database, ensure_tables, socketio
from .sender import deliver_events, dispatch, later, pending_event_ids, pending_for

api = Blueprint("asaas_sim_api", __name__, url_prefix="/asaas-sim/v3")
api.after_request(limits.after)


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"]


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
    ensure_tables()
    limits.before(current_app)
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
    return gateway.page(data, request.args.to_dict())


def _release_due(payment_id: str | None = None) -> None:
    """Card money whose release time passed is released before anyone reads it (no timer needed in tests)."""
    dispatch(database().transaction(gateway.release_due, payment_id))


@api.post("/customers")
def create_customer() -> Any:
    return database().transaction(gateway.create_customer, _json())


@api.get("/customers")
def find_customers() -> Any:
    return _list(database().transaction(gateway.find, "customer", request.args.to_dict()))


@api.get("/customers/<customer_id>")
def get_customer(customer_id: str) -> Any:
    return database().transaction(gateway.body_of, "customer", customer_id)


@api.post("/payments")
def create_payment() -> Any:
    db = database()
    body = db.transaction(gateway.create_payment, _json(), _public_url())
    dispatch(db.transaction(pending_for, body["id"]))
    return body


@api.get("/payments")
def find_payments() -> Any:
    _release_due()
    return _list(database().transaction(gateway.find, "payment", request.args.to_dict()))


@api.get("/payments/<payment_id>")
def get_payment(payment_id: str) -> Any:
    _release_due(payment_id)
    return database().transaction(gateway.body_of, "payment", payment_id)


@api.delete("/payments/<payment_id>")
def delete_payment(payment_id: str) -> Any:
    body, event_ids = database().transaction(gateway.delete_payment, payment_id)
    dispatch(event_ids)
    return body


@api.get("/payments/<payment_id>/pixQrCode")
def pix_qr_code(payment_id: str) -> Any:
    return database().transaction(gateway.pix_qr_code, payment_id)


@api.get("/payments/<payment_id>/identificationField")
def identification_field(payment_id: str) -> Any:
    return database().transaction(gateway.identification_field, payment_id)


@api.post("/payments/<payment_id>/refund")
def refund(payment_id: str) -> Any:
    """The refund is PENDING (PAYMENT_REFUND_IN_PROGRESS) and DONE a moment later, as Asaas settles it. With the
    validation webhook and "Ativar autorização de saque para estornos Pix", a PIX charge's refund is a cash-out
    the site must approve first (PIX_REFUND); refused, or three failed calls, and it is cancelled."""
    data = request.get_json(silent=True) or {}
    db = database()
    body, event_ids = db.transaction(gateway.refund, payment_id, data.get("value"))
    dispatch(event_ids)
    settings = db.transaction(account.settings, account.defaults())
    asks = settings["cashoutAuth"] == "validation_webhook" and settings["pixRefundValidation"]
    if asks and body["billingType"] == "PIX":
        _validate_refund(body)
    else:
        later(1.0, gateway.settle_refunds, payment_id)
    return body


def _validate_refund(payment: dict[str, Any]) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pending = [r for r in payment.get("refunds") or [] if r.get("status") == "PENDING"]
    pix_refund = {"id": f"ref_{payment['id']}", "payment": payment["id"], "value": pending[-1]["value"]}
    inline = app.config["ASAAS_SIM_DELIVERY"] == "inline"

    def run() -> None:
        answer = validation.ask_thrice(app, "PIX_REFUND", pix_refund, (0.0,) if inline else (5.0, 1.0, 2.0))
        change = gateway.settle_refunds if answer == "APPROVED" else gateway.deny_refunds
        with app.app_context():
            deliver_events(app, database(app).transaction(change, payment["id"]))

    if inline:
        run()
    else:
        socketio(app).start_background_task(run)


@api.get("/webhooks")
def list_webhooks() -> Any:
    return _list(database().transaction(webhooks.webhooks))


@api.post("/webhooks")
def create_webhook() -> Any:
    return database().transaction(webhooks.save_webhook, _json())


@api.put("/webhooks/<webhook_id>")
def update_webhook(webhook_id: str) -> Any:
    data = _json()
    body = database().transaction(webhooks.save_webhook, data, webhook_id)
    if data.get("interrupted") is False:
        dispatch(database().transaction(pending_event_ids))  # the queue resumes with what it kept
    return body


@api.post("/paymentLinks")
def create_link() -> Any:
    return database().transaction(gateway.create_link, _json(), _public_url())


@api.get("/paymentLinks/<link_id>")
def get_link(link_id: str) -> Any:
    return database().transaction(gateway.body_of, "paymentLink", link_id)


@api.delete("/paymentLinks/<link_id>")
def delete_link(link_id: str) -> Any:
    return database().transaction(gateway.delete_link, link_id)

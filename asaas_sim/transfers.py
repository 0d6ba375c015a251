"""Transfers in the simulator: `POST/GET /asaas-sim/v3/transfers`, the validation call, and the merchant's page.

A transfer is created PENDING (webhook TRANSFER_CREATED). About five seconds later (at once with
ASAAS_SIM_DELIVERY=inline) the simulator POSTs `{"type": "TRANSFER", "transfer": {...}}` to
ASAAS_SIM_VALIDATION_URL with the `asaas-access-token` header, as Asaas's validation mechanism does:
APPROVED leaves it PENDING (TRANSFER_PENDING); REFUSED, or three failed attempts, cancels it
(TRANSFER_CANCELLED). On the merchant's page (`/asaas-sim/transfers`) an approved transfer is then
made DONE (TRANSFER_IN_BANK_PROCESSING, TRANSFER_DONE) or FAILED (TRANSFER_FAILED).
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from typing import Any

import requests
from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from auction import clock

from .api import _error, _json, _list, _require_key
from .gateway import SimError, _reais, _save, _today, load
from .host import database, ensure_tables, socketio
from .models import AsaasSimEvent, AsaasSimObject
from .sender import dispatch, pending_for
from .views import merchant_only

log = logging.getLogger(__name__)
KEY_TYPES = {"CPF", "CNPJ", "EMAIL", "PHONE", "EVP"}
VALIDATION_DELAY = 5.0
VALIDATION_ATTEMPTS = 3

api = Blueprint("asaas_sim_transfers_api", __name__, url_prefix="/asaas-sim/v3")
api.before_request(_require_key)
api.register_error_handler(SimError, _error)
pages = Blueprint("asaas_sim_transfers", __name__, url_prefix="/asaas-sim", template_folder="templates")
pages.before_request(ensure_tables)


# -- state (one transaction each) -------------------------------------------------------------------


def _public(body: dict[str, Any]) -> dict[str, Any]:
    """The transfer as Asaas shows it (the simulator's own bookkeeping starts with `_`)."""
    return {k: v for k, v in body.items() if not k.startswith("_")}


def _event(session: Session, event: str, body: dict[str, Any]) -> str:
    event_id = f"evt_{uuid.uuid4().hex}&{secrets.randbelow(10**6)}"
    message = {
        "id": event_id,
        "event": event,
        "dateCreated": clock.now().strftime("%Y-%m-%d %H:%M:%S"),
        "transfer": _public(body),
    }
    session.add(
        AsaasSimEvent(
            event_id=event_id,
            event=event,
            payment_id=body["id"],
            body=json.dumps(message),
            status="pending",
            attempts=0,
            created_at=clock.now(),
        )
    )
    return event_id


def create_transfer(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    value = _reais(data.get("value"))
    key, key_type = str(data.get("pixAddressKey") or "").strip(), str(data.get("pixAddressKeyType") or "")
    if not key or key_type not in KEY_TYPES:
        raise SimError(400, "invalid_pixAddressKey", "Informe a chave Pix e o tipo da chave.")
    if data.get("operationType") not in (None, "PIX"):
        raise SimError(400, "invalid_operationType", "Para chave Pix a operação deve ser PIX.")
    body = {
        "object": "transfer",
        "id": str(uuid.uuid4()),
        "dateCreated": _today(),
        "status": "PENDING",
        "effectiveDate": None,
        "endToEndIdentifier": None,
        "type": "BANK_ACCOUNT",
        "value": float(value),
        "netValue": float(value),
        "transferFee": 0,
        "scheduleDate": _today(),
        "authorized": True,
        "failReason": None,
        "transactionReceiptUrl": None,
        "operationType": "PIX",
        "description": data.get("description"),
        "externalReference": data.get("externalReference"),
        "pixAddressKey": key,
        "pixAddressKeyType": key_type,
        "bankAccount": {"pixAddressKey": key, "ownerName": "Titular simulado", "cpfCnpj": None},
        "_validation": "waiting",
    }
    _save(session, "transfer", body)
    _event(session, "TRANSFER_CREATED", body)
    return _public(body)


def transfers(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AsaasSimObject)
        .where(AsaasSimObject.kind == "transfer")
        .order_by(AsaasSimObject.created_at.desc())
        .limit(100)
    )
    return [json.loads(row.body) for row in rows]


def _validated(session: Session, transfer_id: str, answer: str) -> list[str]:
    """What the validation's answer does: approved -> pending, refused or failed thrice -> cancelled."""
    row, body = load(session, "transfer", transfer_id, lock=True)
    if body["_validation"] != "waiting":
        return []
    if answer == "APPROVED":
        body["_validation"] = "approved"
        sent = [_event(session, "TRANSFER_PENDING", body)]
    else:
        body["_validation"] = "refused"
        body["status"] = "CANCELLED"
        body["failReason"] = "Recusada pelo mecanismo de validação" if answer == "REFUSED" else "Validação sem resposta"
        sent = [_event(session, "TRANSFER_CANCELLED", body)]
    _save(session, "transfer", body, row)
    return sent


def finish(session: Session, transfer_id: str, outcome: str) -> list[str]:
    """The merchant's page: an approved pending transfer becomes done or failed."""
    row, body = load(session, "transfer", transfer_id, lock=True)
    if body["status"] != "PENDING" or body["_validation"] != "approved":
        raise SimError(400, "invalid_action", f"A transferência está {body['status']}.")
    if outcome == "done":
        body["status"] = "BANK_PROCESSING"
        sent = [_event(session, "TRANSFER_IN_BANK_PROCESSING", body)]
        body["status"], body["effectiveDate"] = "DONE", _today()
        body["endToEndIdentifier"] = f"E{secrets.token_hex(15).upper()}"
        body["transactionReceiptUrl"] = f"https://sandbox.asaas.com/comprovantes/{body['id']}"
        sent.append(_event(session, "TRANSFER_DONE", body))
    elif outcome == "fail":
        body["status"], body["failReason"] = "FAILED", "Chave Pix não encontrada (simulado)"
        sent = [_event(session, "TRANSFER_FAILED", body)]
    else:
        raise SimError(400, "invalid_action", "Escolha done ou fail.")
    _save(session, "transfer", body, row)
    return sent


# -- the validation call ------------------------------------------------------------------------------


def _ask(app: Flask, transfer: dict[str, Any]) -> str:
    """One validation request: APPROVED, REFUSED, or "" when the site did not answer usably."""
    headers = {"asaas-access-token": app.config["ASAAS_TRANSFER_VALIDATION_TOKEN"], "Content-Type": "application/json"}
    body = json.dumps({"type": "TRANSFER", "transfer": transfer})
    if app.config["ASAAS_SIM_DELIVERY"] == "inline":
        answer = app.test_client().post("/payment/transfer-validation", data=body, headers=headers)
        status, payload = answer.status_code, answer.get_json(silent=True)
    else:
        try:
            reply = requests.post(app.config["ASAAS_SIM_VALIDATION_URL"], data=body, headers=headers, timeout=10)
            status, payload = reply.status_code, reply.json()
        except (requests.RequestException, ValueError):
            status, payload = 0, None
    verdict = payload.get("status") if status == 200 and isinstance(payload, dict) else None
    return verdict if verdict in ("APPROVED", "REFUSED") else ""


def validate(app: Flask, transfer_id: str, delays: tuple[float, ...]) -> None:
    with app.app_context():
        db = database(app)
        transfer = _public(db.transaction(lambda s: load(s, "transfer", transfer_id)[1]))
        answer = ""
        for attempt in range(VALIDATION_ATTEMPTS):
            if delays[min(attempt, len(delays) - 1)]:
                socketio(app).sleep(delays[min(attempt, len(delays) - 1)])
            answer = _ask(app, transfer)
            log.info("event=sim_transfer_validation transfer_id=%s attempt=%s answer=%s", transfer_id, attempt, answer)
            if answer:
                break
        dispatch(db.transaction(_validated, transfer_id, answer or "FAILED"))


def start_validation(transfer_id: str) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["ASAAS_SIM_DELIVERY"] == "inline":
        validate(app, transfer_id, (0.0,))
    else:
        socketio(app).start_background_task(validate, app, transfer_id, (VALIDATION_DELAY, 1.0, 2.0))


# -- routes ----------------------------------------------------------------------------------------------


@api.post("/transfers")
def create() -> Any:
    db = database()
    body = db.transaction(create_transfer, _json())
    dispatch(db.transaction(pending_for, body["id"]))
    start_validation(body["id"])
    return body


@api.get("/transfers")
def find() -> Any:
    return _list([_public(t) for t in database().transaction(transfers)])


@api.get("/transfers/<transfer_id>")
def get(transfer_id: str) -> Any:
    return _public(database().transaction(lambda s: load(s, "transfer", transfer_id)[1]))


@pages.get("/transfers")
@merchant_only
def admin() -> Any:
    return render_template("asaas_sim/transfers.html", transfers=database().transaction(transfers))


@pages.post("/transfers/<transfer_id>/<outcome>")
@merchant_only
def admin_finish(transfer_id: str, outcome: str) -> Any:
    try:
        dispatch(database().transaction(finish, transfer_id, outcome))
        flash(f"Transfer {transfer_id}: {outcome}.", "success")
    except SimError as exc:
        flash(exc.description, "error")
    return redirect(url_for("asaas_sim_transfers.admin"))


def init_app(app: Flask) -> None:
    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.extensions["csrf"].exempt(api)

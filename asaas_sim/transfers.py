"""Transfers in the simulator: `POST/GET /asaas-sim/v3/transfers`, the validation call, and the merchant's page.

A transfer is created PENDING (webhook TRANSFER_CREATED). About five seconds later (at once with
ASAAS_SIM_DELIVERY=inline) the simulator POSTs `{"type": "TRANSFER", "transfer": {...}}` to
ASAAS_SIM_VALIDATION_URL with the `asaas-access-token` header, as Asaas's validation mechanism does:
APPROVED leaves it PENDING (TRANSFER_PENDING); REFUSED, or three failed attempts, cancels it
(TRANSFER_CANCELLED). On the merchant's page (`/asaas-sim/transfers`) an approved transfer is then
made DONE (TRANSFER_IN_BANK_PROCESSING, TRANSFER_DONE) or FAILED (TRANSFER_FAILED).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from auction import clock

from . import account, limits
from .api import _error, _json, _list, _require_key
from .gateway import SimError, _reais, _save, _today, load, record_event
from .host import database, ensure_tables, socketio
from .models import AsaasSimObject
from .sender import dispatch, pending_for
from .validation import VALIDATION_TYPES, ask, ask_thrice
from .views import merchant_only

log = logging.getLogger(__name__)
KEY_TYPES = {"CPF", "CNPJ", "EMAIL", "PHONE", "EVP"}
VALIDATION_DELAY = 5.0
DUPLICATE_WINDOW = timedelta(minutes=15)

api = Blueprint("asaas_sim_transfers_api", __name__, url_prefix="/asaas-sim/v3")
api.before_request(_require_key)
api.after_request(limits.after)
api.register_error_handler(SimError, _error)
pages = Blueprint("asaas_sim_transfers", __name__, url_prefix="/asaas-sim", template_folder="templates")
pages.before_request(ensure_tables)


# -- state (one transaction each) -------------------------------------------------------------------


def _public(body: dict[str, Any]) -> dict[str, Any]:
    """The transfer as Asaas shows it (the simulator's own bookkeeping starts with `_`)."""
    return {k: v for k, v in body.items() if not k.startswith("_")}


def _event(session: Session, event: str, body: dict[str, Any]) -> str:
    return record_event(session, event, body["id"], {"transfer": _public(body)})


def _value(raw: Any) -> Decimal:
    """`value` is a JSON number at Asaas; a string ("150.00") is refused, as a strict API would."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise SimError(400, "invalid_value", "O campo value deve ser um número.")
    return _reais(raw)


def _key(data: dict[str, Any]) -> tuple[str, str]:
    key, key_type = str(data.get("pixAddressKey") or "").strip(), str(data.get("pixAddressKeyType") or "")
    if not key or key_type not in KEY_TYPES:
        raise SimError(400, "invalid_pixAddressKey", "Informe a chave Pix e o tipo da chave.")
    # "Phone-type keys must contain 11 digits, including the state area code" (transfers reference): no +55.
    if key_type == "PHONE" and not (len(key) == 11 and key.isdigit()):
        raise SimError(
            400, "invalid_pixAddressKey", "A chave Pix do tipo telefone deve conter 11 dígitos, incluindo o DDD."
        )
    return key, key_type


def masked_document(document: str) -> str:
    """As Asaas shows a transfer's destination document: "***.143.689-**" (CPF), "**.222.333/0001-**" (CNPJ)."""
    if len(document) == 11:
        return f"***.{document[3:6]}.{document[6:9]}-**"
    return f"**.{document[2:5]}.{document[5:8]}/{document[8:12]}-**"


def _made_up_cpf(seed: str) -> str:
    """A valid CPF that belongs to nobody on the site: the owner of a key nobody registered here."""
    digits = [int(c) for c in f"{int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**9:09d}"]
    for weights in (range(10, 1, -1), range(11, 1, -1)):
        rest = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        digits.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, digits))


def register_key(session: Session, key: str, key_type: str, owner_name: str, document: str) -> None:
    """The simulated DICT: whose account an e-mail, phone or random key leads to (admin page, tests)."""
    digits = "".join(c for c in document if c.isdigit())
    body = {"id": f"key:{key_type}:{key}", "ownerName": owner_name, "cpfCnpj": digits}
    row = session.get(AsaasSimObject, body["id"])
    _save(session, "pixKey", body, row)


def owner_of(session: Session, key: str, key_type: str) -> tuple[str, str]:
    """(owner's name, document) of the account a key leads to. A CPF/CNPJ key is its owner's document; another
    key is whoever registered it here, else a made-up stranger (a key usually belongs to someone else)."""
    if key_type in ("CPF", "CNPJ"):
        return "Titular da chave", key
    row = session.get(AsaasSimObject, f"key:{key_type}:{key}")
    if row is not None:
        body = json.loads(row.body)
        return body["ownerName"], body["cpfCnpj"]
    return "Outra pessoa (simulada)", _made_up_cpf(f"{key_type}:{key}")


def _authorised_now(settings: dict[str, Any], origin_ip: str) -> str:
    """How a new transfer is authorised: "webhook", "token" (waits, authorized: false) or "now"; or the 400."""
    mode = settings["cashoutAuth"]
    if mode == "validation_webhook":
        return "webhook"
    if mode == "token":
        return "token"
    if mode == "ip_allowlist" and origin_ip in settings["allowedIps"]:
        return "now"
    raise SimError(400, "invalid_action", account.CRITICAL_MESSAGE)


def _duplicate(session: Session, value: Decimal, key: str) -> bool:
    """Asaas answers 409 to a transfer identical (value, destination) to one made in the last 15 minutes."""
    since = (clock.now() - DUPLICATE_WINDOW).isoformat()
    return any(
        t.get("_createdAt", "") >= since and Decimal(str(t["value"])) == value and t.get("pixAddressKey") == key
        for t in transfers(session)
        if t["status"] not in ("CANCELLED", "FAILED")
    )


def create_transfer(
    session: Session, data: dict[str, Any], initial: dict[str, Any], origin_ip: str = "127.0.0.1"
) -> dict[str, Any]:
    value = _value(data.get("value"))
    key, key_type = _key(data)
    if data.get("operationType") not in (None, "PIX"):
        raise SimError(400, "invalid_operationType", "Para chave Pix a operação deve ser PIX.")
    settings = account.settings(session, initial)
    authorisation = _authorised_now(settings, origin_ip)
    fee = Decimal(str(settings["transferFee"]))
    if value + fee > account.balance(session):
        raise SimError(400, "invalid_value", "Saldo insuficiente para realizar a transferência.")
    if _duplicate(session, value, key):
        raise SimError(409, "duplicated_transfer", "Transferência idêntica realizada nos últimos 15 minutos.")
    owner_name, document = owner_of(session, key, key_type)
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
        "transferFee": float(fee),
        "scheduleDate": _today(),
        "authorized": authorisation == "now",
        "failReason": None,
        "transactionReceiptUrl": None,
        "operationType": "PIX",
        "description": data.get("description"),
        "externalReference": data.get("externalReference"),
        "pixAddressKey": key,
        "pixAddressKeyType": key_type,
        "bankAccount": {
            "bank": {"ispb": "00000000", "code": "000", "name": "Banco Simulado"},
            "accountName": None,
            "ownerName": owner_name,
            "cpfCnpj": masked_document(document),
            "agency": "0001",
            "account": "123456",
            "accountDigit": "7",
            "pixAddressKey": key,
        },
        "_validation": {"webhook": "waiting", "token": "token", "now": "approved"}[authorisation],
        "_createdAt": clock.now().isoformat(),
    }
    account.record(session, "TRANSFER", -value, f"Transferência {body['id']}", transferId=body["id"])
    account.record(session, "TRANSFER_FEE", -fee, f"Taxa da transferência {body['id']}", transferId=body["id"])
    _save(session, "transfer", body)
    _event(session, "TRANSFER_CREATED", body)
    return _public(body)


def transfers(session: Session) -> list[dict[str, Any]]:
    """Every transfer, newest first."""
    rows = session.scalars(
        select(AsaasSimObject)
        .where(AsaasSimObject.kind == "transfer")
        .order_by(AsaasSimObject.created_at.desc(), AsaasSimObject.id)
    )
    return [json.loads(row.body) for row in rows]


def listed(session: Session, filters: dict[str, str]) -> list[dict[str, Any]]:
    """GET /transfers: filtered by `dateCreated[ge]`/`[le]` and `type` only (Asaas has no reference filter)."""
    found = [_public(t) for t in transfers(session)]
    if since := filters.get("dateCreated[ge]"):
        found = [t for t in found if t["dateCreated"] >= since]
    if until := filters.get("dateCreated[le]"):
        found = [t for t in found if t["dateCreated"] <= until]
    if kind := filters.get("type"):
        found = [t for t in found if t["type"] == kind]
    return found


def _give_back(session: Session, body: dict[str, Any], status: str, reason: str) -> None:
    """A transfer that did not happen: its value and fee come back to the balance."""
    body["status"], body["failReason"] = status, reason
    refund = Decimal(str(body["value"])) + Decimal(str(body["transferFee"]))
    description = f"Transferência {body['id']} não realizada"
    account.record(session, "TRANSFER_REVERSAL", refund, description, transferId=body["id"])


def _validated(session: Session, transfer_id: str, answer: str) -> list[str]:
    """What the validation's answer does: approved -> pending, refused or failed thrice -> cancelled."""
    row, body = load(session, "transfer", transfer_id, lock=True)
    if body["_validation"] != "waiting":
        return []
    if answer == "APPROVED":
        body["_validation"], body["authorized"] = "approved", True
        sent = [_event(session, "TRANSFER_PENDING", body)]
    else:
        body["_validation"] = "refused"
        _give_back(
            session,
            body,
            "CANCELLED",
            "Recusada pelo mecanismo de validação" if answer == "REFUSED" else "Validação sem resposta",
        )
        sent = [_event(session, "TRANSFER_CANCELLED", body)]
    _save(session, "transfer", body, row)
    return sent


def authorise(session: Session, transfer_id: str) -> list[str]:
    """The merchant typed the SMS/app token: a transfer waiting with `authorized: false` goes ahead."""
    row, body = load(session, "transfer", transfer_id, lock=True)
    if body["_validation"] != "token" or body["status"] != "PENDING":
        raise SimError(400, "invalid_action", "Esta transferência não aguarda o token.")
    body["_validation"], body["authorized"] = "approved", True
    _save(session, "transfer", body, row)
    return [_event(session, "TRANSFER_PENDING", body)]


FINISHABLE = ("PENDING", "BLOCKED")


def finish(session: Session, transfer_id: str, outcome: str) -> list[str]:
    """The merchant's page: an authorised transfer is done, failed, blocked (TRANSFER_BLOCKED) or cancelled."""
    row, body = load(session, "transfer", transfer_id, lock=True)
    waiting_token = body["_validation"] == "token"
    if body["status"] not in FINISHABLE or not (body["_validation"] == "approved" or waiting_token):
        raise SimError(400, "invalid_action", f"A transferência está {body['status']}.")
    if waiting_token and outcome != "cancel":
        raise SimError(400, "invalid_action", "Informe o token antes (authorized: false).")
    if outcome == "done":
        body["status"] = "BANK_PROCESSING"
        sent = [_event(session, "TRANSFER_IN_BANK_PROCESSING", body)]
        body["status"], body["effectiveDate"] = "DONE", _today()
        body["endToEndIdentifier"] = f"E{secrets.token_hex(15).upper()}"
        body["transactionReceiptUrl"] = f"https://sandbox.asaas.com/comprovantes/{body['id']}"
        sent.append(_event(session, "TRANSFER_DONE", body))
    elif outcome == "fail":
        _give_back(session, body, "FAILED", "Chave Pix não encontrada (simulado)")
        sent = [_event(session, "TRANSFER_FAILED", body)]
    elif outcome == "block":
        body["status"], body["failReason"] = "BLOCKED", "Bloqueada para análise (simulado)"
        sent = [_event(session, "TRANSFER_BLOCKED", body)]
    elif outcome == "cancel":
        _give_back(session, body, "CANCELLED", "Cancelada pelo titular da conta")
        sent = [_event(session, "TRANSFER_CANCELLED", body)]
    else:
        raise SimError(400, "invalid_action", "Escolha done, fail, block ou cancel.")
    _save(session, "transfer", body, row)
    return sent


def cancel(session: Session, transfer_id: str) -> tuple[dict[str, Any], list[str]]:
    """DELETE /transfers/{id}/cancel: only a transfer still pending can be cancelled."""
    row, body = load(session, "transfer", transfer_id, lock=True)
    if body["status"] != "PENDING":
        raise SimError(400, "invalid_action", f"A transferência com status {body['status']} não pode ser cancelada.")
    _give_back(session, body, "CANCELLED", "Cancelada via API")
    body["_validation"] = "cancelled"
    _save(session, "transfer", body, row)
    return _public(body), [_event(session, "TRANSFER_CANCELLED", body)]


# -- the validation call ------------------------------------------------------------------------------


def validate(app: Flask, transfer_id: str, delays: tuple[float, ...]) -> None:
    with app.app_context():
        db = database(app)
        transfer = _public(db.transaction(lambda s: load(s, "transfer", transfer_id)[1]))
        answer = ask_thrice(app, "TRANSFER", transfer, delays)
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
    initial = account.defaults()
    body = db.transaction(create_transfer, _json(), initial, request.remote_addr or "")
    dispatch(db.transaction(pending_for, body["id"]))
    if db.transaction(account.settings, initial)["cashoutAuth"] == "validation_webhook":
        start_validation(body["id"])
    return body


@api.get("/transfers")
def find() -> Any:
    return _list(database().transaction(listed, request.args.to_dict()))


@api.get("/transfers/<transfer_id>")
def get(transfer_id: str) -> Any:
    return _public(database().transaction(lambda s: load(s, "transfer", transfer_id)[1]))


@api.delete("/transfers/<transfer_id>/cancel")
def cancel_transfer(transfer_id: str) -> Any:
    body, sent = database().transaction(cancel, transfer_id)
    dispatch(sent)
    return body


@api.get("/finance/balance")
def finance_balance() -> Any:
    return {"balance": float(database().transaction(account.balance))}


@api.get("/financialTransactions")
def financial_transactions() -> Any:
    lines = database().transaction(account.statement)
    args = request.args.to_dict()
    if since := args.get("startDate"):
        lines = [line for line in lines if line["date"] >= since]
    if until := args.get("finishDate"):
        lines = [line for line in lines if line["date"] <= until]
    return _list(lines)


@pages.get("/transfers")
@merchant_only
def admin() -> Any:
    db = database()
    return render_template(
        "asaas_sim/transfers.html",
        transfers=db.transaction(transfers)[:100],
        settings=db.transaction(account.settings, account.defaults()),
        balance=db.transaction(account.balance),
        modes=account.EXPLAINED,
        validation_types=VALIDATION_TYPES,
    )


def _back(message: str, category: str = "success") -> Any:
    flash(message, category)
    return redirect(url_for("asaas_sim_transfers.admin"))


@pages.post("/transfers/<transfer_id>/<outcome>")
@merchant_only
def admin_finish(transfer_id: str, outcome: str) -> Any:
    try:
        action = authorise if outcome == "authorise" else (lambda s, t: finish(s, t, outcome))
        dispatch(database().transaction(action, transfer_id))
    except SimError as exc:
        return _back(exc.description, "error")
    return _back(f"Transfer {transfer_id}: {outcome}.")


@pages.post("/account")
@merchant_only
def admin_account() -> Any:
    form = request.form
    changes: dict[str, Any] = {
        "cashoutAuth": form.get("cashoutAuth", "critical"),
        "allowedIps": [ip.strip() for ip in form.get("allowedIps", "").split(",") if ip.strip()],
        "pixRefundValidation": form.get("pixRefundValidation") == "on",
    }
    for field in ("rateLimit", "quota", "concurrentGets"):
        if (value := form.get(field, "").strip()).isdigit():
            changes[field] = int(value)
    try:
        database().transaction(account.save_settings, changes, account.defaults())
    except ValueError as exc:
        return _back(str(exc), "error")
    return _back("Account settings saved.")


@pages.post("/deposit")
@merchant_only
def admin_deposit() -> Any:
    try:
        value = _reais((request.form.get("value") or "").replace(",", "."))
    except SimError as exc:
        return _back(exc.description, "error")
    database().transaction(account.deposit, value)
    return _back(f"Deposited R$ {value}.")


@pages.post("/validation-call")
@merchant_only
def admin_validation_call() -> Any:
    """Send the site a validation call of any type, as Asaas would for a cash-out made elsewhere."""
    kind = request.form.get("type", "")
    if kind not in VALIDATION_TYPES:
        return _back("Unknown type.", "error")
    obj = {"id": f"sim_{secrets.token_hex(6)}", "value": 10.0, "description": "Saque simulado fora do site"}
    answer = ask(current_app._get_current_object(), kind, obj) or "no answer"  # type: ignore[attr-defined]
    return _back(f"{kind}: {answer}.")


def init_app(app: Flask) -> None:
    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.extensions["csrf"].exempt(api)

"""The simulator's pages: the invoice (checkout) page, the payment link page, and the merchant's admin page.

The checkout is keyed by the payment id in its URL and needs no login, like Asaas's own
invoice page. Refund, chargeback, dispute-won and the admin page are the merchant's (the
Asaas account holder's); the site says who that is (`asaas_sim.host`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from auction.money import format_brl, reais_to_cents

from . import gateway
from .gateway import ASAAS_EVENTS, PAYABLE, SimError
from .host import database, ensure_tables, host
from .sender import dispatch, pending_event_ids, pending_for

bp = Blueprint("asaas_sim", __name__, url_prefix="/asaas-sim", template_folder="templates")
bp.before_request(ensure_tables)

# What each checkout button does, as the events Asaas would send.
CHECKOUT_ACTIONS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    # action: (billing type, events, merchant only)
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


def merchant_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        refusal = host().refuse_non_merchant()
        if refusal is not None:
            return refusal
        return view(*args, **kwargs)

    return wrapped


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"]


@bp.errorhandler(SimError)
def _page_error(exc: SimError) -> Any:
    return render_template("asaas_sim/message.html", title="Asaas simulator", message=exc.description), exc.status


@bp.get("/i/<payment_id>")
def checkout(payment_id: str) -> Any:
    body = database().transaction(gateway.body_of, "payment", payment_id)
    return render_template(
        "asaas_sim/checkout.html",
        payment=body,
        amount=format_brl(reais_to_cents(body["value"])),
        payable=body["status"] in PAYABLE and not body.get("deleted"),
        is_merchant=host().is_merchant(),
    )


@bp.post("/i/<payment_id>/<action>")
def checkout_action(payment_id: str, action: str) -> Any:
    if action not in CHECKOUT_ACTIONS and action != "refund":
        abort(404)
    merchant_action = action == "refund" or CHECKOUT_ACTIONS[action][2]
    if merchant_action and not host().is_merchant():
        abort(403)
    db = database()
    if action == "refund":
        value = (request.form.get("value") or "").strip().replace(",", ".")
        _body, event_ids = db.transaction(gateway.refund, payment_id, value or None)
    else:
        billing, events, _merchant = CHECKOUT_ACTIONS[action]
        body = db.transaction(gateway.body_of, "payment", payment_id)
        if not merchant_action and (body["status"] not in PAYABLE or body.get("deleted")):
            raise SimError(400, "invalid_action", "Esta cobrança não pode mais ser paga.")
        event_ids = db.transaction(gateway.apply_events, payment_id, events, billing)
    dispatch(event_ids)
    flash(f"Simulated: {action.replace('_', ' ')}.", "success")
    return redirect(url_for("asaas_sim.checkout", payment_id=payment_id))


@bp.get("/c/<link_id>")
def link_page(link_id: str) -> Any:
    link = database().transaction(gateway.body_of, "paymentLink", link_id)
    return render_template("asaas_sim/link.html", link=link, amount=format_brl(reais_to_cents(link["value"])))


@bp.post("/c/<link_id>")
def link_pay(link_id: str) -> Any:
    payer = {k: (request.form.get(k) or "").strip() for k in ("name", "cpfCnpj", "email")}
    db = database()
    payment_id = db.transaction(gateway.pay_link, link_id, payer, _public_url())
    dispatch(db.transaction(pending_for, payment_id))
    return redirect(url_for("asaas_sim.checkout", payment_id=payment_id))


@bp.get("/admin")
@merchant_only
def admin() -> Any:
    overview = database().transaction(gateway.overview)
    return render_template("asaas_sim/admin.html", asaas_events=ASAAS_EVENTS, **overview)


@bp.post("/admin/replay")
@merchant_only
def admin_replay() -> Any:
    payment_id = request.form.get("payment_id", "")
    event = request.form.get("event", "")
    if event not in ASAAS_EVENTS:
        raise SimError(400, "invalid_event", "Escolha um dos 28 eventos PAYMENT_*.")
    dispatch(database().transaction(gateway.apply_events, payment_id, (event,)))
    flash(f"Sent {event} for {payment_id}.", "success")
    return redirect(url_for("asaas_sim.admin"))


@bp.post("/admin/redeliver")
@merchant_only
def admin_redeliver() -> Any:
    pending = database().transaction(pending_event_ids)
    dispatch(pending)
    flash(f"Redelivering {len(pending)} event(s).", "info")
    return redirect(url_for("asaas_sim.admin"))

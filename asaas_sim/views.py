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
from .sender import dispatch, later, pending_event_ids, pending_for

bp = Blueprint("asaas_sim", __name__, url_prefix="/asaas-sim", template_folder="templates")
bp.before_request(ensure_tables)

# The payer's ways to pay (gateway.pay: PIX and boleto go straight to RECEIVED; a card is CONFIRMED, then
# RECEIVED after ASAAS_SIM_CARD_RECEIVE_DELAY seconds).
PAY_ACTIONS = {"pay": "PIX", "pay_boleto": "BOLETO", "pay_card": "CREDIT_CARD"}
# What each other checkout button does, as the events Asaas would send.
CHECKOUT_ACTIONS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    # action: (billing type, events, merchant only)
    "refuse": ("CREDIT_CARD", ("PAYMENT_CREDIT_CARD_CAPTURE_REFUSED",), False),
    "card_chargeback": (
        "CREDIT_CARD",
        ("PAYMENT_CONFIRMED", "PAYMENT_RECEIVED", "PAYMENT_CHARGEBACK_REQUESTED"),
        False,
    ),
    "cash": ("", ("PAYMENT_RECEIVED",), True),  # the merchant marks it received in cash (status RECEIVED_IN_CASH)
    "chargeback": ("", ("PAYMENT_CHARGEBACK_REQUESTED",), True),
    "dispute_won": ("", ("PAYMENT_AWAITING_CHARGEBACK_REVERSAL",), True),
}
# Merchant buttons for what Asaas does on its own later.
LATER_ACTIONS = {
    "settle_refunds": gateway.settle_refunds,
    "release_card": gateway.release_due,
    "chargeback_reversed": gateway.chargeback_reversed,
    "dispute_lost": gateway.dispute_lost,
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
    db = database()
    dispatch(db.transaction(gateway.release_due, payment_id))
    body = db.transaction(gateway.sim_body_of, "payment", payment_id)
    billing = body["billingType"]
    return render_template(
        "asaas_sim/checkout.html",
        payment=body,
        amount=format_brl(reais_to_cents(body["value"])),
        payable=body["status"] in PAYABLE and not body.get("deleted"),
        refused=bool(body.get("_cardRefused")),
        ways=[a for a, b in PAY_ACTIONS.items() if billing in ("UNDEFINED", b)],
        card=billing in ("UNDEFINED", "CREDIT_CARD"),
        is_merchant=host().is_merchant(),
    )


def _merchant_action(action: str) -> bool:
    if action in PAY_ACTIONS:
        return False
    if action in ("refund", *LATER_ACTIONS):
        return True
    if action in CHECKOUT_ACTIONS:
        return CHECKOUT_ACTIONS[action][2]
    abort(404)


def _back_to_site(payment_id: str) -> Any:
    """After paying, like Asaas: back to the site's `callback.successUrl` when it asked for it."""
    callback = database().transaction(gateway.body_of, "payment", payment_id).get("callback") or {}
    if callback.get("successUrl") and callback.get("autoRedirect", True):
        return redirect(callback["successUrl"])
    return redirect(url_for("asaas_sim.checkout", payment_id=payment_id))


@bp.post("/i/<payment_id>/<action>")
def checkout_action(payment_id: str, action: str) -> Any:
    merchant_action = _merchant_action(action)
    if merchant_action and not host().is_merchant():
        abort(403)
    db = database()
    if action in PAY_ACTIONS:
        delay = float(current_app.config["ASAAS_SIM_CARD_RECEIVE_DELAY"])
        dispatch(db.transaction(gateway.pay, payment_id, PAY_ACTIONS[action], delay))
        if action == "pay_card" and delay > 0:
            later(delay, gateway.release_due, payment_id)
        return _back_to_site(payment_id)
    if action == "refund":
        value = (request.form.get("value") or "").strip().replace(",", ".")
        _body, event_ids = db.transaction(gateway.refund, payment_id, value or None)
        later(1.0, gateway.settle_refunds, payment_id)
    elif action in LATER_ACTIONS:
        event_ids = db.transaction(LATER_ACTIONS[action], payment_id)
    else:
        billing, events, _merchant = CHECKOUT_ACTIONS[action]
        body = db.transaction(gateway.body_of, "payment", payment_id)
        if not merchant_action and (body["status"] not in PAYABLE or body.get("deleted")):
            raise SimError(400, "invalid_action", "Esta cobrança não pode mais ser paga.")
        if action == "cash":
            event_ids = db.transaction(gateway.receive_in_cash, payment_id)
        else:
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
        raise SimError(400, "invalid_event", "Escolha um dos 29 eventos PAYMENT_*.")
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

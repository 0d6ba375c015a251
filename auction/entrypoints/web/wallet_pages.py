"""The wallet page (balances, ledger history, add money), the pay page of one top-up, and the user's payments."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import wallet as ledger
from ...db import DatabaseUnavailable
from ...errors import NotFound, ServiceError
from ...extensions import get_asaas, get_db
from ...models import Auction
from ...money import parse_brl
from ...payments import instructions, queries, topups
from ...payouts import WithdrawalLimits
from ...payouts import queries as payout_queries
from .auth import client_ip, login_required, rate_limited, signed_in_user

bp = Blueprint("wallet_pages", __name__)

# Ledger reasons as a person reads them.
REASONS = {
    "bid_hold": "Bid hold",
    "released": "Hold released",
    "won": "Auction won",
    "sale": "Sale",
    "fee": "Platform fee",
    "top_up": "Top-up",
    "refund": "Refund",
    "chargeback": "Chargeback",
    "chargeback_reversed": "Chargeback reversed",
    "payment_restored": "Payment restored",
    "payment_undone": "Payment undone",
    "demo_credit": "Demo credit",
    "cash_top_up": "Cash top-up",
    "frozen_refund": "Frozen: refund in progress",
    "frozen_chargeback": "Frozen: chargeback open",
    "unfrozen": "Unfrozen",
    "escrow_refund": "Refund from escrow",
    "withdrawal": "Withdrawal",
    "withdrawal_done": "Withdrawal sent",
    "withdrawal_returned": "Withdrawal returned",
}
# Asaas payment statuses as a person reads them.
PAYMENT_STATUSES = {
    "NEW": "Being created",
    "PENDING": "Waiting for payment",
    "AWAITING_RISK_ANALYSIS": "Under review",
    "CONFIRMED": "Confirmed",
    "RECEIVED": "Paid",
    "RECEIVED_IN_CASH": "Paid in cash",
    "OVERDUE": "Overdue",
    "REFUNDED": "Refunded",
    "REFUND_REQUESTED": "Refund requested",
    "REFUND_IN_PROGRESS": "Refund in progress",
    "PARTIALLY_REFUNDED": "Partially refunded",
    "CHARGEBACK_REQUESTED": "Chargeback",
    "CHARGEBACK_DISPUTE": "Chargeback in dispute",
    "AWAITING_CHARGEBACK_REVERSAL": "Chargeback reversal pending",
    "DUNNING_REQUESTED": "In collection",
    "DUNNING_RECEIVED": "Recovered",
    "DELETED": "Cancelled",
    "REFUSED": "Refused",
    "ABANDONED": "Not created",
}


def reason_label(reason: str) -> str:
    return REASONS.get(reason, reason.replace("_", " ").capitalize())


def payment_status_label(status: str) -> str:
    return PAYMENT_STATUSES.get(status, status.replace("_", " ").capitalize())


def _wallet_page(session: Session, user_id: int) -> dict[str, Any]:
    items = ledger.history(session, user_id)
    auction_ids = {i.auction_id for i in items} - {None}
    titles = dict(session.execute(select(Auction.id, Auction.title).where(Auction.id.in_(auction_ids))).all())
    return {
        "balance": ledger.balance(session, user_id),
        "items": items,
        "titles": titles,
        "withdrawals": payout_queries.for_user(session, user_id),
        "in_withdrawal": payout_queries.in_flight(session, user_id),
    }


@bp.get("/wallet")
@login_required
def wallet() -> Any:
    user = signed_in_user()
    page = get_db().transaction(_wallet_page, user.id)
    limits = (current_app.config["TOPUP_MIN_CENTS"], current_app.config["TOPUP_MAX_CENTS"])
    withdrawal_limits = WithdrawalLimits.from_config(current_app.config)
    return render_template(
        "wallet/wallet.html", **page, reason_label=reason_label, limits=limits, withdrawal_limits=withdrawal_limits
    )


@bp.get("/wallet/payments")
@login_required
def payments() -> Any:
    user = signed_in_user()
    rows = get_db().transaction(queries.list_user_payments, user.id)
    return render_template("wallet/payments.html", payments=rows, status_label=payment_status_label)


def pay_page_url(config: Any) -> str:
    """Our pay page, where Asaas's own page sends the payer back (`callback.successUrl`); {id}: the payment."""
    return f"{config['PUBLIC_URL']}/wallet/payments/{{id}}"


@bp.get("/wallet/payments/<int:payment_id>")
@login_required
def pay(payment_id: int) -> Any:
    """One top-up: the PIX QR code and copy-paste code, the boleto line, or the card invoice link; turns to
    "paid" live when the webhook lands (the `payment` socket event)."""
    user = signed_in_user()
    try:
        page = instructions.pay_page(get_db(), get_asaas(), payment_id, user.id)
    except NotFound:
        abort(404)
    return render_template("wallet/pay.html", p=page, status_label=payment_status_label)


@bp.post("/wallet/topup")
@login_required
def topup() -> Any:
    """Without JS: start the top-up and show its pay page (with JS the socket's add_money does the same)."""
    user = signed_in_user()
    if rate_limited("topup_user", user.id) or rate_limited("topup_ip", client_ip()):
        flash("Too many top-ups; wait a minute and try again.", "error")
        return redirect(url_for("wallet_pages.wallet"))
    try:
        amount = parse_brl(request.form.get("amount") or "")
        command = topups.StartTopUp(
            user.id,
            amount,
            topups.TopUpLimits.from_config(current_app.config),
            billing_type=request.form.get("billing_type") or "PIX",
            return_url=pay_page_url(current_app.config),
        )
        started = topups.create_topup(get_db(), get_asaas(), command)
    except (ValueError, ServiceError) as exc:
        flash(f"Could not add money: {getattr(exc, 'message', exc)}", "error")
        return redirect(url_for("wallet_pages.wallet"))
    except DatabaseUnavailable:
        flash("The service is briefly unavailable; please try again.", "error")
        return redirect(url_for("wallet_pages.wallet"))
    return redirect(url_for("wallet_pages.pay", payment_id=started.payment_id))

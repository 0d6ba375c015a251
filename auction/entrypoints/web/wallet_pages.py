"""The wallet page (balances, ledger history, add money), the pay page of one top-up, and the user's payments."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import wallet as ledger
from ...accounts.security import NOT_VERIFIED, second_factor_on, withdrawal_wait
from ...auctions import sale_events
from ...db import DatabaseUnavailable
from ...errors import NotFound, ServiceError
from ...extensions import get_asaas
from ...models import Auction
from ...money import parse_brl
from ...payments import instructions, queries, topups
from ...payouts import WithdrawalLimits
from ...payouts import queries as payout_queries
from ..i18n import localize
from ..usecases import database, read
from .auth import client_ip, login_required, rate_limited, signed_in_user
from .js_strings import payment_status_label
from .pages import nav_counts

bp = Blueprint("wallet_pages", __name__)

# Ledger reasons as a person reads them.
REASONS = {
    "bid_hold": _l("Bid hold"),
    "released": _l("Hold released"),
    "won": _l("Lot won"),
    "sale": _l("Sale"),
    "fee": _l("Platform fee"),
    "top_up": _l("Top-up"),
    "refund": _l("Refund"),
    "chargeback": _l("Chargeback"),
    "chargeback_reversed": _l("Chargeback reversed"),
    "payment_restored": _l("Payment restored"),
    "payment_undone": _l("Payment undone"),
    "demo_credit": _l("Demo credit"),
    "cash_top_up": _l("Cash top-up"),
    "frozen_refund": _l("Frozen: refund in progress"),
    "frozen_chargeback": _l("Frozen: chargeback open"),
    "unfrozen": _l("Unfrozen"),
    "escrow_refund": _l("Refund from escrow"),
    "premium": _l("Buyer's premium received"),
    "premium_due": _l("Buyer's premium"),
    "second_chance": _l("Second-chance offer accepted"),
    "withdrawal": _l("Withdrawal"),
    "withdrawal_done": _l("Withdrawal sent"),
    "withdrawal_returned": _l("Withdrawal returned"),
    "event_deposit": _l("Deposit (caução) held"),
    "deposit_released": _l("Deposit (caução) released"),
}


def reason_label(reason: str) -> str:
    return str(REASONS.get(reason, reason.replace("_", " ").capitalize()))


def _wallet_page(session: Session, user_id: int, cooldown_hours: int) -> dict[str, Any]:
    """Everything the page shows of the user's money, from one snapshot (`read(..., consistent=True)`)."""
    balance = ledger.balance(session, user_id)
    items = ledger.history(session, user_id)
    auction_ids = {i.auction_id for i in items} - {None}
    titles = dict(session.execute(select(Auction.id, Auction.title).where(Auction.id.in_(auction_ids))).all())
    return {
        "nav": nav_counts(session, user_id, balance),
        "balance": balance,
        "items": items,
        "titles": titles,
        "withdrawals": payout_queries.for_user(session, user_id),
        "in_withdrawal": payout_queries.in_flight(session, user_id),
        "withdrawal_wait": withdrawal_wait(session, user_id, cooldown_hours),
        "second_factor": second_factor_on(session, user_id),
        "deposits": sale_events.deposits_of(session, user_id),
    }


@bp.get("/wallet")
@login_required
def wallet() -> Any:
    user = signed_in_user()
    page = read(_wallet_page, user.id, current_app.config["WITHDRAWAL_COOLDOWN_HOURS"], consistent=True)
    g.nav = page.pop("nav")
    limits = (current_app.config["TOPUP_MIN_CENTS"], current_app.config["TOPUP_MAX_CENTS"])
    withdrawal_limits = WithdrawalLimits.from_config(current_app.config)
    return render_template(
        "wallet/wallet.html",
        **page,
        reason_label=reason_label,
        limits=limits,
        withdrawal_limits=withdrawal_limits,
        not_verified=page["withdrawal_wait"] == NOT_VERIFIED,
    )


def _payer_pays_fee() -> bool:
    """Asaas's fee is the payer's business only when the wallet is credited the net value (ASAAS_CREDIT_VALUE=net);
    with `gross` the site absorbs it and the payer got every centavo they paid."""
    return current_app.config["ASAAS_CREDIT_VALUE"] == "net"


@bp.get("/wallet/payments")
@login_required
def payments() -> Any:
    user = signed_in_user()
    rows = read(queries.list_user_payments, user.id)
    return render_template(
        "wallet/payments.html", payments=rows, status_label=payment_status_label, payer_pays_fee=_payer_pays_fee()
    )


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
        page = instructions.pay_page(database(), get_asaas(), payment_id, user.id)
    except NotFound:
        abort(404)
    return render_template(
        "wallet/pay.html", p=page, status_label=payment_status_label, payer_pays_fee=_payer_pays_fee()
    )


@bp.post("/wallet/topup")
@login_required
def topup() -> Any:
    """Without JS: start the top-up and show its pay page (with JS the socket's add_money does the same)."""
    user = signed_in_user()
    if rate_limited("topup_user", user.id) or rate_limited("topup_ip", client_ip()):
        flash(_("Too many top-ups; wait a minute and try again."), "error")
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
        started = topups.create_topup(database(), get_asaas(), command)
    except (ValueError, ServiceError) as exc:
        flash(_("Could not add money: %(reason)s", reason=localize(str(getattr(exc, "message", exc)))), "error")
        return redirect(url_for("wallet_pages.wallet"))
    except DatabaseUnavailable:
        flash(_("The service is briefly unavailable; please try again."), "error")
        return redirect(url_for("wallet_pages.wallet"))
    return redirect(url_for("wallet_pages.pay", payment_id=started.payment_id))

"""Admin pages for money out and goods delivered: withdrawals awaiting approval, orders, disputes."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...extensions import get_asaas
from ...orders import queries as order_queries
from ...orders import service as orders
from ...payouts import queries as payout_queries
from ...payouts import withdrawals
from ..usecases import database, perform, read
from .auth import admin_required, signed_in_user
from .js_strings import withdrawal_status

bp = Blueprint("admin_orders", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)


@bp.before_request
@admin_required
def _admins_only() -> None:
    """Admins only (403 for anyone else, login for anonymous)."""


@bp.get("/withdrawals")
def withdrawals_page() -> Any:
    awaiting = request.args.get("all") != "1"
    rows = read(lambda s: payout_queries.for_admin(s, awaiting_only=awaiting))
    return render_template("admin/withdrawals.html", rows=rows, awaiting=awaiting)


@bp.post("/withdrawals/<int:withdrawal_id>/approve")
def approve_withdrawal(withdrawal_id: int) -> Any:
    admin = signed_in_user()
    perform(withdrawals.approve, withdrawals.AdminDecision(withdrawal_id, admin.id))
    status = withdrawals.submit(database(), get_asaas(), withdrawal_id)
    log.info("event=admin_withdrawal_approved withdrawal_id=%s admin_id=%s status=%s", withdrawal_id, admin.id, status)
    flash(_("Withdrawal #%(id)s approved (%(status)s).", id=withdrawal_id, status=withdrawal_status(status)), "success")
    return redirect(url_for("admin_orders.withdrawals_page"), code=303)


@bp.post("/withdrawals/<int:withdrawal_id>/refuse")
def refuse_withdrawal(withdrawal_id: int) -> Any:
    admin = signed_in_user()
    decision = withdrawals.AdminDecision(withdrawal_id, admin.id, request.form.get("reason", "")[:200])
    perform(withdrawals.refuse, decision)
    log.info("event=admin_withdrawal_refused withdrawal_id=%s admin_id=%s", withdrawal_id, admin.id)
    flash(_("Withdrawal #%(id)s refused; the money is back in the user's wallet.", id=withdrawal_id), "success")
    return redirect(url_for("admin_orders.withdrawals_page"), code=303)


@bp.get("/orders")
def orders_page() -> Any:
    disputed = request.args.get("disputed") == "1"
    rows = read(lambda s: order_queries.admin_orders(s, disputed_only=disputed))
    return render_template("admin/orders.html", rows=rows, disputed=disputed)


@bp.get("/disputes")
def disputes_page() -> Any:
    rows = read(lambda s: order_queries.admin_orders(s, disputed_only=True))
    return render_template("admin/orders.html", rows=rows, disputed=True)


@bp.post("/orders/<int:order_id>/resolve")
def resolve_dispute(order_id: int) -> Any:
    admin = signed_in_user()
    decision = request.form.get("decision", "")
    perform(orders.resolve, orders.Resolve(order_id, admin.id, decision))
    log.info("event=admin_dispute_resolved order_id=%s admin_id=%s decision=%s", order_id, admin.id, decision)
    done = _("decided for the seller") if decision == "release" else _("decided for the buyer")
    flash(_("Dispute on order #%(id)s resolved: %(decision)s.", id=order_id, decision=done), "success")
    return redirect(url_for("admin_orders.disputes_page"), code=303)

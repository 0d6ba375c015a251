"""Admin pages about Asaas itself: crediting cash receipts, the webhook's queue at Asaas, the API quota meter, the
ledger against the Asaas balance and statement.

Routes on the admin blueprint (admins only, its before_request checks); the services are in auction.payments.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...errors import ServiceError
from ...extensions import get_asaas
from ...money import format_brl
from ...payments import queries, quota, webhook_setup
from ...payments.balance import BalanceCheck
from ...payments.cash import CreditCashReceipt, credit_cash_receipt
from ...payments.client import AsaasError
from ...payments.events import CreditPolicy
from ..i18n import localize
from ..jobs import run_balance_check
from ..usecases import perform, read
from .admin import bp
from .auth import signed_in_user

log = logging.getLogger(__name__)


@bp.post("/payments/<int:payment_id>/credit-cash")
def credit_cash(payment_id: int) -> Any:
    """Credit a charge marked received in cash as a top-up (recorded with the admin who did it)."""
    admin = signed_in_user()
    command = CreditCashReceipt(payment_id, admin.id, CreditPolicy.from_config(current_app.config))
    try:
        result = perform(credit_cash_receipt, command)
    except ServiceError as exc:
        flash(localize(exc.message), "error")
    else:
        flash(
            _("Cash receipt #%(id)s credited: %(amount)s added.", id=payment_id, amount=format_brl(result.moved)),
            "success",
        )
    return redirect(url_for("admin.payments"))


def _webhook_url() -> str:
    return f"{current_app.config['PUBLIC_URL']}/payment/webhook"


@bp.get("/payments/asaas")
def asaas_health() -> Any:
    """The webhook's queue at Asaas (interrupted or not), our failed deliveries, and the request meter."""
    return _health_page()


@bp.post("/payments/asaas/balance-check")
def balance_check() -> Any:
    """The ledger against the Asaas balance and statement, now (the jobs process does it daily)."""
    admin = signed_in_user()
    try:
        result = run_balance_check(current_app)
    except AsaasError as exc:
        log.warning("event=admin_balance_check_failed error=%s", exc)
        flash(_("Asaas could not be asked now; try again later."), "error")
        return redirect(url_for("admin.asaas_health"))
    log.info("event=admin_balance_check admin_id=%s differences=%s", admin.id, len(result.differences))
    return _health_page(result)


def _health_page(balance_check: BalanceCheck | None = None) -> Any:
    error = None
    try:
        status = webhook_setup.webhook_status(get_asaas(), _webhook_url())
    except ServiceError as exc:
        status, error = None, exc.message
    return render_template(
        "admin/payments_asaas.html",
        status=status,
        error=error,
        failed=read(queries.failed_delivery_count),
        usage=read(quota.usage, current_app.config["ASAAS_RECONCILE_BUDGET"]),
        endpoint_limits=dict(get_asaas().limits),
        quota=quota.ASAAS_QUOTA,
        balance_check=balance_check,
    )


@bp.post("/payments/asaas/resume")
def resume_webhook() -> Any:
    admin = signed_in_user()
    try:
        status = webhook_setup.resume_webhook(get_asaas(), _webhook_url())
    except ServiceError as exc:
        flash(localize(exc.message), "error")
    else:
        log.info("event=admin_webhook_resume admin_id=%s found=%s", admin.id, status.found)
        flash(_("Webhook queue resumed.") if status.found else _("No webhook registered at Asaas."), "success")
    return redirect(url_for("admin.asaas_health"))


@bp.post("/payments/asaas/setup")
def setup_webhook() -> Any:
    admin = signed_in_user()
    config = current_app.config
    try:
        webhook_setup.setup_webhook(
            get_asaas(), url=_webhook_url(), token=config["ASAAS_WEBHOOK_TOKEN"], email=config["ASAAS_WEBHOOK_EMAIL"]
        )
    except ServiceError as exc:
        flash(localize(exc.message), "error")
    else:
        log.info("event=admin_webhook_setup admin_id=%s", admin.id)
        flash(_("Webhook registered at Asaas."), "success")
    return redirect(url_for("admin.asaas_health"))

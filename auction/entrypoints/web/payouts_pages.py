"""Withdrawals from the wallet page without JavaScript (with it, the socket's `withdraw` does the same)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from ... import accounts
from ...extensions import get_asaas
from ...money import parse_brl
from ...payouts import withdrawals
from ..i18n import localize
from ..usecases import database
from .auth import client_ip, login_required, rate_limited, signed_in_user
from .js_strings import withdrawal_status

bp = Blueprint("payouts_pages", __name__)


@bp.post("/wallet/withdraw")
@login_required
def withdraw() -> Any:
    user = signed_in_user()
    if rate_limited("withdraw_user", user.id) or rate_limited("withdraw_ip", client_ip()):
        flash(_("Too many withdrawals; wait a minute and try again."), "error")
        return redirect(url_for("wallet_pages.wallet"))
    try:
        amount = parse_brl(request.form.get("amount") or "")
    except ValueError as exc:
        flash(_("Could not withdraw: %(reason)s", reason=localize(str(exc))), "error")
        return redirect(url_for("wallet_pages.wallet"))
    accounts.authorize_withdrawal(
        database(), user.id, request.form.get("password") or "", current_app.config["WITHDRAWAL_COOLDOWN_HOURS"]
    )
    limits = withdrawals.WithdrawalLimits.from_config(current_app.config)
    command = withdrawals.RequestWithdrawal(
        user.id, amount, request.form.get("pix_key"), request.form.get("pix_key_type"), limits
    )
    withdrawal_id, status = withdrawals.withdraw(database(), get_asaas(), command)
    flash(_("Withdrawal #%(id)s: %(status)s.", id=withdrawal_id, status=withdrawal_status(status)), "success")
    return redirect(url_for("wallet_pages.wallet"), code=303)

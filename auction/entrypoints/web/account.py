"""The account's own pages: confirm the e-mail, forgotten password, the account page (password, e-mail,
sessions, two-factor login) and the second step of a login. Thin: each form calls one accounts use case."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ...accounts import lifecycle, personal_data, security
from ...accounts.lifecycle import PLACEHOLDER, Link
from ...accounts.queries import token_hash
from ..i18n import localize
from ..usecases import perform, read
from .auth import (
    PENDING_2FA,
    SESSION_KEY,
    begin_login,
    client_ip,
    login_required,
    rate_limited,
    rate_limited_page,
    safe_next,
    signed_in_user,
)

bp = Blueprint("account", __name__)
log = logging.getLogger(__name__)


def _required() -> DataRequired:
    return DataRequired(message=_l("Fill this in."))


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[_required(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[_required(), Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[_required(), Length(max=200)])
    password = PasswordField(_l("New password"), validators=[_required(), Length(max=200)])


class ChangeEmailForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[_required(), Length(max=200)])
    email = EmailField(_l("New e-mail"), validators=[_required(), Length(max=254)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[_required(), Length(max=20)])


class ConfirmForm(FlaskForm):
    """A button and its CSRF token."""


def link(endpoint: str) -> Link:
    """The path of `endpoint` with the token left to fill (accounts.lifecycle.Link)."""
    return Link(url_for(endpoint, token=PLACEHOLDER))


def _mail_limited(*keys: tuple[str, object]) -> bool:
    """Every action that sends e-mail is rate-limited (per address, per account, per client)."""
    return any(rate_limited(name, key) for name, key in keys)


# -- e-mail confirmation ---------------------------------------------------------------------------


@bp.get("/verify-email/<token>")
def verify_email(token: str) -> Any:
    perform(lifecycle.verify_email, token)
    flash(_("Your e-mail address is confirmed."), "success")
    return redirect(url_for("wallet_pages.wallet") if session.get(SESSION_KEY) else url_for("auth.login"))


@bp.post("/account/verify-email")
@login_required
def resend_verification() -> Any:
    user = signed_in_user()
    if _mail_limited(("mail_user", user.id), ("mail_ip", client_ip())):
        flash(_("We sent a link a moment ago; wait a while before asking again."), "error")
    elif perform(lifecycle.send_verification, user.id, link("account.verify_email")):
        flash(_("We sent a new confirmation link to your e-mail address."), "success")
    return redirect(safe_next(request.form.get("next")), code=303)


# -- forgotten password ----------------------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> Any:
    form = ForgotForm()
    if form.validate_on_submit():
        address = (form.email.data or "").strip().lower()
        if _mail_limited(("mail_address", address), ("mail_ip", client_ip())):
            form.email.errors.append(_("too many requests; wait a moment and try again"))
            return rate_limited_page("account/forgot.html", form)
        # Per account too (the same answer either way, so the limit reveals nothing).
        user_id = read(lifecycle.account_for_address, address)
        if user_id is not None and rate_limited("mail_user", user_id):
            log.info("event=password_reset_over_limit user_id=%s", user_id)
        elif user_id is not None:
            perform(lifecycle.request_password_reset, address, link("account.reset_password"))
        return render_template("account/forgot_sent.html")
    return render_template("account/forgot.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    read(lifecycle.check_reset_link, token)  # a bad link gets its page before any form
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            perform(lifecycle.reset_password, token, form.password.data, url_for("account.forgot_password"))
        except lifecycle.RegistrationError as exc:
            form.password.errors.append(localize(exc.message))
        else:
            session.clear()
            flash(_("Your password is changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"), code=303)
    return render_template("account/reset.html", form=form), 400 if request.method == "POST" else 200


# -- the account page ------------------------------------------------------------------------------


def _account_page(**forms: Any) -> Any:
    user = signed_in_user()
    page = read(
        security.account_page, user.id, session.get(SESSION_KEY), current_app.config["WITHDRAWAL_COOLDOWN_HOURS"]
    )
    defaults = {"password_form": ChangePasswordForm(), "email_form": ChangeEmailForm(), "end_form": ConfirmForm()}
    return render_template("account/account.html", **page, **{**defaults, **forms})


@bp.get("/account")
@login_required
def account() -> Any:
    return _account_page()


@bp.post("/account/password")
@login_required
def change_password() -> Any:
    user = signed_in_user()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if _mail_limited(("mail_user", user.id)):
            abort(429)
        try:
            perform(
                lifecycle.change_password,
                user.id,
                form.current_password.data,
                form.password.data,
                token_hash(session[SESSION_KEY]),
                url_for("account.forgot_password"),
            )
        except lifecycle.RegistrationError as exc:
            getattr(form, exc.field).errors.append(localize(exc.message))
        except lifecycle.WrongPassword as exc:
            form.current_password.errors.append(localize(exc.message))
        else:
            flash(_("Your password is changed; your other sessions were logged out."), "success")
            return redirect(url_for("account.account"), code=303)
    return _account_page(password_form=form), 400


@bp.post("/account/email")
@login_required
def change_email() -> Any:
    user = signed_in_user()
    form = ChangeEmailForm()
    if form.validate_on_submit():
        if _mail_limited(("mail_user", user.id), ("mail_ip", client_ip())):
            abort(429)
        try:
            new = perform(
                lifecycle.request_email_change,
                user.id,
                form.current_password.data,
                form.email.data,
                link("account.confirm_email"),
            )
        except lifecycle.RegistrationError as exc:
            form.email.errors.append(
                _("enter a valid e-mail address, like name@example.com")
                if exc.message.startswith("email:")
                else localize(exc.message)
            )
        except lifecycle.WrongPassword as exc:
            form.current_password.errors.append(localize(exc.message))
        else:
            flash(_("We sent a link to %(email)s: open it to confirm the new address.", email=new), "success")
            return redirect(url_for("account.account"), code=303)
    return _account_page(email_form=form), 400


@bp.get("/account/email/confirm/<token>")
def confirm_email(token: str) -> Any:
    perform(lifecycle.confirm_email_change, token, link("account.not_me"))
    flash(_("Your new e-mail address is confirmed."), "success")
    return redirect(url_for("account.account") if session.get(SESSION_KEY) else url_for("auth.login"))


@bp.route("/account/email/not-me/<token>", methods=["GET", "POST"])
def not_me(token: str) -> Any:
    """One button (a GET changes nothing: mail scanners open links)."""
    read(lifecycle.check_undo_link, token)
    form = ConfirmForm()
    if form.validate_on_submit():
        perform(lifecycle.undo_email_change, token)
        session.clear()
        flash(_("Your e-mail address is back and everyone was logged out. Choose a new password now."), "success")
        return redirect(url_for("account.forgot_password"), code=303)
    return render_template("account/not_me.html", form=form)


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions() -> Any:
    user = signed_in_user()
    if ConfirmForm().validate_on_submit():
        ended = read(security.end_other_sessions, user.id, session[SESSION_KEY])
        flash(_("%(count)d other sessions were logged out.", count=ended), "success")
    return redirect(url_for("account.account"), code=303)


# -- the second step of a two-factor login ---------------------------------------------------------


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> Any:
    user_id = session.get(PENDING_2FA)
    if user_id is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if rate_limited("login_user", f"2fa:{user_id}") or rate_limited("login_ip", client_ip()):
            form.code.errors.append(_("too many login attempts; wait a minute and try again"))
            return rate_limited_page("account/login_code.html", form)
        if perform(security.check_second_factor, user_id, form.code.data):
            begin_login(user_id)
            log.info("event=login user_id=%s second_factor=yes", user_id)
            return redirect(safe_next(request.args.get("next")))
        form.code.errors.append(_("that code is not right"))
    return render_template("account/login_code.html", form=form), 400 if request.method == "POST" else 200


# -- two-factor login (TOTP) -----------------------------------------------------------------------


def _qr(uri: str) -> str:
    """The otpauth:// URI as an inline SVG image for the authenticator app to scan (segno, no network)."""
    import segno

    return segno.make(uri, error="m").svg_data_uri(scale=4)


@bp.route("/account/2fa", methods=["GET", "POST"])
@login_required
def two_factor() -> Any:
    user = signed_in_user()
    form = CodeForm()
    if read(security.second_factor_on, user.id):
        return render_template("account/two_factor.html", enabled=True, form=form)
    if form.validate_on_submit():
        codes = perform(security.enable_totp, user.id, form.code.data)
        if codes is not None:
            # Shown once: only their hashes are kept.
            return render_template("account/recovery_codes.html", codes=codes)
        form.code.errors.append(_("that code is not right"))
    uri = read(security.start_totp, user.id)
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    status = 400 if request.method == "POST" else 200
    return render_template("account/two_factor.html", enabled=False, form=form, qr=_qr(uri), secret=secret), status


@bp.post("/account/2fa/disable")
@login_required
def disable_two_factor() -> Any:
    user = signed_in_user()
    form = CodeForm()
    if form.validate_on_submit() and perform(security.disable_totp, user.id, form.code.data):
        flash(_("Two-factor login is off."), "success")
        return redirect(url_for("account.account"), code=303)
    flash(_("that code is not right"), "error")
    return redirect(url_for("account.two_factor"), code=303)


# -- my data (LGPD) --------------------------------------------------------------------------------


class DeleteForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[_required(), Length(max=200)])


@bp.get("/account/data")
@login_required
def my_data() -> Any:
    user = signed_in_user()
    blockers = read(personal_data.deletion_blockers, user.id)
    return render_template("account/my_data.html", blockers=blockers, form=DeleteForm())


@bp.get("/account/data.json")
@login_required
def my_data_json() -> Any:
    user = signed_in_user()
    data = read(personal_data.export, user.id)
    log.info("event=personal_data_exported user_id=%s", user.id)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return (
        body,
        200,
        {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="meus-dados-{user.username}.json"',
        },
    )


@bp.post("/account/delete")
@login_required
def delete_account() -> Any:
    user = signed_in_user()
    form = DeleteForm()
    if not form.validate_on_submit():
        return render_template("account/my_data.html", blockers=[], form=form), 400
    blockers = perform(personal_data.delete_account, user.id, form.password.data)
    if blockers:
        return render_template("account/my_data.html", blockers=blockers, form=form, refused=True), 409
    session.clear()
    flash(_("Your account was deleted. Thank you for having been with us."), "success")
    return redirect(url_for("pages.index"), code=303)

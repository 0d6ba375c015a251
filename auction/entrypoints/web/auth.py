"""Register, log in, log out; who is the current user."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ... import accounts
from ...accounts.lifecycle import PLACEHOLDER
from ...uow import UnitOfWork
from .. import i18n
from ..i18n import localize
from ..usecases import perform, read

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)
SESSION_KEY = "sid"
PENDING_2FA = "pending_2fa"  # the user id between the password and the code of a two-factor login
DEVICE_COOKIE = "device"
DEVICE_ID_LENGTH = 22  # secrets.token_urlsafe(16)
DEVICE_MAX_AGE = 2 * 365 * 86400
# The one answer to a refused login, whatever was wrong (the name, the password, a locked account).
LOGIN_REFUSED = _l(
    "Could not log you in: check the username or e-mail and the password. After several failures an account is "
    "locked for a few minutes and its owner is told by e-mail."
)


def _required() -> DataRequired:
    return DataRequired(message=_l("Fill this in."))


class RegisterForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[_required(), Length(max=40)],
        description=_l("3 to 40 letters, digits, '.', '_' or '-'. Other bidders never see it (they see a pseudonym)."),
    )
    email = EmailField(_l("E-mail"), validators=[_required(), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[_required(), Length(max=200)],
        description=_l("At least %(count)d characters.", count=accounts.MIN_PASSWORD),
    )
    cpf_cnpj = StringField(
        _l("CPF or CNPJ"),
        validators=[_required(), Length(max=20)],
        description=_l("Asaas, our payment provider, requires it by Brazilian law to receive your payments by Pix."),
    )
    invitation = StringField(_l("Invitation token"))
    accept = BooleanField(
        _l("I accept the terms of use and the privacy notice."),
        validators=[DataRequired(message=_l("You need to accept them to create an account."))],
    )


class LoginForm(FlaskForm):
    username = StringField(_l("Username or e-mail"), validators=[_required(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required(), Length(max=200)])


def current_user() -> accounts.PublicUser | None:
    """The logged-in user, loaded once per request (`_load_user`), or None."""
    return g.get("user")


def signed_in_user() -> accounts.PublicUser:
    """The user of a view behind `login_required` (or `admin_required`)."""
    user = g.get("user")
    if user is None:
        raise RuntimeError("signed_in_user() outside a login_required view")
    return user


def is_admin() -> bool:
    user = current_user()
    return bool(user and user.is_admin)


def _here() -> str:
    """The path to come back to after logging in: `request.full_path` ends in a bare `?` without a query."""
    return request.full_path.rstrip("?")


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=_here()))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("auth.login", next=_here()))
        if not user.is_admin:
            abort(403)
        if current_app.config["PRODUCTION"] and not read(accounts.second_factor_on, user.id):
            # In production an admin account opens no admin page without two-factor login.
            flash(_("Admin pages need two-factor login: turn it on first."), "error")
            return redirect(url_for("account.two_factor"))
        return view(*args, **kwargs)

    return wrapped


def client_ip() -> str:
    return request.remote_addr or "unknown"


def rate_limited(name: str, key: object) -> bool:
    return not current_app.extensions["auction.ratelimit"].hit(name, key)


def init_app(app: Flask) -> None:
    @app.before_request
    def _load_user() -> None:
        token = session.get(SESSION_KEY)
        g.user = read(accounts.user_for_token, token) if token else None

    @app.context_processor
    def _inject_user() -> dict[str, Any]:
        return {"current_user": current_user()}


def _device_id() -> str:
    """This browser's long-lived random id (a cookie of its own), to tell a new device from a known one."""
    device = request.cookies.get(DEVICE_COOKIE) or ""
    if len(device) == DEVICE_ID_LENGTH and device.replace("-", "").replace("_", "").isalnum():
        return device
    device = secrets.token_urlsafe(16)
    secure = current_app.config["SESSION_COOKIE_SECURE"]

    @after_this_request
    def _remember(response: Response) -> Response:
        response.set_cookie(DEVICE_COOKIE, device, max_age=DEVICE_MAX_AGE, httponly=True, samesite="Lax", secure=secure)
        return response

    return device


def begin_login(user_id: int) -> None:
    token = perform(
        accounts.begin_session,
        user_id,
        user_agent=request.user_agent.string,
        ip=client_ip(),
        device=_device_id(),
        when_new=url_for("account.account"),
    )
    session.clear()  # nothing from before the login survives (no session fixation)
    session[SESSION_KEY] = token
    session.permanent = True


def rate_limited_page(template: str, form: FlaskForm, **context: Any) -> Any:
    """429 with the form and its message, so browsers show it and scripts can back off."""
    log.info("event=rate_limited endpoint=%s ip=%s", request.endpoint, client_ip())
    return render_template(template, form=form, **context), 429, {"Retry-After": "60"}


def safe_next(target: str | None) -> str:
    """A same-site path to go back to (never another host), without a stray trailing `?`."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target.rstrip("?")
    return url_for("pages.index")


def _register_checked(form: RegisterForm) -> bool:
    """Validate every field and show every problem at once (not one per attempt); True when all pass."""
    valid = form.validate_on_submit()
    problems = accounts.registration_problems(
        form.username.data or "", form.email.data or "", form.password.data or "", form.cpf_cnpj.data or ""
    )
    for problem in problems:
        field = getattr(form, problem.field)
        if not field.errors:
            # email-validator's own wording is English and technical; one clear sentence in the reader's language.
            bad_email = problem.field == "email"
            field.errors.append(
                _("enter a valid e-mail address, like name@example.com") if bad_email else localize(problem.message)
            )
    return valid and not problems


def _register(uow: UnitOfWork, form: RegisterForm, locale: str, verify_link: str) -> int:
    """The account, its consents and the mail with its confirmation link, in one transaction."""
    user = accounts.register(
        uow.session,
        username=form.username.data,
        email=form.email.data,
        password=form.password.data,
        cpf_cnpj=form.cpf_cnpj.data,
        locale=locale,
        consents=accounts.CURRENT_VERSIONS,
    )
    accounts.send_verification(uow, user.id, accounts.Link(verify_link))
    return user.id


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    form = RegisterForm()
    required_token = current_app.config["REGISTRATION_TOKEN"]
    if request.method == "POST" and _register_checked(form):
        if rate_limited("register_ip", client_ip()):
            form.username.errors.append(_("too many registrations from this address; try again later"))
            return rate_limited_page("auth/register.html", form, needs_token=bool(required_token))
        if required_token and not hmac.compare_digest((form.invitation.data or "").encode(), required_token.encode()):
            form.invitation.errors.append(_("a valid invitation token is required to register"))
        else:
            try:
                user = perform(_register, form, i18n.language(), url_for("account.verify_email", token=PLACEHOLDER))
            except accounts.RegistrationError as exc:
                getattr(form, exc.field).errors.append(localize(exc.message))
            else:
                log.info("event=user_registered user_id=%s", user)
                begin_login(user)
                flash(_("Welcome! Your account is ready. We sent you an e-mail to confirm your address."), "success")
                return redirect(url_for("pages.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form, needs_token=bool(required_token)), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        username = (form.username.data or "").strip().lower()
        if rate_limited("login_ip", client_ip()) or rate_limited("login_user", username):
            form.password.errors.append(_("too many login attempts; wait a minute and try again"))
            return rate_limited_page("auth/login.html", form)
        else:
            attempt = perform(accounts.attempt_login, form.username.data, form.password.data)
            if attempt.user_id is None:
                log.info("event=login_failed ip=%s", client_ip())
                form.password.errors.append(str(LOGIN_REFUSED))
            elif attempt.needs_second_factor:
                session.clear()
                session[PENDING_2FA] = attempt.user_id
                return redirect(url_for("account.login_code", next=request.args.get("next")))
            else:
                begin_login(attempt.user_id)
                log.info("event=login user_id=%s", attempt.user_id)
                return redirect(safe_next(request.args.get("next")))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def refused_form_page(endpoint: str | None) -> str | None:
    """The login or registration page as posted, with the CSRF message, for a post refused before its view
    ran (None for any other endpoint). The form is only drawn: nothing validates it or acts on it."""
    form: FlaskForm
    if endpoint == "auth.login":
        form = LoginForm()
        context: dict[str, Any] = {}
    elif endpoint == "auth.register":
        form = RegisterForm()
        context = {"needs_token": bool(current_app.config["REGISTRATION_TOKEN"])}
    else:
        return None
    form.csrf_token.errors = ["refused"]  # the templates show their own sentence for it
    return render_template(f"auth/{endpoint.removeprefix('auth.')}.html", form=form, **context)


@bp.post("/logout")
def logout() -> Any:
    token = session.get(SESSION_KEY)
    if token:
        read(accounts.end_session, token)
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("pages.index"))

"""Login defence, devices and sessions, the second factor (TOTP), and the step-up before money leaves."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database, lock_existing, lock_row
from ..errors import ServiceError
from ..mail import queue_mail
from ..models import LoginSession, RecoveryCode, UsedToken, User
from ..uow import UnitOfWork
from .queries import token_hash
from .service import check_password, find_login, start_session

log = logging.getLogger(__name__)

LOCK_AFTER = 10  # failed logins in a row
LOCK_MINUTES = 15
RECOVERY_CODES = 10
ISSUER = "Leilão"
NOT_VERIFIED = "confirm your e-mail address before withdrawing (we sent you a link)"


class StepUpFailed(ServiceError, code="step_up_failed", http_status=403):
    """The password (or the authenticator's code) asked again before money leaves was not right."""


class WithdrawalWaits(ServiceError, code="withdrawal_waits", http_status=409):
    """Withdrawals are closed for now: the e-mail is not confirmed, or a security change is recent."""


def _notify(uow: UnitOfWork | Session, user: User, template: str, **context: object) -> None:
    queue_mail(
        uow,
        to=user.email,
        template=template,
        locale=user.locale,
        context={"username": user.username, **context},
        user_id=user.id,
    )


# -- logging in ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginAttempt:
    user_id: int | None  # None: refused (whatever the reason: the answer never says which)
    needs_second_factor: bool = False


def attempt_login(uow: UnitOfWork, login: str, password: str) -> LoginAttempt:
    """Check a login; LOCK_AFTER failures in a row lock the account for LOCK_MINUTES (and its owner is told).

    Refusals return instead of raising, so the count of failures commits. A locked account refuses the
    right password too, in the same words as a wrong one."""
    user = find_login(uow.session, login)
    if user is not None:
        user = lock_row(uow.session, User, User.id == user.id)
    right = check_password(user, password)
    if user is None:
        return LoginAttempt(None)
    now = clock.now()
    if user.locked_until is not None and user.locked_until > now:
        log.info("event=login_refused_locked user_id=%s", user.id)
        return LoginAttempt(None)
    if not right:
        register_failure(uow, user)
        return LoginAttempt(None)
    user.failed_logins = 0
    user.locked_until = None
    return LoginAttempt(user.id, needs_second_factor=user.totp_enabled_at is not None)


def register_failure(uow: UnitOfWork, user: User) -> None:
    user.failed_logins += 1
    if user.failed_logins >= LOCK_AFTER:
        user.failed_logins = 0
        user.locked_until = clock.now() + timedelta(minutes=LOCK_MINUTES)
        _notify(uow, user, "account_locked", minutes=LOCK_MINUTES)
        log.warning("event=account_locked user_id=%s minutes=%d", user.id, LOCK_MINUTES)


def begin_session(uow: UnitOfWork, user_id: int, *, user_agent: str, ip: str, device: str, when_new: str) -> str:
    """Start a login session; a device this account never logged in from before gets a notice by e-mail
    (`when_new`: the account page's path, where the sessions can be ended)."""
    session = uow.session
    device_hash = token_hash(f"{user_id}:{device}")
    known = session.scalars(select(LoginSession.device_hash).where(LoginSession.user_id == user_id)).all()
    token = start_session(session, user_id, user_agent=user_agent, ip=ip, device=device)
    if known and device_hash not in known:
        user = session.get(User, user_id)
        if user is not None:
            _notify(uow, user, "new_device", device=describe_device(user_agent), ip=ip, link=when_new)
    return token


def describe_device(user_agent: str | None) -> str:
    """A short readable name for a browser ("Firefox on Linux"), from its User-Agent."""
    agent = user_agent or ""
    browser = next(
        (
            name
            for key, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
            if key in agent
        ),
        "?",
    )
    system = next(
        (
            name
            for key, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS", "macOS"),
                ("Linux", "Linux"),
            )
            if key in agent
        ),
        "?",
    )
    return f"{browser} / {system}"


@dataclass(frozen=True)
class SessionRow:
    id: int
    created_at: object
    device: str
    ip: str | None
    current: bool


def account_page(session: Session, user_id: int, token: str | None, cooldown_hours: int) -> dict[str, object]:
    """What the account page shows: the account, its open sessions, and why withdrawals wait (or None)."""
    return {
        "account": session.get(User, user_id),
        "sessions": sessions_of(session, user_id, token),
        "wait": withdrawal_wait(session, user_id, cooldown_hours),
    }


def sessions_of(session: Session, user_id: int, current_token: str | None) -> list[SessionRow]:
    current = token_hash(current_token) if current_token else None
    rows = session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .order_by(LoginSession.id.desc())
    ).all()
    return [
        SessionRow(row.id, row.created_at, describe_device(row.user_agent), row.ip_address, row.token_hash == current)
        for row in rows
    ]


def end_other_sessions(session: Session, user_id: int, current_token: str) -> int:
    result = session.execute(
        update(LoginSession)
        .where(
            LoginSession.user_id == user_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.token_hash != token_hash(current_token),
        )
        .values(revoked_at=clock.now())
    )
    return result.rowcount or 0


# -- the second factor -----------------------------------------------------------------------------


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def start_totp(session: Session, user_id: int) -> str:
    """A new secret to scan (not active until a code from it is confirmed); the otpauth:// URI."""
    user = lock_existing(session, User, User.id == user_id, missing="no such user")
    if not user.totp_secret:  # kept until turned on (or off), so a reload shows the same code to scan
        user.totp_secret = pyotp.random_base32()
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(name=user.username, issuer_name=ISSUER)


def enable_totp(uow: UnitOfWork, user_id: int, code: str) -> list[str] | None:
    """Turn the second factor on with a code from the app; the recovery codes (shown once), or None."""
    user = lock_row(uow.session, User, User.id == user_id)
    if user is None or not user.totp_secret or user.totp_enabled_at is not None:
        return None
    if not _fresh_totp(uow.session, user, code):
        return None
    user.totp_enabled_at = user.security_changed_at = clock.now()
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    uow.session.execute(update(RecoveryCode).where(RecoveryCode.user_id == user.id).values(used_at=clock.now()))
    uow.session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(c)) for c in codes)
    _notify(uow, user, "security_changed", change="totp_on")
    log.info("event=totp_enabled user_id=%s", user.id)
    return codes


def disable_totp(uow: UnitOfWork, user_id: int, secret: str) -> bool:
    """Turn it off, confirmed by the password or a code; False when that was not right."""
    user = lock_row(uow.session, User, User.id == user_id)
    if user is None or user.totp_enabled_at is None or not confirms(uow.session, user, secret):
        return False
    user.totp_secret = None
    user.totp_enabled_at = None
    user.security_changed_at = clock.now()
    _notify(uow, user, "security_changed", change="totp_off")
    log.info("event=totp_disabled user_id=%s", user.id)
    return True


def _fresh_totp(session: Session, user: User, code: str) -> bool:
    """A code the app shows now (or 30 s either side, for clocks that drift), never accepted twice: the time
    step it matched is recorded like a used link, so a code seen over someone's shoulder is worth nothing."""
    totp = pyotp.TOTP(user.totp_secret or "")
    code = (code or "").replace(" ", "").strip()
    now = clock.now()
    for drift in (0, -1, 1):
        moment = now + timedelta(seconds=drift * totp.interval)
        if secrets.compare_digest(totp.at(moment), code):
            nonce = f"totp:{user.id}:{totp.timecode(moment)}"
            if session.scalar(select(UsedToken.id).where(UsedToken.nonce == nonce)) is not None:
                return False
            session.add(UsedToken(nonce=nonce, purpose="totp", used_at=now))
            return True
    return False


def second_factor_ok(session: Session, user: User, code: str) -> bool:
    """A current code from the app, or an unused recovery code (then used up)."""
    code = (code or "").strip()
    if not code or not user.totp_secret:
        return False
    if _fresh_totp(session, user, code):
        return True
    recovery = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(code), RecoveryCode.used_at.is_(None)
        )
    ).first()
    if recovery is None:
        return False
    recovery.used_at = clock.now()
    return True


def check_second_factor(uow: UnitOfWork, user_id: int, code: str) -> bool:
    """The login's second step; a wrong code counts as a failed login."""
    user = lock_row(uow.session, User, User.id == user_id)
    if user is None or (user.locked_until is not None and user.locked_until > clock.now()):
        return False
    if second_factor_ok(uow.session, user, code):
        return True
    register_failure(uow, user)
    return False


def second_factor_on(session: Session, user_id: int) -> bool:
    return session.scalar(select(User.totp_enabled_at).where(User.id == user_id)) is not None


def confirms(session: Session, user: User, secret: str) -> bool:
    """Step-up: the authenticator's code when the second factor is on, else the password."""
    if user.totp_enabled_at is not None:
        return second_factor_ok(session, user, secret)
    return check_password(user, secret)


# -- before money leaves ---------------------------------------------------------------------------


def withdrawal_wait(session: Session, user_id: int, cooldown_hours: int) -> str | None:
    """Why this account may not withdraw now (English, translated where shown), or None."""
    user = session.get(User, user_id)
    if user is None:
        return "no such user"
    if user.email_verified_at is None:
        return NOT_VERIFIED
    if user.security_changed_at is not None:
        opens = user.security_changed_at + timedelta(hours=cooldown_hours)
        if opens > clock.now():
            return (
                f"withdrawals are paused for {cooldown_hours} hours after a change of password, e-mail or two-factor"
                f" login; they open again at {opens:%Y-%m-%d %H:%M} UTC"
            )
    return None


def confirm_withdrawal(uow: UnitOfWork, user_id: int, secret: str, cooldown_hours: int) -> str | None:
    """Step-up before a withdrawal: None when it may go ahead, else the reason (the failure is counted
    as a failed login, so guessing through this form locks the account too)."""
    wait = withdrawal_wait(uow.session, user_id, cooldown_hours)
    if wait is not None:
        return wait
    user = lock_existing(uow.session, User, User.id == user_id, missing="no such user")
    if user.locked_until is not None and user.locked_until > clock.now():
        # Locked by guesses: even the right password is refused, in the same words, and nothing more is
        # counted (another ten guesses must not lock again and mail the owner again).
        log.info("event=step_up_refused_locked user_id=%s", user.id)
        return "step_up"
    if confirms(uow.session, user, secret):
        return None
    register_failure(uow, user)
    return "step_up"


def authorize_withdrawal(db: Database, user_id: int, secret: str, cooldown_hours: int) -> None:
    """What both withdrawal adapters (page and socket) ask first: raises WithdrawalWaits or StepUpFailed."""
    refusal = db.run(confirm_withdrawal, user_id, secret or "", cooldown_hours)
    if refusal == "step_up":
        raise StepUpFailed("the password (or the code of your authenticator app) is not right", field="password")
    if refusal is not None:
        raise WithdrawalWaits(refusal)

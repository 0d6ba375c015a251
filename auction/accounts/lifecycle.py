"""An account people can keep: e-mail confirmation, password reset, e-mail change (with "it wasn't me").

Each step is a use case on a unit of work; the e-mail it sends joins its transaction (auction/mail), and
the single-use link it checks is marked used in the same transaction (accounts/tokens.py), so a refused
step (a weak new password, an address taken meanwhile) neither sends nor spends anything.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from .. import clock
from ..db import lock_row
from ..errors import Invalid
from ..mail import queue_mail
from ..models import LoginSession, User
from ..uow import UnitOfWork
from . import service, tokens
from .service import RegistrationError, normalize_email, password_problem

log = logging.getLogger(__name__)

VERIFY_HOURS = 48
RESET_MINUTES = 30
EMAIL_CHANGE_HOURS = 24
NOT_ME_DAYS = 7
PLACEHOLDER = "TOKEN"


@dataclass(frozen=True)
class Link:
    """A page's path with PLACEHOLDER where the token goes: the adapter builds it with url_for, so the
    routes stay the only place that names their paths."""

    pattern: str

    def __call__(self, token: str) -> str:
        return self.pattern.replace(PLACEHOLDER, token)


class WrongPassword(Invalid, code="wrong_password", http_status=400):
    """The current password given to confirm a change is not the account's."""


def _user(session: Session, user_id: int) -> User:
    user = lock_row(session, User, User.id == user_id, User.deleted_at.is_(None))
    if user is None:
        raise tokens.BadToken("this link is not valid", reason="invalid")
    return user


def _notify(uow: UnitOfWork | Session, user: User, template: str, to: str | None = None, **context: object) -> None:
    queue_mail(
        uow,
        to=to or user.email,
        template=template,
        locale=user.locale,
        context={"username": user.username, **context},
        user_id=user.id,
    )


def end_every_session(session: Session, user_id: int, keep_token_hash: str | None = None) -> int:
    """Log the user out everywhere (but the session `keep_token_hash`, when given); how many ended."""
    statement = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
    if keep_token_hash is not None:
        statement = statement.where(LoginSession.token_hash != keep_token_hash)
    return session.execute(statement.values(revoked_at=clock.now())).rowcount or 0


# -- e-mail confirmation ---------------------------------------------------------------------------


def send_verification(uow: UnitOfWork | Session, user_id: int, link: Link) -> bool:
    """Mail a confirmation link to the account's address; False when it is confirmed already."""
    session = uow.session if isinstance(uow, UnitOfWork) else uow
    user = session.get(User, user_id)
    if user is None or user.email_verified_at is not None:
        return False
    token = tokens.issue("verify", u=user.id, e=user.email)
    _notify(uow, user, "verify_email", link=link(token), hours=VERIFY_HOURS)
    return True


def verify_email(uow: UnitOfWork, token: str) -> int:
    """Confirm the address the link was sent to (still the account's); the user's id."""
    payload = tokens.redeem(uow.session, "verify", token, VERIFY_HOURS * 3600)
    user = _user(uow.session, payload["u"])
    if user.email != payload["e"]:
        raise tokens.BadToken("this link is for an address the account no longer has", reason="invalid")
    user.email_verified_at = user.email_verified_at or clock.now()
    log.info("event=email_verified user_id=%s", user.id)
    return user.id


# -- password reset -------------------------------------------------------------------------------


def _fingerprint(password_hash: str) -> str:
    """Part of a reset link: any password change since the link was made voids it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _by_address(session: Session, address: str) -> User | None:
    return session.scalars(
        select(User).where(func.lower(User.email) == (address or "").strip().lower(), User.deleted_at.is_(None))
    ).first()


def account_for_address(session: Session, address: str) -> int | None:
    user = _by_address(session, address)
    return user.id if user else None


def request_password_reset(uow: UnitOfWork, address: str, link: Link) -> int | None:
    """Mail a reset link when the address belongs to an account (the caller answers the same either way)."""
    user = _by_address(uow.session, address)
    if user is None:
        return None
    token = tokens.issue("reset", u=user.id, p=_fingerprint(user.password_hash))
    _notify(uow, user, "password_reset", link=link(token), minutes=RESET_MINUTES)
    log.info("event=password_reset_requested user_id=%s", user.id)
    return user.id


def check_reset_link(session: Session, token: str) -> None:
    """Refuse an expired, tampered or used reset link before showing its form (nothing is spent)."""
    payload = tokens.check(session, "reset", token, RESET_MINUTES * 60)
    user = session.get(User, payload["u"])
    if user is None or _fingerprint(user.password_hash) != payload["p"]:
        raise tokens.BadToken("this link was already used", reason="used")


def reset_password(uow: UnitOfWork, token: str, new_password: str, forgot: str) -> int:
    """Set a new password from a reset link; every session of the account ends; a notice is mailed."""
    payload = tokens.redeem(uow.session, "reset", token, RESET_MINUTES * 60)
    user = _user(uow.session, payload["u"])
    if _fingerprint(user.password_hash) != payload["p"]:
        raise tokens.BadToken("this link was already used", reason="used")
    _set_password(uow, user, new_password)
    ended = end_every_session(uow.session, user.id)
    _notify(uow, user, "password_changed", forgot=forgot)
    log.info("event=password_reset user_id=%s sessions_ended=%d", user.id, ended)
    return user.id


def _set_password(uow: UnitOfWork, user: User, new_password: str) -> None:
    problem = password_problem(new_password, user.username)
    if problem:
        raise RegistrationError("password", problem)
    user.password_hash = service.hash_password(new_password)
    user.security_changed_at = clock.now()
    user.failed_logins = 0
    user.locked_until = None


def change_password(uow: UnitOfWork, user_id: int, current: str, new_password: str, keep: str, forgot: str) -> None:
    """From the account page: the current password is required; the other sessions end (not this one)."""
    user = _user(uow.session, user_id)
    if not check_password_hash(user.password_hash, current or ""):
        raise WrongPassword("the current password is not right", field="current_password")
    _set_password(uow, user, new_password)
    end_every_session(uow.session, user.id, keep_token_hash=keep)
    _notify(uow, user, "password_changed", forgot=forgot)
    log.info("event=password_changed user_id=%s", user.id)


# -- e-mail change -------------------------------------------------------------------------------


def request_email_change(uow: UnitOfWork, user_id: int, current: str, new_address: str, link: Link) -> str:
    """Mail a confirmation link to the new address; nothing changes until it is opened."""
    user = _user(uow.session, user_id)
    if not check_password_hash(user.password_hash, current or ""):
        raise WrongPassword("the current password is not right", field="current_password")
    new = normalize_email(new_address)
    if new == user.email:
        raise RegistrationError("email", "that is already your e-mail address")
    _refuse_taken(uow.session, new)
    token = tokens.issue("email", u=user.id, old=user.email, new=new)
    _notify(uow, user, "email_change_confirm", to=new, link=link(token), hours=EMAIL_CHANGE_HOURS, new_email=new)
    return new


def _refuse_taken(session: Session, address: str) -> None:
    if session.scalar(select(User.id).where(func.lower(User.email) == address)) is not None:
        raise RegistrationError("email", "an account with this email already exists")


def confirm_email_change(uow: UnitOfWork, token: str, not_me: Link) -> int:
    """The new address is confirmed: it becomes the account's; the old one gets a notice with a way back."""
    payload = tokens.redeem(uow.session, "email", token, EMAIL_CHANGE_HOURS * 3600)
    user = _user(uow.session, payload["u"])
    if user.email != payload["old"]:
        raise tokens.BadToken("this link is for an address the account no longer has", reason="invalid")
    _refuse_taken(uow.session, payload["new"])
    user.email = payload["new"]
    user.email_verified_at = user.security_changed_at = clock.now()
    back = tokens.issue("not_me", u=user.id, old=payload["old"], new=payload["new"])
    _notify(
        uow, user, "email_changed", to=payload["old"], link=not_me(back), new_email=payload["new"], days=NOT_ME_DAYS
    )
    log.info("event=email_changed user_id=%s", user.id)
    return user.id


def undo_email_change(uow: UnitOfWork, token: str) -> int:
    """ "It wasn't me": the old address comes back and every session ends (whoever changed it is logged out)."""
    payload = tokens.redeem(uow.session, "not_me", token, NOT_ME_DAYS * 86400)
    user = _user(uow.session, payload["u"])
    if user.email != payload["new"]:
        raise tokens.BadToken("this link is for an address the account no longer has", reason="invalid")
    user.email = payload["old"]
    user.email_verified_at = user.security_changed_at = clock.now()
    end_every_session(uow.session, user.id)
    log.warning("event=email_change_undone user_id=%s", user.id)
    return user.id


def check_undo_link(session: Session, token: str) -> None:
    """Refuse an expired, tampered or used "it wasn't me" link before showing its button."""
    tokens.check(session, "not_me", token, NOT_ME_DAYS * 86400)

"""Accounts: registration, password checks, and starting and ending server-side login sessions."""

from __future__ import annotations

import re
import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import clock
from ..errors import Invalid
from ..models import Consent, LoginSession, User
from .queries import token_hash

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
MIN_PASSWORD = 10
# A fixed hash to compare against when the user does not exist, so the time a
# failed login takes does not reveal whether the username is registered.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class RegistrationError(Invalid):
    """Registration refused; `field` names the form field to show it on."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.field = field


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def normalize_cpf_cnpj(raw: str) -> str:
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) not in (11, 14) or len(set(digits)) == 1:
        raise RegistrationError("cpf_cnpj", "CPF must have 11 digits or CNPJ 14 digits")
    if not _check_digits_ok(digits):
        raise RegistrationError("cpf_cnpj", "this CPF/CNPJ number is not valid")
    return digits


def _check_digits_ok(digits: str) -> bool:
    nums = [int(d) for d in digits]
    if len(nums) == 11:
        for size in (9, 10):
            total = sum(n * w for n, w in zip(nums[:size], range(size + 1, 1, -1), strict=True))
            if (total * 10 % 11) % 10 != nums[size]:
                return False
        return True
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for size in (12, 13):
        w = weights if size == 12 else [6, *weights]
        rest = sum(n * k for n, k in zip(nums[:size], w, strict=True)) % 11
        if (0 if rest < 2 else 11 - rest) != nums[size]:
            return False
    return True


def validate_registration(username: str, email: str, password: str, cpf_cnpj: str) -> tuple[str, str, str]:
    problems = registration_problems(username, email, password, cpf_cnpj)
    if problems:
        raise problems[0]
    return (username or "").strip(), normalize_email(email), normalize_cpf_cnpj(cpf_cnpj)


def password_problem(password: str | None, username: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password or "") < MIN_PASSWORD:
        return f"password must have at least {MIN_PASSWORD} characters"
    if (password or "").lower() == username.lower() or len(set(password or "")) < 4:
        return "password is too easy to guess"
    return None


def normalize_email(address: str) -> str:
    """The address as stored (normalised, lower case); RegistrationError("email") when it is not one."""
    try:
        return validate_email((address or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise RegistrationError("email", f"email: {exc}") from exc


def registration_problems(username: str, email: str, password: str, cpf_cnpj: str) -> list[RegistrationError]:
    """Every reason the fields are refused, one per field, so a form can show them all at once."""
    username = (username or "").strip()
    problems = []
    if not USERNAME_RE.match(username):
        problems.append(RegistrationError("username", "username: 3-40 letters, digits, '.', '_' or '-'"))
    try:
        validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        problems.append(RegistrationError("email", f"email: {exc}"))
    weak = password_problem(password, username)
    if weak:
        problems.append(RegistrationError("password", weak))
    try:
        normalize_cpf_cnpj(cpf_cnpj)
    except RegistrationError as exc:
        problems.append(exc)
    return problems


def register(
    session: Session,
    *,
    username: str,
    email: str,
    password: str,
    cpf_cnpj: str,
    is_admin: bool = False,
    locale: str | None = None,
    consents: dict[str, str] | None = None,
    verified: bool = False,
) -> User:
    """Create a user and their wallet; duplicates raise RegistrationError. `consents`: document -> the
    version accepted (terms, privacy), recorded with the time; `verified`: the address needs no link
    (accounts an admin makes, demo users)."""
    from ..wallet import ensure_wallet  # wallets are created only by the wallet service

    username, email, cpf = validate_registration(username, email, password, cpf_cnpj)
    taken = session.scalars(
        select(User).where((func.lower(User.username) == username.lower()) | (User.email == email))
    ).first()
    if taken is not None:
        if taken.username.lower() == username.lower():
            raise RegistrationError("username", "this username is taken")
        raise RegistrationError("email", "an account with this email already exists")
    user = User(
        username=username,
        email=email,
        password_hash=hash_password(password),
        cpf_cnpj=cpf,
        is_admin=is_admin,
        created_at=clock.now(),
        locale=locale,
        email_verified_at=clock.now() if verified else None,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration took it first
        raise RegistrationError("username", "this username or email is taken") from exc
    ensure_wallet(session, user.id)
    for document, version in (consents or {}).items():
        session.add(Consent(user_id=user.id, document=document, version=version, accepted_at=user.created_at))
    return user


def find_login(session: Session, login: str) -> User | None:
    """The account a login name (username or e-mail, any case) names; deleted accounts log in no more."""
    login = (login or "").strip().lower()
    return session.scalars(
        select(User).where(
            (func.lower(User.username) == login) | (func.lower(User.email) == login), User.deleted_at.is_(None)
        )
    ).first()


def check_password(user: User | None, password: str) -> bool:
    """Compare in the same time whether or not the account exists (the dummy hash)."""
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return False
    return check_password_hash(user.password_hash, password or "")


def start_session(
    session: Session, user_id: int, *, user_agent: str | None = None, ip: str | None = None, device: str | None = None
) -> str:
    """A fresh random token for a new login (never reuses one: no session fixation). `device`: the browser's
    long-lived device id, to list the sessions and to tell a new device from a known one."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=clock.now(),
            user_agent=(user_agent or "")[:255] or None,
            ip_address=(ip or "")[:45] or None,
            device_hash=token_hash(f"{user_id}:{device}") if device else None,
        )
    )
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == token_hash(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )

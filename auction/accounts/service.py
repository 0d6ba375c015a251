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
from ..models import LoginSession, User
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
    validated = validate_email((email or "").strip(), check_deliverability=False).normalized
    return (username or "").strip(), validated.lower(), normalize_cpf_cnpj(cpf_cnpj)


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
    if len(password or "") < MIN_PASSWORD:
        problems.append(RegistrationError("password", f"password must have at least {MIN_PASSWORD} characters"))
    elif password.lower() == username.lower() or len(set(password)) < 4:
        problems.append(RegistrationError("password", "password is too easy to guess"))
    try:
        normalize_cpf_cnpj(cpf_cnpj)
    except RegistrationError as exc:
        problems.append(exc)
    return problems


def register(
    session: Session, *, username: str, email: str, password: str, cpf_cnpj: str, is_admin: bool = False
) -> User:
    """Create a user and their wallet; duplicates raise RegistrationError."""
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
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration took it first
        raise RegistrationError("username", "this username or email is taken") from exc
    ensure_wallet(session, user.id)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Log in with the username or the e-mail address (both are unique, case-insensitively)."""
    login = (username or "").strip().lower()
    user = session.scalars(
        select(User).where((func.lower(User.username) == login) | (func.lower(User.email) == login))
    ).first()
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def start_session(session: Session, user_id: int) -> str:
    """A fresh random token for a new login (never reuses one: no session fixation)."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=token_hash(token), user_id=user_id, created_at=clock.now()))
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == token_hash(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )

"""Signed, expiring, single-use links (e-mail confirmation, password reset, e-mail change, "it wasn't me").

A token is itsdangerous's signed, timestamped payload (the site's SECRET_KEY, a salt per purpose, so a token
made for one purpose is worthless for another) with a random nonce; using it records the nonce in
`used_tokens` in the same transaction as what it does, so a second use finds it and changes nothing.
"""

from __future__ import annotations

import secrets
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import ServiceError
from ..models import UsedToken

_key: str | None = None


class BadToken(ServiceError, code="bad_token", http_status=400):
    """A link that was tampered with, expired, or already used; `details["reason"]` says which."""


class _ClockSigner(TimestampSigner):
    """Signs and ages tokens by the application's clock (auction.clock), which tests can move."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def set_key(secret: str) -> None:
    """Bound by the web adapter at start (the same SECRET_KEY signs the session cookie)."""
    global _key
    _key = secret


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if _key is None:
        raise RuntimeError("accounts.tokens has no key (the web adapter sets it)")
    return URLSafeTimedSerializer(_key, salt=f"accounts.{purpose}", signer=_ClockSigner)


def issue(purpose: str, **payload: Any) -> str:
    return _serializer(purpose).dumps({**payload, "n": secrets.token_urlsafe(16)})


def peek(purpose: str, token: str, max_age: int) -> dict[str, Any]:
    """The payload of a valid, unexpired token (not yet marked used); BadToken otherwise."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise BadToken("this link has expired", reason="expired") from exc
    except BadSignature as exc:
        raise BadToken("this link is not valid", reason="invalid") from exc
    if not isinstance(payload, dict) or "n" not in payload:
        raise BadToken("this link is not valid", reason="invalid")
    return payload


def is_used(session: Session, payload: dict[str, Any]) -> bool:
    return session.scalar(select(UsedToken.id).where(UsedToken.nonce == payload["n"])) is not None


def check(session: Session, purpose: str, token: str, max_age: int) -> dict[str, Any]:
    """`peek`, refusing a used token too, without using it (a page shown before its form)."""
    payload = peek(purpose, token, max_age)
    if is_used(session, payload):
        raise BadToken("this link was already used", reason="used")
    return payload


def redeem(session: Session, purpose: str, token: str, max_age: int) -> dict[str, Any]:
    """`peek`, then mark it used in the caller's transaction (which rolls back with it if the use fails)."""
    payload = peek(purpose, token, max_age)
    if is_used(session, payload):
        raise BadToken("this link was already used", reason="used")
    session.add(UsedToken(nonce=payload["n"], purpose=purpose, used_at=clock.now()))
    session.flush()  # a concurrent use of the same link fails here on the unique nonce
    return payload

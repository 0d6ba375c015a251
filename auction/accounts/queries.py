"""Who a login token belongs to: read on every request and by sockets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..models import LoginSession, User


@dataclass(frozen=True)
class PublicUser:
    id: int
    username: str
    is_admin: bool


def token_hash(token: str) -> str:
    """Only a hash of a login token is stored, so a copy of the database logs nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(session: Session, token: str | None) -> PublicUser | None:
    if not token:
        return None
    row = session.execute(
        select(User.id, User.username, User.is_admin)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == token_hash(token), LoginSession.revoked_at.is_(None))
    ).first()
    return PublicUser(row.id, row.username, bool(row.is_admin)) if row else None


def users_for_tokens(session: Session, tokens: set[str]) -> dict[str, int]:
    """token -> user id for every token whose login session is still valid (one query for a batch of bids)."""
    hashes = {token_hash(token): token for token in tokens if token}
    if not hashes:
        return {}
    rows = session.connection().execute(_VALID_TOKENS, {"hashes": sorted(hashes)}).all()
    return {hashes[row.token_hash]: row.user_id for row in rows}


# Built once: every batch of bids asks (bench.bid_cpu).
_VALID_TOKENS = select(LoginSession.token_hash, LoginSession.user_id).where(
    LoginSession.token_hash.in_(bindparam("hashes", expanding=True)), LoginSession.revoked_at.is_(None)
)

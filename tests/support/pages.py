"""Pages read as someone: a Flask test client logged in as a user (or nobody)."""

from __future__ import annotations

from typing import Any

from auction import accounts
from auction.db import Database


def as_user(app: Any, db: Database, user_id: int | None) -> Any:
    """A test client with a login session of `user_id` (logged out for None)."""
    client = app.test_client()
    if user_id is not None:
        token = db.transaction(accounts.start_session, user_id)
        with client.session_transaction() as session:
            session["sid"] = token
    return client

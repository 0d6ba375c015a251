"""One socket's connection: who it is logged in as, its rate limits, and its login re-check.

Per-socket state lives in the socket's own session (Flask-SocketIO gives each socket a
copy of the HTTP session at connect; writes to it stay with the socket), and the
auctions a socket joined are its Socket.IO rooms, so no module-level dict has to be
kept in step with connects and disconnects.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from flask import current_app, request, session
from flask_socketio import join_room, leave_room
from sqlalchemy.orm import Session

from ... import accounts
from ...accounts import PublicUser
from ...auctions import watching
from ...db import DatabaseUnavailable
from ...errors import ServiceError
from ...outbox import user_room
from ..usecases import SocketLogin, read
from ..web.auth import SESSION_KEY

log = logging.getLogger(__name__)


class NotLoggedIn(ServiceError, code="not_logged_in", http_status=401):
    """The socket has no logged-in user, or its login session ended (logout, revoked)."""


USER_KEY = "socket_user"
WATCHING_KEY = "socket_watching"  # the auctions the user follows, read at connect for join_auction's `watching`
# Set when the connect's login look-up found the database unavailable: the socket has a login cookie but
# no user yet, and its next event looks the login up again instead of treating it as anonymous.
PENDING_KEY = "socket_login_pending"


def socket_user() -> PublicUser | None:
    """The user this socket connected as (no database work once known; acting events re-check the login).

    Raises DatabaseUnavailable while a login the connect could not look up still cannot be looked up,
    so the event answers `unavailable` (try again), never `not_logged_in` to a logged-in browser."""
    if session.get(PENDING_KEY):
        user = _log_in(session.get(SESSION_KEY))
        log.info("event=socket_login_resolved sid=%s user_id=%s", request.sid, user.id if user else None)
    return session.get(USER_KEY)


def watched() -> set[int]:
    """The socket user's followed auctions (kept in step by this socket's watch/unwatch)."""
    found = session.get(WATCHING_KEY)
    if found is None:
        found = session[WATCHING_KEY] = set()
    return found


def connect() -> None:
    """Who the socket is: the login session of the page's cookie, or nobody (an anonymous watcher)."""
    session[USER_KEY] = None
    session[WATCHING_KEY] = set()
    session[PENDING_KEY] = False
    try:
        user = _log_in(session.get(SESSION_KEY))
    except DatabaseUnavailable:
        # The socket stays connected (it can watch); its next event looks the login up again.
        log.warning("event=socket_login_unavailable sid=%s", request.sid)
        session[PENDING_KEY] = True
        user = None
    log.debug("event=socket_connect sid=%s user_id=%s", request.sid, user.id if user else None)


def _log_in(token: str | None) -> PublicUser | None:
    """The socket becomes the user its login cookie names (raises DatabaseUnavailable, changing nothing,
    if that cannot be read): it joins the user's room and learns which auctions the user follows."""
    user = read(accounts.user_for_token, token) if token else None
    session[USER_KEY] = user
    session[PENDING_KEY] = False
    if user is not None:
        join_room(user_room(user.id))
        with suppress(DatabaseUnavailable):  # join_auction then says "not watching" until a reconnect
            session[WATCHING_KEY] = set(read(watching.watched_ids, user.id))
    return user


def forget_user() -> None:
    """The login session ended (logout, or an admin revoked it): the socket goes on as anonymous."""
    user = session.get(USER_KEY)
    session[USER_KEY] = None
    session[PENDING_KEY] = False
    if user is not None:
        leave_room(user_room(user.id))
        log.info("event=socket_session_ended sid=%s user_id=%s", request.sid, user.id)


def socket_login() -> SocketLogin:
    """The login an acting event's use cases re-check in their own transaction (`usecases.perform`), so a
    socket whose user logged out cannot act, at no extra transaction."""
    token = session.get(SESSION_KEY)
    user = socket_user()

    def check(db_session: Session) -> None:
        current = accounts.user_for_token(db_session, token)
        if user is None or current is None or current.id != user.id:
            raise NotLoggedIn("your session has ended; log in again")

    return SocketLogin(token, check)


def verified_user() -> PublicUser | None:
    """The socket's user, re-checked in a transaction of its own, for events whose work spans
    several transactions (add_money). None, and the socket turns anonymous, if the login ended."""
    user = socket_user()
    if user is None:
        return None
    try:
        current = read(accounts.user_for_token, session.get(SESSION_KEY))
    except DatabaseUnavailable:
        return user  # the event's own unit of work answers `unavailable`
    if current is None or current.id != user.id:
        forget_user()
        return None
    return current


def client_ip() -> str:
    return request.remote_addr or request.environ.get("REMOTE_ADDR") or "unknown"


def rate_limited(name: str, key: object) -> bool:
    return not current_app.extensions["auction.ratelimit"].hit(name, key)


def flooding() -> bool:
    """True when this connection or its address sends events faster than a person could."""
    return rate_limited("socket_event_sid", request.sid) or rate_limited("socket_event_ip", client_ip())

"""Socket.IO adapter: connection auth, rooms, and the shared helpers for event handlers.

Handlers are thin: parse the payload, call one service through `Database.run`,
deliver the outbox, and return the ack. Errors are acks `{ok: false, error, message}`
with stable codes (see docs/socket-protocol.md), sent only to the caller.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, request, session
from flask_socketio import join_room

from . import accounts
from .accounts import PublicUser
from .db import DatabaseUnavailable
from .errors import ServiceError
from .extensions import get_db, socketio
from .outbox import user_room
from .web.auth import SESSION_KEY

log = logging.getLogger(__name__)

# sid -> the logged-in user of that socket (None for anonymous watchers).
_socket_users: dict[str, PublicUser | None] = {}


def socket_user() -> PublicUser | None:
    return _socket_users.get(request.sid)


def error_ack(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message, **extra}


def client_ip() -> str:
    return request.remote_addr or request.environ.get("REMOTE_ADDR") or "unknown"


def rate_limited(name: str, key: object) -> bool:
    return not current_app.extensions["auction.ratelimit"].hit(name, key)


def service_call(event: str, fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any] | None]:
    """Run a service unit of work; map its failures to an error ack (logged, never raised)."""
    try:
        return get_db().run(fn, *args, **kwargs), None
    except ServiceError as exc:
        log.info("event=socket_refused name=%s sid=%s code=%s", event, request.sid, exc.code)
        return None, error_ack(exc.code, exc.message)
    except DatabaseUnavailable:
        return None, error_ack("unavailable", "the service is briefly unavailable; please try again")
    except Exception:
        log.exception("event=socket_error name=%s sid=%s", event, request.sid)
        return None, error_ack("server_error", "something went wrong; please try again")


@socketio.on("connect")
def on_connect(auth: Any = None) -> bool:
    token = session.get(SESSION_KEY)
    user = None
    if token:
        try:
            user = get_db().run(accounts.user_for_token, token)
        except DatabaseUnavailable:
            user = None
    _socket_users[request.sid] = user
    if user is not None:
        join_room(user_room(user.id))
    log.debug("event=socket_connect sid=%s user_id=%s", request.sid, user.id if user else None)
    return True


@socketio.on("disconnect")
def on_disconnect(*_args: Any) -> None:
    _socket_users.pop(request.sid, None)

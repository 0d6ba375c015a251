"""The one place a Socket.IO event's failure becomes its ack (codes in docs/socket-protocol.md).

Every handler is wrapped by `event(...)`: it refuses floods, asks for a login where
the event acts, and maps what goes wrong to `{ok: false, error, message, ...}`, sent
only to the caller. A handler returns its success ack and raises ServiceError for
everything else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request

from ...db import DatabaseUnavailable
from ...errors import RateLimited, ServiceError
from .. import metrics
from ..i18n import localize
from ..shutdown import DRAIN
from ..usecases import acting_as
from . import connection
from .connection import NotLoggedIn

log = logging.getLogger(__name__)
Handler = Callable[..., dict[str, Any]]
# The attribute `event` leaves on a handler: (event name, the function Socket.IO calls); sockets.register reads it.
SOCKET_EVENT = "socket_event"


def error_ack(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message, **extra}


# Refusals that are the ordinary end of a race, not a mistake: a hot auction answers hundreds of
# `too_low` per second (bids that arrived behind a higher one), so they are logged at DEBUG.
ROUTINE = frozenset({"too_low"})


def ack_for(name: str, exc: Exception) -> dict[str, Any]:
    """The error ack for what a handler raised; logged, never re-raised."""
    if isinstance(exc, ServiceError):
        level = logging.DEBUG if exc.code in ROUTINE else logging.INFO
        if log.isEnabledFor(level):
            log.log(level, "event=socket_refused name=%s sid=%s code=%s", name, request.sid, exc.code)
        if isinstance(exc, NotLoggedIn):
            connection.forget_user()
        return error_ack(exc.code, localize(exc.message), **exc.details)
    if isinstance(exc, DatabaseUnavailable):
        return error_ack("unavailable", localize("the service is briefly unavailable; please try again"))
    log.error("event=socket_error name=%s sid=%s", name, request.sid, exc_info=exc)
    return error_ack("server_error", localize("something went wrong; please try again"))


def event(
    name: str,
    *,
    login: str | None = None,
    limits: Callable[[Any], None] | None = None,
) -> Callable[[Handler], Handler]:
    """Make a handler for `name` (registered on Socket.IO by `sockets.register`, from create_app). With `login`,
    an anonymous socket is refused with that message
    and the handler receives the socket's user; the use cases it performs re-check the login session in
    their own transaction (`usecases.perform`). `limits(user)` replaces the generic per-socket flood
    check with the event's own rate limits (bids)."""

    def register(handler: Handler) -> Handler:
        @wraps(handler)
        def on_event(data: Any = None) -> dict[str, Any]:
            started = time.perf_counter()
            ack = answer(data)
            metrics.answered(name, ack, time.perf_counter() - started)
            return ack

        def answer(data: Any) -> dict[str, Any]:
            try:
                # Counted as work in flight: a SIGTERM lets the process exit only once it is answered.
                with DRAIN.work():
                    if limits is not None:
                        limits(connection.socket_user())
                    elif connection.flooding():
                        raise RateLimited("too many requests; wait a moment and try again")
                    payload = data if isinstance(data, dict) else {}
                    if login is None:
                        return handler(payload)
                    user = connection.socket_user()
                    if user is None:
                        raise NotLoggedIn(login)
                    with acting_as(connection.socket_login()):
                        return handler(user, payload)
            except Exception as exc:
                return ack_for(name, exc)

        setattr(handler, SOCKET_EVENT, (name, on_event))
        return handler

    return register

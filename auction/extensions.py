"""Extensions created once at import and bound to an app in create_app()."""

from __future__ import annotations

import logging

from flask import current_app
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect

from .db import Database
from .outbox import Outbox
from .payments.client import AsaasClient

log = logging.getLogger(__name__)
socketio = SocketIO()
csrf = CSRFProtect()


def get_db() -> Database:
    return current_app.extensions["auction.db"]


def get_asaas() -> AsaasClient:
    """The Asaas client of the current app (the simulator's URL when no API key is set)."""
    return current_app.extensions["auction.asaas"]


def deliver(outbox: Outbox) -> None:
    """Emit every queued message; a failure to publish is logged, never raised."""
    for message in outbox:
        try:
            socketio.emit(message.event, message.payload, to=message.room)
        except Exception:
            log.exception("event=emit_failed event_name=%s room=%s", message.event, message.room)

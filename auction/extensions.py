"""Extensions created once at import and bound to an app in create_app()."""

from __future__ import annotations

from flask import current_app
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect

from .db import Database

socketio = SocketIO()
csrf = CSRFProtect()


def get_db() -> Database:
    return current_app.extensions["auction.db"]

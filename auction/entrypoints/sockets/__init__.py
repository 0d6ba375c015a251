"""Socket.IO adapters. Importing this package registers every handler on `socketio`."""

from __future__ import annotations

from typing import Any

from ...extensions import socketio
from . import auctions, buy_now, connection, payouts, presence, wallet  # noqa: F401 - register handlers and presence


@socketio.on("connect")
def on_connect(auth: Any = None) -> bool:
    connection.connect()
    return True


@socketio.on("disconnect")
def on_disconnect(*_args: Any) -> None:
    presence.leave_all()

"""Socket.IO adapters: create_app wires every handler on `socketio` through `register`."""

from __future__ import annotations

from types import FunctionType
from typing import Any

from flask_socketio import SocketIO

from . import acks, auctions, buy_now, connection, events, payouts, presence, wallet

# The modules whose `@acks.event` handlers the site answers.
HANDLER_MODULES = (auctions, buy_now, events, payouts, wallet)


def on_connect(auth: Any = None) -> bool:
    connection.connect()
    return True


def on_disconnect(*_args: Any) -> None:
    presence.leave_all()


def register(socketio: SocketIO) -> None:
    """Every handler on `socketio`, before its init_app: Flask-SocketIO copies its handler list into each new
    server (a handler added later reaches only the first app's server). The one module-level SocketIO keeps
    its list across apps (tests build many), so it is filled once."""
    if any(message == "connect" for message, *_ in socketio.handlers):
        return
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    for module in HANDLER_MODULES:
        for handler in vars(module).values():
            # type(), not getattr on everything: a module's Flask proxies (request, session) need a context.
            spec = getattr(handler, acks.SOCKET_EVENT, None) if type(handler) is FunctionType else None
            if spec is not None:
                socketio.on_event(*spec)

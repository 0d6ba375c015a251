"""The Flask app class: socket events get their request context without URL matching.

Flask-SocketIO runs every socket event inside `app.request_context(environ)` of the socket's
handshake (path `/socket.io/`). Pushing that context matches the path against the whole URL map,
which no route answers, so werkzeug walks its matcher and raises NotFound on every event: a fifth of
the hub's CPU on a hot auction (bench.hot_auction --profile hub). A socket event has no route, so
matching is skipped for Socket.IO paths; `url_for` still works (the URL adapter is built as before).

Right after pushing, Flask-SocketIO replaces the context's session with the socket's own copy
(`environ["saved_session"]`, made at its first event), so the session Flask opened from the
handshake's cookie (parse the Cookie header, check its signature, copy it) was thrown away on every
event: 7% of the hub on a hot auction. That copy is handed to the context here, so Flask opens none.
Binding the URL map to the handshake's environ (4% more) is also done once per socket, not per event:
the environ, and so the binding, is the same for all of a socket's events.
Flask has no setting for any of this, hence the small subclass.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from flask.ctx import RequestContext
from werkzeug.routing import MapAdapter

SOCKETIO_PATH = "/socket.io"
_ADAPTER_KEY = "auction.url_adapter"


def _socket_path(environ: dict[str, Any]) -> bool:
    path = environ.get("PATH_INFO", "")
    return path == SOCKETIO_PATH or path.startswith(SOCKETIO_PATH + "/")


class _RequestContext(RequestContext):
    def match_request(self) -> None:
        if _socket_path(self.request.environ):
            return  # a socket event: no route to find (request.url_rule stays None)
        super().match_request()


class AuctionApp(Flask):
    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        if request is None or not _socket_path(request.environ):
            return super().create_url_adapter(request)
        environ = request.environ
        if _ADAPTER_KEY not in environ:  # a refused host raises here, at every event, as before
            environ[_ADAPTER_KEY] = super().create_url_adapter(request)
        return environ[_ADAPTER_KEY]

    def request_context(self, environ: dict[str, Any]) -> RequestContext:
        # Only a socket's environ has a saved session; every HTTP request opens its cookie as before.
        return _RequestContext(self, environ, session=environ.get("saved_session"))

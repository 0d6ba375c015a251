"""The Flask app class: socket events get their request context without URL matching.

Flask-SocketIO runs every socket event inside `app.request_context(environ)` of the socket's
handshake (path `/socket.io/`). Pushing that context matches the path against the whole URL map,
which no route answers, so werkzeug walks its matcher and raises NotFound on every event: a fifth of
the hub's CPU on a hot auction (bench.hot_auction --profile hub). A socket event has no route, so
matching is skipped for Socket.IO paths; `url_for` still works (the URL adapter is built as before).
Flask has no setting for this, hence the small subclass.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.ctx import RequestContext

SOCKETIO_PATH = "/socket.io"


class _RequestContext(RequestContext):
    def match_request(self) -> None:
        path = self.request.environ.get("PATH_INFO", "")
        if path == SOCKETIO_PATH or path.startswith(SOCKETIO_PATH + "/"):
            return  # a socket event: no route to find (request.url_rule stays None)
        super().match_request()


class AuctionApp(Flask):
    def request_context(self, environ: dict[str, Any]) -> RequestContext:
        return _RequestContext(self, environ)

"""The WSGI server's outer guard: connection floods, slow clients, and the HTTP work counted for shutdown.

- **Open sockets per address** (`SOCKETS_PER_ADDRESS`): Socket.IO requests (a websocket for its whole life, a
  long-poll while it waits) from one client address at once; more are answered 429 before Engine.IO sees them.
- **Handshakes per address** (`HANDSHAKES_PER_SECOND`): new Socket.IO sessions (a request without `sid`) per
  second per address; a reconnect storm or a script opening sessions is answered 429, the rest of the site
  is not slowed by it.
- **Slow clients** (`HANDSHAKE_TIMEOUT`): run.py gives eventlet this as the socket read timeout, so a
  connection that sends its request (or the next one on a kept-alive connection) slower than that is closed
  (slowloris). A websocket lifts it once upgraded: Socket.IO's own ping (every 25 s) finds dead ones.

The client address is the one ProxyFix gives the app: with `TRUSTED_PROXIES` hops, the hop they added to
X-Forwarded-For (behind nginx every connection is from 127.0.0.1). nginx applies the same kind of limits
first (deploy/nginx); these hold when a process is reached directly, and for each process behind nginx.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from typing import Any

from .shutdown import DRAIN, ShuttingDown

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def client_address(environ: dict[str, Any], trusted_proxies: int) -> str:
    """What ProxyFix(x_for=trusted_proxies) makes REMOTE_ADDR."""
    forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if trusted_proxies and len(forwarded) >= trusted_proxies:
        return forwarded[-trusted_proxies]
    return environ.get("REMOTE_ADDR", "")


class Guard:
    def __init__(
        self,
        app: WSGIApp,
        *,
        sockets_per_address: int,
        handshakes_per_second: int,
        trusted_proxies: int,
        socketio_path: str = "/socket.io",
    ) -> None:
        self.app = app
        self.sockets_per_address = sockets_per_address
        self.handshakes_per_second = handshakes_per_second
        self.trusted_proxies = trusted_proxies
        self.socketio_path = socketio_path
        self.open: dict[str, int] = defaultdict(int)
        self.handshakes: dict[str, deque[float]] = defaultdict(deque)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # The app's own result object is returned untouched: under eventlet a websocket's is ALREADY_HANDLED,
        # returned when the socket closes, so the open count drops exactly then.
        if not environ.get("PATH_INFO", "").startswith(self.socketio_path):
            return self._counted(environ, start_response)
        address = client_address(environ, self.trusted_proxies)
        if self.open[address] >= self.sockets_per_address:
            return self._refuse(start_response, "sockets", address)
        if "sid=" not in environ.get("QUERY_STRING", "") and not self._handshake_allowed(address):
            return self._refuse(start_response, "handshakes", address)
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            _lift_read_timeout(environ)
        self.open[address] += 1
        try:
            return self.app(environ, start_response)
        finally:
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]

    def _counted(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """A page, form or webhook: work in flight until the app has answered."""
        try:
            with DRAIN.work():
                return self.app(environ, start_response)
        except ShuttingDown:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Retry-After", "2")])
            return [b"the server is restarting; please try again\n"]

    def _handshake_allowed(self, address: str) -> bool:
        now = time.monotonic()
        recent = self.handshakes[address]
        while recent and now - recent[0] > 1.0:
            recent.popleft()
        if len(recent) >= self.handshakes_per_second:
            return False
        recent.append(now)
        if len(self.handshakes) > 10_000:  # forget quiet addresses so the table stays small
            for quiet in [a for a, times in self.handshakes.items() if not times or now - times[-1] > 1.0]:
                del self.handshakes[quiet]
        return True

    @staticmethod
    def _refuse(start_response: Callable[..., Any], what: str, address: str) -> Iterable[bytes]:
        log.info("event=connection_refused limit=%s address=%s", what, address)
        start_response("429 Too Many Requests", [("Content-Type", "text/plain"), ("Retry-After", "1")])
        return [b"too many connections from your address; wait a moment\n"]


def _lift_read_timeout(environ: dict[str, Any]) -> None:
    source = environ.get("eventlet.input")
    sock = source.get_socket() if source is not None and hasattr(source, "get_socket") else None
    if sock is not None:
        sock.settimeout(None)


def protect(app: Any) -> Guard:
    """The Flask app wrapped for serving (run.py), with its limits from the app's settings."""
    config = app.config
    return Guard(
        app,
        sockets_per_address=config["SOCKETS_PER_ADDRESS"],
        handshakes_per_second=config["HANDSHAKES_PER_SECOND"],
        trusted_proxies=config["TRUSTED_PROXIES"],
    )

"""The WSGI server's outer guard: connection floods, slow clients, and the HTTP work counted for shutdown.

- **Sessions per address** (`SOCKETS_PER_ADDRESS`): open Engine.IO sessions (websocket or long-polling) from one
  client address; a handshake beyond them is answered 429 before Engine.IO sees it. Sessions are counted, not
  requests: a polling session holds a waiting GET and sends POSTs, and many people share one address (a NAT, a
  campus, a mobile carrier), so a request for a session that exists (its `sid`) is never refused here.
- **Handshakes per address** (`HANDSHAKES_PER_SECOND`, off with `RATE_LIMITS_ENABLED`): new sessions (a request
  whose parsed query has no `sid`, as Engine.IO reads it) per second per address; a reconnect storm or a script
  opening sessions is answered 429, the rest of the site is not slowed by it.
- **Slow clients** (`HANDSHAKE_TIMEOUT`): every runtime's server has this as the socket read timeout
  (auction/runtime/serving.py), so a connection that sends its request (or the next one on a kept-alive
  connection) slower than that is closed (slowloris). A websocket lifts it once upgraded: Socket.IO's own
  ping (every 25 s) finds dead ones.

The client address is the one ProxyFix gives the app: with `TRUSTED_PROXIES` hops, the hop they added to
X-Forwarded-For (behind nginx every connection is from 127.0.0.1). nginx applies the same kind of limits
first (deploy/nginx); these hold when a process is reached directly, and for each process behind nginx.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Container, Iterable
from typing import Any
from urllib.parse import parse_qs

from .. import runtime
from .shutdown import DRAIN, ShuttingDown

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# All a process with SERVE_SITE off (the jobs process, deploy/systemd/leilao-jobs.service) answers.
MONITORING_PATHS = frozenset({"/healthz", "/metrics"})
# The guard's reading of the client address, left in a handshake's environ for Engine.IO's connect event.
ADDRESS_KEY = "leilao.guard.address"


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
        handshakes_per_second: int | None,
        trusted_proxies: int,
        socketio_path: str = "/socket.io",
    ) -> None:
        self.app = app
        self.sockets_per_address = sockets_per_address
        self.handshakes_per_second = handshakes_per_second  # None: no handshake rate limit
        self.trusted_proxies = trusted_proxies
        self.socketio_path = socketio_path
        self.sessions: dict[str, set[str]] = defaultdict(set)
        self.address_of: dict[str, str] = {}
        # Engine.IO's own table of sessions (`watch`): a session missing from it is over, whatever we heard.
        self.live: Container[str] = ()
        self.handshakes: dict[str, deque[float]] = defaultdict(deque)

    def watch(self, eio: Any) -> None:
        """Count the sessions of this Engine.IO server (python-engineio 4.15): its `connect` and `disconnect`
        events are the only moments a session begins and ends, whatever the transport."""
        on_connect, on_disconnect = eio.handlers["connect"], eio.handlers["disconnect"]

        def connect(sid: str, environ: dict[str, Any]) -> Any:
            accepted = on_connect(sid, environ)
            if accepted is None or accepted is True:
                self._opened(sid, environ.get(ADDRESS_KEY) or client_address(environ, self.trusted_proxies))
            return accepted

        def disconnect(sid: str, reason: Any) -> Any:
            self._closed(sid)
            return on_disconnect(sid, reason)

        eio.on("connect", connect)
        eio.on("disconnect", disconnect)
        self.live = eio.sockets

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(self.socketio_path):
            return self._counted(environ, start_response)
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            runtime.current().lift_read_timeout(environ)
        if "sid" in parse_qs(environ.get("QUERY_STRING", "")):
            return self.app(environ, start_response)  # a session that exists (or a bad sid Engine.IO refuses)
        address = client_address(environ, self.trusted_proxies)
        if self._open_sessions(address) >= self.sockets_per_address:
            return self._refuse(start_response, "sockets", address)
        if self.handshakes_per_second is not None and not self._handshake_allowed(address):
            return self._refuse(start_response, "handshakes", address)
        environ[ADDRESS_KEY] = address
        return self.app(environ, start_response)

    def _opened(self, sid: str, address: str) -> None:
        self.sessions[address].add(sid)
        self.address_of[sid] = address

    def _closed(self, sid: str) -> None:
        address = self.address_of.pop(sid, None)
        if address is not None:
            self.sessions[address].discard(sid)
            if not self.sessions[address]:
                del self.sessions[address]

    def _open_sessions(self, address: str) -> int:
        sessions = self.sessions.get(address, ())
        if len(sessions) >= self.sockets_per_address:
            # Only at the limit, so the check stays cheap: forget sessions Engine.IO no longer has.
            for sid in [sid for sid in sessions if sid not in self.live]:
                self._closed(sid)
        return len(self.sessions.get(address, ()))

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


def monitoring_only(app: WSGIApp) -> WSGIApp:
    """`app` answering MONITORING_PATHS only: no page, form or socket reaches a jobs process."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in MONITORING_PATHS:
            return app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"this process answers only /healthz and /metrics\n"]

    return serve


def protect(app: Any) -> WSGIApp:
    """The Flask app wrapped for serving (run.py), with its limits from the app's settings; with SERVE_SITE
    off, only the monitoring paths."""
    config = app.config
    guard = Guard(
        app,
        sockets_per_address=config["SOCKETS_PER_ADDRESS"],
        handshakes_per_second=config["HANDSHAKES_PER_SECOND"] if config["RATE_LIMITS_ENABLED"] else None,
        trusted_proxies=config["TRUSTED_PROXIES"],
    )
    guard.watch(app.extensions["socketio"].server.eio)
    return guard if config["SERVE_SITE"] else monitoring_only(guard)

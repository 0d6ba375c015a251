"""Serving the app on the chosen runtime (run.py): the WSGI server, its listener, and what bench/ measured.

- Every runtime: the listener has TCP_NODELAY. Acks and broadcasts are small frames: with Nagle's algorithm
  on, each one waited for the peer's delayed ACK (bare server, 100 watchers: ack p50 43.9 ms -> 8.3 ms).
  Accepted sockets inherit the option from the listener on Linux. Every websocket is an open file, so the
  soft limit is raised towards MAX_CONNECTIONS.
- Every runtime: HANDSHAKE_TIMEOUT is the connection socket's read timeout against slow clients (slowloris),
  lifted once a websocket is upgraded (guard.py calls `runtime.current().lift_read_timeout`).
- eventlet (`eventlet.wsgi`, `socket_timeout`): at most MAX_CONNECTIONS at once (its default of 1,024 caps the
  websockets one process holds).
- gevent (`gevent.pywsgi`, websockets through simple-websocket): at most MAX_CONNECTIONS handlers at once; the
  handler sets the timeout on its connection and leaves the socket in the environ for the lift.
- threading (Werkzeug's threaded server, websockets through simple-websocket): one OS thread per connection
  (socketserver's `timeout` sets the read timeout); the most compatible mode and the slowest (docs/performance.md).

run.py hands `server(...)`'s start and stop to `entrypoints/shutdown.py`, which runs the server until SIGTERM,
then drains the work in flight.
"""

from __future__ import annotations

import logging
import resource
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import CONNECTION_SOCKET, current

log = logging.getLogger(__name__)
BACKLOG = 50  # eventlet.listen's
Starter = tuple[Callable[[], Any], Callable[[], None]]


@dataclass(frozen=True)
class Limits:
    max_connections: int  # MAX_CONNECTIONS
    handshake_timeout: float  # HANDSHAKE_TIMEOUT


def server(wsgi: Any, host: str, port: int, limits: Limits) -> Starter:
    """The current runtime's server for `wsgi` on HOST:PORT: (start it beside the caller, stop accepting)."""
    raise_open_files_limit(limits.max_connections + 256)
    return _SERVERS[current().name](wsgi, _listener(host, port), limits)


def _listener(host: str, port: int) -> socket.socket:
    """What eventlet.listen() makes (SO_REUSEADDR, SO_REUSEPORT, a backlog of 50), plus TCP_NODELAY; after
    monkey-patching, socket.socket is the runtime's green socket."""
    family, _type, _proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if port:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(address)
    listener.listen(BACKLOG)
    return listener


def _eventlet(wsgi: Any, listener: socket.socket, limits: Limits) -> Starter:
    import eventlet
    import eventlet.wsgi

    def start() -> None:
        eventlet.spawn(
            eventlet.wsgi.server,
            listener,
            wsgi,
            log_output=False,
            max_size=limits.max_connections,
            socket_timeout=limits.handshake_timeout,
        )

    return start, listener.close


def _gevent(wsgi: Any, listener: socket.socket, limits: Limits) -> Starter:
    from gevent.pool import Pool
    from gevent.pywsgi import WSGIHandler, WSGIServer

    class Handler(WSGIHandler):  # type: ignore[misc]
        def handle(self) -> None:
            self.socket.settimeout(limits.handshake_timeout)
            super().handle()

        def get_environ(self) -> dict[str, Any]:
            environ = super().get_environ()
            environ[CONNECTION_SOCKET] = self.socket
            return environ

        def run_application(self) -> None:
            super().run_application()
            if _websocket(self.environ.get("HTTP_UPGRADE")):
                self.close_connection = True

    server = WSGIServer(listener, wsgi, log=None, handler_class=Handler, spawn=Pool(limits.max_connections))
    return server.start, server.close


def _threading(wsgi: Any, listener: socket.socket, limits: Limits) -> Starter:
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Handler(WSGIRequestHandler):
        timeout = limits.handshake_timeout  # socketserver sets it on the connection before the first read

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            environ[CONNECTION_SOCKET] = self.connection
            return environ

        def run_wsgi(self) -> None:
            super().run_wsgi()
            if _websocket(self.headers.get("Upgrade")):
                self.close_connection = True

    host, port = listener.getsockname()[:2]
    server = make_server(host, port, wsgi, threaded=True, request_handler=Handler, fd=listener.fileno())
    return (lambda: current().spawn(server.serve_forever)), server.shutdown


def _websocket(upgrade: str | None) -> bool:
    """The request was a websocket, now closed: simple-websocket served it on this connection's socket, and a
    server that read on as HTTP took the client's close frame for a request ("Invalid HTTP method"), so the
    client waited 3 s for its close to be answered. Its connection ends with the websocket instead."""
    return (upgrade or "").lower() == "websocket"


_SERVERS: dict[str, Callable[[Any, socket.socket, Limits], Starter]] = {
    "eventlet": _eventlet,
    "gevent": _gevent,
    "threading": _threading,
}


def raise_open_files_limit(wanted: int) -> None:
    """Every websocket is an open file: lift the soft limit towards `wanted` (never above the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        log.info("event=open_files_limit from=%s to=%s", soft, target)

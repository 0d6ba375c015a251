"""The runtime: everything that depends on how the server runs concurrent work, chosen once per process.

`SOCKETIO_ASYNC_MODE` names the runtime (`eventlet`, the default, `gevent` or `threading`); run.py calls
`select(mode)` before it imports anything else, and every other module asks `current()`. A process run.py
did not start (tests, `flask` CLI commands, bench/ clients) gets the threading runtime and never imports
eventlet or gevent (importing eventlet prints its deprecation banner).

What a runtime provides:

- `offload(fn, *args)`: run blocking C code (the `mariadb` connector, sqlite3) off the hub. eventlet: an OS
  thread of `eventlet.tpool`; gevent: an OS thread of the hub's threadpool; threading: the caller's thread.
- `spawn(fn, *args)`: work beside the caller (a green thread, a greenlet, a daemon OS thread).
- `sleep(seconds)`, and `event()`: something one waits on (`wait()`) and another sets (`set()`): eventlet's
  and gevent's own, or threading's.
- `os_lock()`, `os_rlock()`, `os_threading`: locks that OS threads can share: on a green runtime an
  unpatched copy of `threading` (a green lock contended between offload threads never wakes its waiter,
  under eventlet and gevent alike); under threading, `threading` itself.
- serving (`runtime/serving.py`): `eventlet.wsgi`; `gevent.pywsgi` with simple-websocket; Werkzeug's threaded
  server with simple-websocket.

Why the hub needs `offload`: the database drivers are C code, so a query waiting on the database stops a
green server's whole hub and no other socket is served (10 concurrent `SELECT SLEEP(0.2)` took 2.0 s on the
hub, 0.21 s through `eventlet.tpool`). Library internals the green runtimes must override are in
`runtime/overrides.py`, each with its reason and the version it was checked against; the garbage
collector's settings for a long-running server are in `runtime/gc_policy.py`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
MODES = ("eventlet", "gevent", "threading")
DEFAULT_MODE = "eventlet"
# Where gevent's and threading's servers leave a request's connection socket (runtime/serving.py).
CONNECTION_SOCKET = "leilao.runtime.connection_socket"


class Waitable(Protocol):
    def set(self) -> Any: ...

    def wait(self, timeout: float | None = None) -> Any: ...


class Runtime:
    """The threading runtime; the green ones (`runtime/green.py`) override what differs."""

    name = "threading"
    green = False  # one hub serves every socket: blocking calls must be offloaded
    os_threading: Any = threading

    def offload(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        threading.Thread(target=fn, args=args, daemon=True).start()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def event(self) -> Waitable:
        return threading.Event()

    def os_lock(self) -> Any:
        return self.os_threading.Lock()

    def os_rlock(self) -> Any:
        return self.os_threading.RLock()

    def os_thread_id(self) -> int:
        """The OS thread's id (under eventlet, threading.get_ident names the green thread)."""
        return threading.get_ident()

    def lift_read_timeout(self, environ: dict[str, Any]) -> None:
        """A websocket was upgraded: the server's read timeout against slow clients (HANDSHAKE_TIMEOUT) no
        longer applies; Socket.IO's own pings find dead sockets. The connection's socket is the one the
        server left in the request's environ (runtime/serving.py)."""
        sock = environ.get(CONNECTION_SOCKET)
        if sock is not None:
            sock.settimeout(None)


_current: list[Runtime] = [Runtime()]


def current() -> Runtime:
    return _current[0]


def select(mode: str | None) -> Runtime:
    """Choose this process's runtime, once, at start-up, before the app is imported (run.py): the green ones
    monkey-patch the standard library and install their library overrides."""
    mode = (mode or DEFAULT_MODE).strip().lower()
    if mode not in MODES:
        raise ValueError(f"SOCKETIO_ASYNC_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    if current().name == mode:
        return current()
    if current().green:
        raise RuntimeError(f"the runtime is already {current().name}; it is chosen once per process")
    if mode != "threading":
        from . import green

        _current[0] = green.start(mode)
    return current()

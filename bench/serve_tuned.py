"""run.py exactly, plus the tunings under test, each switched on by an environment variable:

- BENCH_TCP_NODELAY=1: TCP_NODELAY on the listening socket (accepted sockets inherit it on Linux), so a small
  frame (an ack after a broadcast) is not held back by Nagle's algorithm waiting for the peer's delayed ACK.
- BENCH_WSGI_MAX_SIZE=n: eventlet.wsgi.server's max_size, the most requests (so websockets) served at
  once; eventlet's default is 1,024 and Flask-SocketIO passes run()'s extra keyword arguments to it.
- BENCH_SWITCH_INTERVAL=seconds: sys.setswitchinterval(), how long a thread that wants the GIL waits for the
  running one (default 0.005): tpool threads coming back from every query wait on the hub thread for it.

- BENCH_COALESCE_WATCHERS=1: `watchers` counts go to a room at most once a second (a background green
  thread flushes the rooms whose count changed) instead of one broadcast to the whole room per join/leave.
- BENCH_SESSION_RECHECK=seconds: a socket's login session is re-checked against the database at most that
  often, instead of one extra transaction per event.

Measures the proposed fixes without changing run.py: Flask-SocketIO's run() calls eventlet.listen() at call
time, so wrapping it here is enough.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import run  # noqa: E402

_listen = eventlet.listen


def listen_nodelay(*args: Any, **kwargs: Any) -> Any:
    sock = _listen(*args, **kwargs)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def dump_greenlets(*_args: Any) -> None:
    """SIGUSR1: print the stack of every greenlet (suspended ones too, which py-spy cannot see)."""
    import gc
    import traceback

    import greenlet

    for obj in gc.get_objects():
        if isinstance(obj, greenlet.greenlet) and obj.gr_frame is not None:
            print("--- greenlet", id(obj), file=sys.stderr)
            traceback.print_stack(obj.gr_frame, file=sys.stderr)
    sys.stderr.flush()


def coalesce_watchers() -> None:
    from flask import current_app

    from auction import realtime, watchers
    from auction.extensions import socketio
    from auction.outbox import auction_room

    dirty: set[int] = set()
    apps: list[Any] = []

    def announce(auction_id: int) -> int:
        if not apps:
            apps.append(current_app._get_current_object())
            eventlet.spawn(flush)
        dirty.add(auction_id)
        return watchers.counter().count(auction_id)

    def flush() -> None:
        while True:
            socketio.sleep(1.0)
            with apps[0].app_context():
                for auction_id in list(dirty):
                    dirty.discard(auction_id)
                    count = watchers.counter().count(auction_id)
                    socketio.emit("watchers", {"auction_id": auction_id, "count": count}, to=auction_room(auction_id))

    realtime._announce_watchers = announce


def recheck_sessions_every(seconds: float) -> None:
    import time

    from flask import request

    from auction import realtime

    checked: dict[str, float] = {}
    original = realtime.socket_user

    def socket_user() -> Any:
        user = realtime._socket_users.get(request.sid)
        if user is not None and time.monotonic() - checked.get(request.sid, 0.0) < seconds:
            return user
        checked[request.sid] = time.monotonic()
        return original()

    realtime.socket_user = socket_user


def with_max_size(server: Any, max_size: int) -> Any:
    def serve(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("max_size", max_size)
        return server(*args, **kwargs)

    return serve


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGUSR1, dump_greenlets)
    if os.environ.get("BENCH_TCP_NODELAY") == "1":
        eventlet.listen = listen_nodelay
    if os.environ.get("BENCH_WSGI_MAX_SIZE"):
        import eventlet.wsgi

        eventlet.wsgi.server = with_max_size(eventlet.wsgi.server, int(os.environ["BENCH_WSGI_MAX_SIZE"]))
    if os.environ.get("BENCH_COALESCE_WATCHERS") == "1":
        coalesce_watchers()
    if os.environ.get("BENCH_SESSION_RECHECK"):
        recheck_sessions_every(float(os.environ["BENCH_SESSION_RECHECK"]))
    if os.environ.get("BENCH_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))
    sys.exit(run.main([]))

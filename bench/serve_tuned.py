"""run.py exactly, plus the tunings under test, each switched on by an environment variable:

- BENCH_TCP_NODELAY=1: TCP_NODELAY on the listening socket (accepted sockets inherit it on Linux), so a small
  frame (an ack after a broadcast) is not held back by Nagle's algorithm waiting for the peer's delayed ACK.
- BENCH_SWITCH_INTERVAL=seconds: sys.setswitchinterval(), how long a thread that wants the GIL waits for the
  running one (default 0.005): tpool threads coming back from every query wait on the hub thread for it.

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


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGUSR1, dump_greenlets)
    if os.environ.get("BENCH_TCP_NODELAY") == "1":
        eventlet.listen = listen_nodelay
    if os.environ.get("BENCH_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))
    sys.exit(run.main([]))

"""Start work beside the caller: a green thread under eventlet, an OS thread elsewhere.

run.py patches the process for eventlet, and then Flask-SocketIO's background tasks are green
threads. In tests and CLI commands nothing is patched; a green thread would never run while the
caller blocks on an OS-level Event, so the work gets an OS thread instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..extensions import socketio


def spawn(fn: Callable[..., Any], *args: Any) -> None:
    from eventlet import patcher

    if patcher.is_monkey_patched("thread"):
        socketio.start_background_task(fn, *args)
    else:
        threading.Thread(target=fn, args=args, daemon=True).start()

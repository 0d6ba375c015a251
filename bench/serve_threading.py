"""The project on Flask-SocketIO's threading mode (Werkzeug + simple-websocket), for the async-mode comparison.

Same app as run.py, no eventlet monkey-patching: `DB_OFFLOAD=none` is implied (no hub to protect).
"""

from __future__ import annotations

import sys

from auction import create_app
from auction.entrypoints.jobs import start_background_tasks
from auction.extensions import socketio


def main() -> int:
    app = create_app({"SOCKETIO_ASYNC_MODE": "threading", "DB_OFFLOAD": "none"})
    start_background_tasks(app)
    socketio.run(
        app,
        host=app.config["HOST"],
        port=app.config["PORT"],
        log_output=False,
        use_reloader=False,
        allow_unsafe_werkzeug=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Entry point: choose the runtime (SOCKETIO_ASYNC_MODE: eventlet by default, gevent or threading), build the app
and serve it with Flask-SocketIO.

python run.py            # serves on HOST:PORT (default http://127.0.0.1:5000)
python run.py --demo     # also loads demo users and auctions if the database is empty
"""

from __future__ import annotations

import os
import sys

from auction import runtime

# Before anything else is imported: a green runtime monkey-patches the standard library (auction/runtime).
try:
    runtime.select(os.environ.get("SOCKETIO_ASYNC_MODE"))
except ValueError as exc:
    print(f"configuration error: {exc}", file=sys.stderr)
    sys.exit(2)

import argparse
import logging

from auction import create_app
from auction.config import ConfigError, load_config
from auction.db import DatabaseUnavailable
from auction.entrypoints.process import share_metrics
from auction.extensions import get_db
from auction.runtime import serving
from auction.runtime.gc_policy import tune_gc

log = logging.getLogger("auction.run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="load demo data when the database is empty")
    args = parser.parse_args(argv)
    try:
        share_metrics(load_config().get("METRICS_DIR"))
        app = create_app()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 3
    with app.app_context():
        try:
            get_db().check_connection()
        except DatabaseUnavailable as exc:
            print(f"database error: {exc}", file=sys.stderr)
            return 3
        if args.demo:
            from auction.demo import load_demo_data

            load_demo_data(get_db())
    from auction.entrypoints import metrics, probe
    from auction.entrypoints.jobs import start_background_tasks

    sys.setswitchinterval(app.config["GIL_SWITCH_INTERVAL"])
    tune_gc(app.config["GC_THRESHOLD"])
    start_background_tasks(app)
    probe.start(app)
    metrics.start()
    host, port = app.config["HOST"], app.config["PORT"]
    log.info(
        "event=serving url=http://%s:%s env=%s runtime=%s",
        host,
        port,
        app.config["AUCTION_ENV"],
        runtime.current().name,
    )
    from auction.entrypoints import guard, shutdown

    limits = serving.Limits(app.config["MAX_CONNECTIONS"], app.config["HANDSHAKE_TIMEOUT"])
    start, stop_accepting = serving.server(guard.protect(app), host, port, limits)
    shutdown.serve_until_terminated(start, stop_accepting, app.config["SHUTDOWN_TIMEOUT"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

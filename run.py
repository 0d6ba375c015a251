"""Entry point: build the app and serve it with Flask-SocketIO on eventlet.

python run.py            # serves on HOST:PORT (default http://127.0.0.1:5000)
python run.py --demo     # also loads demo users and auctions if the database is empty
"""

from __future__ import annotations

import warnings

# eventlet is in bugfix-only mode and says so on import; it is the server the project chose.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402

from auction import create_app  # noqa: E402
from auction.config import ConfigError  # noqa: E402
from auction.db import DatabaseUnavailable  # noqa: E402
from auction.extensions import get_db, socketio  # noqa: E402

log = logging.getLogger("auction.run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="load demo data when the database is empty")
    args = parser.parse_args(argv)
    try:
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
    from auction.background import start_background_tasks

    start_background_tasks(app)
    host, port = app.config["HOST"], app.config["PORT"]
    log.info("event=serving url=http://%s:%s env=%s", host, port, app.config["AUCTION_ENV"])
    socketio.run(app, host=host, port=port, log_output=False, use_reloader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Faults: the database or Redis goes away, the server is killed. Nothing accepted is lost.

Database outages are made with a TCP proxy between one server and MariaDB (cut = every
connection drops mid-query and new ones are refused) and with `KILL CONNECTION` on the
server's own connections; Redis outages with a private redis-server. The shared MariaDB
and Redis are never restarted.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from auction import create_app
from auction.db import Database, DatabaseUnavailable
from tests.support.faults import TcpProxy, kill_connections
from tests.support.server import free_port
from tests.test_accounts import csrf_token

MARIADB = pytest.mark.parametrize("backend", ["mariadb"], indirect=True)


def select_one(session) -> int:
    return session.execute(text("SELECT 1")).scalar()


@MARIADB
def test_unit_of_work_fails_fast_as_unavailable_and_recovers_by_itself(db_url):
    proxy = TcpProxy("127.0.0.1", 3306).start()
    db = Database(proxy.url_for(db_url), pool_size=2, offload="none")
    try:
        assert db.run(select_one) == 1
        proxy.cut()
        started = time.monotonic()
        for _ in range(3):
            with pytest.raises(DatabaseUnavailable):
                db.run(select_one)
        assert time.monotonic() - started < 2, "an outage must answer fast, not hang"
        proxy.restore()
        assert db.run(select_one) == 1
        # Connections killed on the server side: the pool notices and reconnects, no error.
        assert kill_connections(db_url) >= 1
        assert db.run(select_one) == 1
    finally:
        db.dispose()
        proxy.cut()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_pages_answer_503_when_the_database_is_down(app_config):
    app = create_app({**app_config, "DATABASE_URL": f"mariadb+mariadbconnector://root:@127.0.0.1:{free_port()}/x"})
    client = app.test_client()
    login_form = {"username": "someone", "password": "a long password", "csrf_token": csrf_token(client, "/login")}
    try:
        for method, path, data in (("GET", "/", None), ("GET", "/healthz", None), ("POST", "/login", login_form)):
            started = time.monotonic()
            response = client.open(path, method=method, data=data)
            assert response.status_code == 503, path
            assert time.monotonic() - started < 2
            assert response.headers["Retry-After"]
            body = response.get_data(as_text=True)
            assert "briefly unavailable" in body and "Traceback" not in body
    finally:
        app.extensions["auction.db"].dispose()

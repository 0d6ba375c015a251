"""Fixtures: the app from the factory on a fresh database per test, on SQLite and MariaDB.

MariaDB is used when TEST_MARIADB_URL is set or the local server answers; with
CI=true its absence fails the run instead of skipping.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from asaas_sim.models import Base as SimulatorBase
from auction import clock, create_app
from auction.db import Database
from auction.extensions import get_db
from auction.models import Base
from tests.support.server import LiveServer

# Fixtures shared by several test modules, found by pytest without importing them by name.
pytest_plugins = ["tests.support.auctions", "tests.support.payments", "tests.support.nginx", "tests.support.smtp"]

MARIADB_URL = os.environ.get("TEST_MARIADB_URL", "mariadb+mariadbconnector://root:@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


class MariaDBServer:
    """Creates throw-away databases on the server and drops them at the end."""

    def __init__(self, url: str) -> None:
        self.base_url = make_url(url)
        self.admin = create_engine(self.base_url, isolation_level="AUTOCOMMIT", pool_size=1)
        self.created: list[str] = []

    def create_database(self, prefix: str = "auction_t") -> str:
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        self.created.append(name)
        return self.base_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        self.admin.dispose()


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDBServer]:
    try:
        server = MariaDBServer(MARIADB_URL)
        with server.admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"CI=true but MariaDB is not reachable at {make_url(MARIADB_URL).render_as_string()}: {exc}")
        pytest.skip(f"MariaDB not reachable: {exc}")
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def mariadb_schema_url(mariadb: MariaDBServer) -> str:
    """One database for the run with the schema from the models; tests empty it."""
    url = mariadb.create_database()
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    SimulatorBase.metadata.create_all(engine)
    engine.dispose()
    return url


def _empty_tables(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for table in [*reversed(Base.metadata.sorted_tables), *SimulatorBase.metadata.sorted_tables]:
            conn.exec_driver_sql(f"DELETE FROM `{table.name}`")
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    engine.dispose()


@pytest.fixture(params=["sqlite", "mariadb"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'auction.db'}"
    url = request.getfixturevalue("mariadb_schema_url")
    _empty_tables(url)
    return url


@pytest.fixture
def app_config(db_url: str, tmp_path: Path) -> dict:
    return {
        "DATABASE_URL": db_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "ASAAS_WEBHOOK_TOKEN": "test-webhook-token-0123456789abcdef",
        "TESTING": True,
        "RATE_LIMITS_ENABLED": False,
        "SCHEDULER_ENABLED": False,
        # Handler tests read each count right after a join or leave.
        "WATCHERS_ANNOUNCE_INTERVAL": 0,
        "LOG_LEVEL": "INFO",
        # Most tests read English; the pt_BR pages (the site's default) have their own tests.
        "DEFAULT_LOCALE": "en",
    }


@pytest.fixture
def app(app_config: dict):
    application = create_app(app_config)
    Base.metadata.create_all(application.extensions["auction.db"].engine)
    yield application
    application.extensions["auction.db"].dispose()
    clock.reset()


class LimiterClock:
    """The rate limiter's clock (`auction.ratelimit.time`), standing still until a test moves it."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def frozen_window(monkeypatch: pytest.MonkeyPatch) -> LimiterClock:
    """The limiter counts in windows of wall-clock time: a test whose hits take longer than a window (a loaded
    machine) or straddle a window's boundary sees earlier hits age out. With its clock still, no count resets."""
    limiter_clock = LimiterClock()
    monkeypatch.setattr("auction.ratelimit.time", limiter_clock)
    return limiter_clock


@pytest.fixture
def db(app) -> Database:
    with app.app_context():
        return get_db()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(db: Database) -> Callable[..., int]:
    """Create a user (and wallet) directly through the accounts service; returns the id."""
    from auction import accounts

    counter = iter(range(1, 10_000))

    def factory(username: str | None = None, *, is_admin: bool = False, password: str = "correct horse battery") -> int:
        n = next(counter)
        name = username or f"user{n}"
        cpf = VALID_CPFS[n % len(VALID_CPFS)]
        return db.transaction(
            lambda s: (
                accounts.register(
                    s,
                    username=name,
                    email=f"{name}@example.com",
                    password=password,
                    cpf_cnpj=cpf,
                    is_admin=is_admin,
                    verified=True,
                ).id
            )
        )

    return factory


VALID_CPFS = ["52998224725", "11144477735", "39053344705", "15350946056", "71428793860"]


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start real servers (run.py) in subprocesses; all are stopped after the test."""
    servers: list[LiveServer] = []
    numbers = itertools.count()  # next() is atomic: tests may start servers from several threads at once

    def start(db_url: str, **env: str) -> LiveServer:
        number = next(numbers)
        instance = tmp_path / f"instance{number}"
        base = {
            "DATABASE_URL": db_url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "live-test-secret",
            "ASAAS_WEBHOOK_TOKEN": "test-webhook-token-0123456789abcdef",
            "RATE_LIMITS_ENABLED": "false",
            "SCHEDULER_INTERVAL": "0.2",
        }
        server = LiveServer(env={**base, **env}, log_path=tmp_path / f"server{number}.log")
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()

"""The engine for either backend: SQLite's locking, MariaDB's timeouts and dead-connection retry, a pool
whose locks are the runtime's OS locks, and a reset that rolls back only what is still open."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import queue as sqla_queue

from .. import runtime

# Seconds the mariadb connector waits to connect and for each read/write (DATABASE_URL's query overrides them).
MARIADB_TIMEOUTS = {"connect_timeout": 5, "read_timeout": 15, "write_timeout": 15}


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for logs and error messages."""
    return make_url(url).render_as_string(hide_password=True)


def mark_dead_before_first_statement(engine: Engine) -> None:
    """Flag a connection lost at its checkout's first statement (the database restarted, a KILL): nothing
    reached the database, so `_attempts` runs the work once more (SQLAlchemy drops the whole pool on a
    disconnect). Lost after a statement (maybe mid-commit) is never retried. Replaces pool_pre_ping."""

    @event.listens_for(engine, "checkout")
    def _checked_out(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        record.info["used"] = False

    @event.listens_for(engine, "after_cursor_execute")
    def _used(conn: Any, *_args: Any) -> None:
        conn.info["used"] = True

    @event.listens_for(engine, "handle_error")
    def _lost(context: Any) -> None:
        connection = context.connection
        if context.is_disconnect and connection is not None and context.sqlalchemy_exception is not None:
            fresh = not connection.info.get("used", True)
            context.sqlalchemy_exception.died_before_first_statement = fresh  # type: ignore[attr-defined]


class _OSThreadQueue(sqla_queue.Queue):  # type: ignore[type-arg]
    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        real = runtime.current().os_threading
        self.mutex = real.RLock()
        self.not_empty = real.Condition(self.mutex)
        self.not_full = real.Condition(self.mutex)


class OSThreadQueuePool(QueuePool):
    """QueuePool whose locks are real OS locks.

    After monkey-patching, SQLAlchemy's pool locks are green locks, and a green lock
    contended between tpool's OS threads never wakes its waiter: under load every
    tpool thread ended up parked in the pool's queue mutex and the server stopped
    answering bids (measured in bench/, see docs/performance.md). The locks are held
    for microseconds, never across I/O, so real locks cost the hub nothing.
    """

    _queue_class = _OSThreadQueue

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._overflow_lock = runtime.current().os_threading.Lock()


# SQLAlchemy names a pool's logger after its class; keep it as quiet as its own QueuePool's.
logging.getLogger(f"{__name__}.{OSThreadQueuePool.__name__}").setLevel(logging.WARNING)


SERVER_STATUS_IN_TRANS = 1  # MariaDB's server status flag: a transaction is open on this connection


def rollback_if_open(dbapi_connection: Any, _record: Any, _state: Any) -> None:
    """A connection back in the pool is rolled back only if a transaction is still open on it.

    By hand because the pool's own reset (rollback on return) sends a ROLLBACK after every unit of work,
    committed ones included: a round trip per transaction for nothing. The mariadb connector keeps the
    status flags of the server's last reply; a connector that has none is always rolled back.
    """
    status = getattr(dbapi_connection, "server_status", None)
    if status is None or status & SERVER_STATUS_IN_TRANS:
        dbapi_connection.rollback()


def build_engine(url: URL, pool_size: int) -> Engine:
    """The engine of `url` (SQLite or MariaDB) with a pool of `pool_size` connections (and as many overflow)."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=OSThreadQueuePool,
            pool_size=pool_size,
            max_overflow=pool_size,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, issue BEGIN (see _sqlite_begin).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # SQLite has no row locks: take the write lock at BEGIN so
            # read-then-write transactions serialize instead of failing.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pre-ping: a ping on every checkout is one more round trip per transaction. A pooled
    # connection the server dropped fails on its first statement instead, and `_attempts` runs the
    # unit of work again once on a fresh one (mark_dead_before_first_statement).
    engine = create_engine(
        url,
        # A database that is slow or silent answers `unavailable` in bounded time (docs/reliability.md).
        connect_args={k: v for k, v in MARIADB_TIMEOUTS.items() if k not in url.query},
        poolclass=OSThreadQueuePool,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=3600,
        isolation_level="READ COMMITTED",
        pool_reset_on_return=None,  # `rollback_if_open` instead
    )
    mark_dead_before_first_statement(engine)
    event.listen(engine, "reset", rollback_if_open)
    return engine

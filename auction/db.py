"""Engine, sessions and the unit of work.

A unit of work is one short database transaction: `db.run(fn, *args)` opens a
session, calls `fn(session, *args)`, commits, and retries the whole function on a
deadlock or lock-wait timeout (and, at most twice, on a duplicate key from a racing
insert, so the retry finds the row the other transaction committed).

Why it runs off the eventlet hub: the `mariadb` connector (and sqlite3) are C
code, so while a query waits on the database the whole eventlet hub stops and no
other socket is served (10 concurrent `SELECT SLEEP(0.2)` took 2.0 s on the hub,
0.21 s through `eventlet.tpool`). When the process is monkey-patched by eventlet,
`run()` therefore hands the whole unit of work to one of tpool's OS threads and
the calling green thread waits cooperatively. The work inside `fn` must not touch
green-thread-only objects (socket emits happen after `run()` returns).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import queue as sqla_queue

log = logging.getLogger(__name__)
T = TypeVar("T")

# MariaDB error numbers worth retrying the whole transaction for.
RETRYABLE_ERRNOS = {1205, 1213}  # lock wait timeout, deadlock
# Connection-level failures: the database is gone for now.
UNAVAILABLE_ERRNOS = {1927, 2002, 2003, 2006, 2013, 2055, 4031}
MAX_ATTEMPTS = 5
# A duplicate key is retried at most this many times: when two transactions race to
# insert the same unique row (e.g. a wallet's first creation), the loser's retry
# finds the winner's committed row. A genuine duplicate fails again and is raised.
MAX_DUPLICATE_RETRIES = 2
DUPLICATE_KEY_ERRNO = 1062


@runtime_checkable
class Rewindable(Protocol):
    """An argument of a unit of work that collects side effects (auction.outbox.Outbox)."""

    def checkpoint(self) -> int: ...

    def rewind(self, checkpoint: int) -> None: ...


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; callers answer `unavailable` / 5xx."""


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC DATETIME(6) in the database."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use auction.clock.now()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for logs and error messages."""
    return make_url(url).render_as_string(hide_password=True)


def _errno(exc: BaseException) -> int | None:
    orig = getattr(exc, "orig", None)
    for attr in ("errno", "args"):
        value = getattr(orig, attr, None)
        if attr == "errno" and isinstance(value, int):
            return value
    return None


def is_retryable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    if _errno(exc) in RETRYABLE_ERRNOS:
        return True
    message = str(getattr(exc, "orig", exc)).lower()
    return "deadlock" in message or "lock wait timeout" in message or "database is locked" in message


def is_duplicate_key(exc: BaseException) -> bool:
    if not isinstance(exc, IntegrityError):
        return False
    if _errno(exc) == DUPLICATE_KEY_ERRNO:
        return True
    message = str(getattr(exc, "orig", exc)).lower()
    return "unique constraint failed" in message or "duplicate entry" in message


def is_unavailable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or _errno(exc) in UNAVAILABLE_ERRNOS:
        return True
    message = str(getattr(exc, "orig", exc)).lower()
    return any(
        text in message
        for text in ("can't connect", "lost connection", "server has gone away", "connection was killed")
    )


def _os_threading() -> Any:
    """The real `threading` module, even after eventlet.monkey_patch()."""
    if "eventlet" not in sys.modules:  # nothing patched it (and importing eventlet prints a banner)
        return threading
    from eventlet import patcher

    return patcher.original("threading")


class _OSThreadQueue(sqla_queue.Queue):  # type: ignore[type-arg]
    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        real = _os_threading()
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
        self._overflow_lock = _os_threading().Lock()


# SQLAlchemy names a pool's logger after its class; keep it as quiet as its own QueuePool's.
logging.getLogger(f"{__name__}.{OSThreadQueuePool.__name__}").setLevel(logging.WARNING)


class Database:
    """One engine and its session factory, plus the unit-of-work runner."""

    def __init__(self, url: str, *, pool_size: int = 20, offload: str = "auto") -> None:
        self.url = make_url(url)
        self.engine = self._create_engine(self.url, pool_size)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.offload = offload
        self._local = threading.local()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @staticmethod
    def _create_engine(url: URL, pool_size: int) -> Engine:
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
        return create_engine(
            url,
            poolclass=OSThreadQueuePool,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_recycle=3600,
            isolation_level="READ COMMITTED",
        )

    # -- units of work -------------------------------------------------------

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(session, *args, **kwargs)` as one transaction, retried on deadlock or a racing insert."""
        if self._should_offload():
            from eventlet import tpool

            return tpool.execute(self._run_here, fn, args, kwargs)
        return self._run_here(fn, args, kwargs)

    def _should_offload(self) -> bool:
        if self.offload == "none" or getattr(self._local, "inside", False):
            return False
        try:
            from eventlet import patcher
        except ImportError:
            return False
        if self.offload == "tpool":
            return True
        return patcher.is_monkey_patched("thread")

    def _run_here(self, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        self._local.inside = True
        # Side effects queued by an attempt (an Outbox's messages) go with its rollback.
        marks = [(arg, arg.checkpoint()) for arg in (*args, *kwargs.values()) if isinstance(arg, Rewindable)]
        try:
            delay = 0.005
            duplicates = 0
            for attempt in range(1, MAX_ATTEMPTS + 1):
                for arg, mark in marks:
                    arg.rewind(mark)
                try:
                    with self.sessionmaker() as session, session.begin():
                        return fn(session, *args, **kwargs)
                except DBAPIError as exc:
                    if is_unavailable(exc):
                        log.warning("event=db_unavailable url=%s error=%s", safe_url(self.url), type(exc).__name__)
                        raise DatabaseUnavailable("the database is unavailable") from exc
                    duplicate = is_duplicate_key(exc) and duplicates < MAX_DUPLICATE_RETRIES
                    duplicates += duplicate
                    if attempt == MAX_ATTEMPTS or not (duplicate or is_retryable(exc)):
                        raise
                    reason = _errno(exc) or ("duplicate" if duplicate else "locked")
                    log.info("event=tx_retry attempt=%d reason=%s", attempt, reason)
                    time.sleep(delay)
                    delay *= 2
            raise AssertionError("unreachable")
        finally:
            self._local.inside = False

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A plain session for reads in tests and CLI commands."""
        with self.sessionmaker() as session:
            yield session

    def check_connection(self) -> None:
        """Fail with one clear line naming the URL (never its password)."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except (OperationalError, DBAPIError) as exc:
            raise DatabaseUnavailable(
                f"cannot reach the database at {safe_url(self.url)}: {str(getattr(exc, 'orig', exc)).splitlines()[0]}"
            ) from exc

    def dispose(self) -> None:
        self.engine.dispose()

"""Engine, sessions and the unit of work.

About 400 lines: the engine set-up for both backends (SQLite's locking, MariaDB's timeouts and dead-connection
retry), the OS-thread pool eventlet needs and the retrying runner belong together and are read together.

A unit of work is one short database transaction: `db.run(fn, *args)` opens a
session, calls `fn(uow, *args)` with a `UnitOfWork` (the session and an Outbox of the
socket messages the work causes), commits, delivers the outbox, and retries the whole
function on a deadlock or lock-wait timeout (and, at most twice, on a duplicate key from
a racing insert, so the retry finds the row the other transaction committed, and once when a pooled
connection is found dead at its first statement); the outbox
is rewound before each attempt, so a rolled-back attempt's messages are never sent.
`db.transaction(fn, *args)` is the same for code that needs only a session (reads, and
the ledger's own tests), with no outbox.

Why it runs off the eventlet hub: the `mariadb` connector (and sqlite3) are C
code, so while a query waits on the database the whole eventlet hub stops and no
other socket is served (10 concurrent `SELECT SLEEP(0.2)` took 2.0 s on the hub,
0.21 s through `eventlet.tpool`). When the process is monkey-patched by eventlet,
`run()` therefore hands the whole unit of work to one of tpool's OS threads and
the calling green thread waits cooperatively. The work inside `fn` must not touch
green-thread-only objects (socket emits happen after `run()` returns).
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, create_engine, event, select
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import queue as sqla_queue

from .outbox import Outbox
from .uow import UnitOfWork

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
# Seconds the mariadb connector waits to connect and for each read/write (DATABASE_URL's query overrides them).
MARIADB_TIMEOUTS = {"connect_timeout": 5, "read_timeout": 15, "write_timeout": 15}


# Every table, whichever metadata it belongs to: InnoDB, utf8mb4 on MariaDB.
MYSQL_OPTIONS = {
    f"{prefix}_{option}": value
    for prefix in ("mysql", "mariadb")
    for option, value in (("engine", "InnoDB"), ("charset", "utf8mb4"), ("collate", "utf8mb4_unicode_ci"))
}


def table_args(*items: Any) -> tuple[Any, ...]:
    return (*items, MYSQL_OPTIONS)


# Deterministic constraint names on every backend, so Alembic revisions can name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use auction.clock.now()")
        naive = value.astimezone(UTC).replace(tzinfo=None)
        if dialect.name in {"mysql", "mariadb"}:
            # As text: the mariadb connector sends any statement with a datetime parameter as a server-side
            # prepared statement (prepare, execute and close: three round trips, about 0.3 ms of CPU), and
            # one with only text and numbers in one round trip. DATETIME(6) reads this form exactly.
            return naive.strftime("%Y-%m-%d %H:%M:%S.%f")
        return naive

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def upsert(dialect: str, table: Any, keys: Sequence[str], changes: Callable[[Any], dict[str, Any]]) -> Any:
    """INSERT into `table`, or where a row with the same unique `keys` exists apply `changes(new)` to it
    (`new`: the row the INSERT offered). SQLAlchemy's upsert constructs are the dialects' own: MariaDB's
    ON DUPLICATE KEY UPDATE, SQLite's ON CONFLICT ... DO UPDATE."""
    if dialect == "sqlite":
        statement = sqlite.insert(table)
        return statement.on_conflict_do_update(index_elements=list(keys), set_=changes(statement.excluded))
    statement = mysql.insert(table)
    return statement.on_duplicate_key_update(changes(statement.inserted))


def lock_row(session: Session, model: type[T], *criteria: Any) -> T | None:
    """The row of `model` matching `criteria`, locked FOR UPDATE and read afresh (not from the session's cache)."""
    statement = select(model).where(*criteria).with_for_update().execution_options(populate_existing=True)
    return session.scalars(statement).first()


def lock_existing(session: Session, model: type[T], *criteria: Any, missing: str) -> T:
    """`lock_row`, refusing with NotFound(`missing`) when there is no such row."""
    from .errors import NotFound

    row = lock_row(session, model, *criteria)
    if row is None:
        raise NotFound(missing)
    return row


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


def _sqlalchemy_os_locks() -> None:
    """Under eventlet, SQLAlchemy's own locks become real OS locks, as the pool's are (OSThreadQueuePool).

    Units of work run on tpool's OS threads, and a green lock contended between OS threads never wakes its
    waiter: the waiting thread starts a hub of its own and sleeps in it for good. SQLAlchemy makes such a
    lock the first time a new pool connects (`_exec_w_sync_on_first_run`, holding it while the dialect
    initializes over the first connection), and a new pool's first connections all took it at once: a
    server's first concurrent requests, and the first ones after `engine.dispose()`, hung for ever
    (tests/test_serving.py; seen in bench.webhooks as requests never answered). The mapper
    configuration lock is one too, made when the ORM is imported after monkey-patching, and so are the
    counters that number every Session and every ORM load (`util.counter()`, a lock each): two webhook
    deliveries' Sessions made at the same moment on two tpool threads hung both (bench.webhooks with two
    processes, one run in three; tests/test_serving.py reproduces it). By hand: no setting asks SQLAlchemy
    for a lock factory, so the module-level locks a unit of work can meet are swapped for real ones, and
    the counters for itertools counters, whose next() is atomic under the GIL.
    """
    if "eventlet" not in sys.modules:
        return
    from eventlet import patcher

    if not patcher.is_monkey_patched("thread"):
        return
    import importlib
    import types

    # import_module, not `from sqlalchemy.orm import mapper`: that name is also a function of the package.
    attr, collections, loading, mapper, session, lambdas, langhelpers = (
        importlib.import_module(f"sqlalchemy.{name}")
        for name in (
            "event.attr",
            "orm.collections",
            "orm.loading",
            "orm.mapper",
            "orm.session",
            "sql.lambdas",
            "util.langhelpers",
        )
    )
    real = patcher.original("threading")
    if getattr(attr.threading, "Lock", None) is not real.Lock:
        attr.threading = types.SimpleNamespace(Lock=real.Lock)
        mapper._CONFIGURE_MUTEX = real.RLock()
        lambdas.AnalyzedCode._generation_mutex = real.RLock()
        langhelpers.symbol._lock = real.Lock()
        setattr(collections, "__instrumentation_mutex", real.Lock())  # a module-level dunder name
        # Numbering goes on from where it is, so ids already given out are never given again.
        session._new_sessionid = itertools.count(session._new_sessionid() + 1).__next__
        loading._new_runid = itertools.count(loading._new_runid() + 1).__next__


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


class Database:
    """One engine and its session factory, plus the unit-of-work runner."""

    def __init__(self, url: str, *, pool_size: int = 20, offload: str = "auto") -> None:
        self.url = make_url(url)
        _sqlalchemy_os_locks()
        self.engine = self._create_engine(self.url, pool_size)
        self._local = threading.local()

        self.statements = 0  # statements sent to the database (entrypoints/probe.py reports them)

        @event.listens_for(self.engine, "after_cursor_execute")
        def _executed(*_args: Any) -> None:
            self.statements += 1

        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.offload = offload
        # Where a unit of work's messages go after its commit (create_app binds Socket.IO).
        self.deliver: Callable[[Outbox], None] | None = None

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

    # -- units of work -------------------------------------------------------

    def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        outbox: Outbox | None = None,
        precondition: Callable[[Session], None] | None = None,
        **kwargs: Any,
    ) -> T:
        """Run the use case `fn(uow, *args, **kwargs)` as one transaction; deliver its messages after commit.

        With `outbox` given, the messages are left in it for the caller (tests read them);
        otherwise they go to `self.deliver` (bound to Socket.IO by create_app) once committed.
        `precondition(session)` runs first in the same transaction (a socket's login re-check)
        and refuses the work by raising.
        """
        own = outbox is None
        box = Outbox() if own else outbox

        def work(session: Session) -> T:
            if precondition is not None:
                precondition(session)
            return fn(UnitOfWork(session, box), *args, **kwargs)

        result = self.offloaded(self._attempts, work, box)
        if own and box and self.deliver is not None:
            self.deliver(box)
        return result

    def transaction(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(session, *args, **kwargs)` as one transaction (reads; work with no messages)."""
        # TRANSITION: an Outbox passed the old way is still rewound; goes when every use case takes a UnitOfWork.
        boxes = [arg for arg in (*args, *kwargs.values()) if isinstance(arg, Outbox)]
        return self.offloaded(self._attempts, lambda session: fn(session, *args, **kwargs), boxes[0] if boxes else None)

    def snapshot(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(session, *args)` as one transaction whose every statement reads the same moment: a page that
        shows a user's money from several statements (balance, history, withdrawals) never mixes two.

        The engine's READ COMMITTED gives each MariaDB statement its own snapshot, so this transaction asks
        for REPEATABLE READ (InnoDB's consistent read from the first statement on). A SQLite transaction
        already reads one moment (BEGIN IMMEDIATE; WAL).
        """

        def read(session: Session) -> T:
            if not self.is_sqlite:
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            return fn(session, *args)

        return self.transaction(read)

    def offloaded(self, runner: Callable[..., T], *args: Any) -> T:
        """`runner(*args)`, off the hub when units of work are (blocking database calls outside a unit of work)."""
        if self._should_offload():
            from eventlet import tpool

            return tpool.execute(runner, *args)
        return runner(*args)

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

    def _attempts(self, work: Callable[[Session], T], outbox: Outbox | None) -> T:
        self._local.inside = True
        mark = outbox.checkpoint() if outbox is not None else 0
        try:
            delay = 0.005
            duplicates = 0
            retried_dead = False
            for attempt in range(1, MAX_ATTEMPTS + 1):
                if outbox is not None:
                    outbox.rewind(mark)
                try:
                    with self.sessionmaker() as session, session.begin():
                        return work(session)
                except DBAPIError as exc:
                    if is_unavailable(exc) and getattr(exc, "died_before_first_statement", False) and not retried_dead:
                        retried_dead = True  # a dead pooled connection: once more, on a fresh one
                        log.info("event=db_reconnect attempt=%d url=%s", attempt, safe_url(self.url))
                        continue
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

"""The unit-of-work runner: `Database.run` and `Database.transaction`, retrying on deadlocks.

A unit of work is one short database transaction: `db.run(fn, *args)` opens a
session, calls `fn(uow, *args)` with a `UnitOfWork` (the session and an Outbox of the
socket messages the work causes), commits, delivers the outbox, and retries the whole
function on a deadlock or lock-wait timeout (and, at most twice, on a duplicate key from
a racing insert, so the retry finds the row the other transaction committed, and once when a pooled
connection is found dead at its first statement); the outbox
is rewound before each attempt, so a rolled-back attempt's messages are never sent.
`db.transaction(fn, *args)` is the same for code that needs only a session (reads, and
the ledger's own tests), with no outbox.

Where it runs: the whole attempt loop goes through the `offload` the Database was given (the runtime's,
auction/runtime: an OS thread of the green server's thread pool, the caller's
own thread under threading), and the calling green thread waits cooperatively. The work inside `fn` must
not touch green-thread-only objects (socket emits happen after `run()` returns).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..outbox import Outbox
from ..uow import UnitOfWork
from .engine import build_engine, safe_url

log = logging.getLogger(__name__)
T = TypeVar("T")
Offload = Callable[..., Any]  # offload(fn, *args) -> fn(*args), run elsewhere

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


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; callers answer `unavailable` / 5xx."""


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


class Database:
    """One engine and its session factory, plus the unit-of-work runner."""

    def __init__(self, url: str, *, pool_size: int = 20, offload: Offload | None = None) -> None:
        """`offload(fn, *args)` runs each unit of work where blocking C code does not stop the server: the
        runtime's (create_app passes `runtime.current().offload`); None runs it on the caller's thread."""
        if offload is not None and not callable(offload):  # the old offload="none" / "tpool" strings
            raise TypeError("offload is a function (runtime.current().offload) or None (the caller's thread)")
        self.url = make_url(url)
        self.engine = build_engine(self.url, pool_size)
        self._local = threading.local()

        self.statements = 0  # statements sent to the database (entrypoints/probe.py reports them)

        @event.listens_for(self.engine, "after_cursor_execute")
        def _executed(*_args: Any) -> None:
            self.statements += 1

        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._offload = offload
        # Where a unit of work's messages go after its commit (create_app binds Socket.IO).
        self.deliver: Callable[[Outbox], None] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

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
        return self.offloaded(self._attempts, lambda session: fn(session, *args, **kwargs), None)

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
        if self._offload is None or getattr(self._local, "inside", False):  # a unit of work inside one stays put
            return runner(*args)
        return self._offload(runner, *args)

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

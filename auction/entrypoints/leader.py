"""Which jobs process leads: several may run (one per machine), exactly one runs the site-wide jobs at a time.

The lease is a lock the database server holds for us, released by the server itself when its holder is gone:

- MariaDB: `GET_LOCK` on a connection of its own, kept open and asked every `JOBS_LEASE_INTERVAL` seconds. When
  the leader's process dies, its kernel closes the connection and the server frees the lock at once; when the
  leader's whole machine (or its network) disappears, the server ends the silent session after the session's
  `wait_timeout`, which this connection sets to `JOBS_LEASE_TIMEOUT`. A follower asks for the lock every interval,
  so it leads within an interval of the first case and within JOBS_LEASE_TIMEOUT plus an interval of the second.
  The lock is named after the database, so sites (and test databases) sharing a server do not compete.
- SQLite (one machine by definition): an exclusive `flock` on a file beside the database; the kernel releases it
  when the holding process dies.

No clock is compared between machines. A leader that finds its lock gone (the connection failed, the server
restarted) stops leading at once; a round it was already running ends normally. That is safe because every step a
round takes is also decided in the database under a row lock (an auction finishes, an order is released, a
transfer is sent exactly once whoever runs it): the lease keeps one process doing the work, the row locks keep the
work right even in the moment two think they lead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from typing import IO, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..db import Database

log = logging.getLogger(__name__)


class Lease(Protocol):
    def hold(self) -> bool:
        """Keep or take the lease; True while this process holds it. Never raises for an unreachable database."""
        ...

    def close(self) -> None:
        """Give the lease up (a follower may take it at once)."""
        ...


class MariaDBLease:
    """`GET_LOCK(name, 0)` on a dedicated connection; held as long as that connection lives."""

    def __init__(self, url: URL, timeout: int) -> None:
        self.name = lock_name(url.database or "")
        # A leader cut off from the database gives up after half the lease timeout, before the server frees its
        # lock for a follower: two leaders never overlap when the network, not the process, fails.
        wait = max(1, timeout // 2)
        waits = {"connect_timeout": wait, "read_timeout": wait, "write_timeout": wait}
        self.engine = create_engine(url, poolclass=NullPool, connect_args=waits, isolation_level="AUTOCOMMIT")
        self.timeout = timeout
        self.connection: Connection | None = None

    def hold(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect()
                # The server ends this session once it is silent this long: the lock of a vanished machine is freed.
                self.connection.exec_driver_sql(f"SET SESSION wait_timeout = {int(self.timeout)}")
            held = self.connection.execute(
                text("SELECT IS_USED_LOCK(:name) = CONNECTION_ID()"), {"name": self.name}
            ).scalar()
            if held:
                return True
            return self.connection.execute(text("SELECT GET_LOCK(:name, 0)"), {"name": self.name}).scalar() == 1
        except DBAPIError as exc:
            log.warning("event=jobs_lease_unreachable error=%s", type(getattr(exc, "orig", exc)).__name__)
            self._drop()
            return False

    def close(self) -> None:
        if self.connection is not None:
            # Released first: the server frees a closed session's locks a moment after the close, not at once.
            with contextlib.suppress(SQLAlchemyError):
                self.connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": self.name})
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self.connection.invalidate()
                self.connection.close()
            self.connection = None


class FileLease:
    """An exclusive, non-blocking `flock` on `path` (SQLite: every process is on this machine)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file: IO[bytes] | None = None

    def hold(self) -> bool:
        if self.file is not None:
            return True
        lock_file = open(self.path, "ab")  # noqa: SIM115 - kept open while the lease is held
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock_file.close()
            return False
        self.file = lock_file
        return True

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class Alone:
    """An in-memory SQLite database belongs to one process: it always leads."""

    def hold(self) -> bool:
        return True

    def close(self) -> None:
        pass


def lock_name(database: str) -> str:
    """The GET_LOCK name for `database` (names are server-wide and at most 64 characters)."""
    name = f"leilao.jobs.{database}"
    return name if len(name) <= 64 else "leilao.jobs." + hashlib.sha256(database.encode()).hexdigest()[:40]


def lease_for(db: Database, timeout: int) -> Lease:
    if not db.is_sqlite:
        return MariaDBLease(db.url, timeout)
    path = db.url.database
    if not path or path == ":memory:":
        return Alone()
    return FileLease(os.path.abspath(path) + ".jobs-lock")


class Leadership:
    """This process's standing among the jobs processes, renewed by `renew()` every interval (jobs.py)."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.leading = False

    def renew(self) -> bool:
        held = self.lease.hold()
        if held != self.leading:
            self.leading = held
            log.info("event=%s pid=%d", "jobs_lease_acquired" if held else "jobs_lease_lost", os.getpid())
        return held

    def resign(self) -> None:
        """Stop leading and free the lease now (SIGTERM), rather than when the process exits."""
        self.lease.close()
        if self.leading:
            self.leading = False
            log.info("event=jobs_lease_released pid=%d", os.getpid())

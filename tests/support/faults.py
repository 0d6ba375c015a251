"""Fault injection for tests: a TCP proxy that can cut a database off, a private Redis, MariaDB kills.

None of these touch the shared MariaDB or Redis servers: the proxy sits between one
test server and MariaDB, the Redis is a fresh process on its own port, and
`kill_connections` kills only connections using one test database.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.server import free_port


def wait_for(condition: Callable[[], object], timeout: float = 15, interval: float = 0.05, what: str = "") -> object:
    """Poll until `condition()` is truthy; its value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


@dataclass
class TcpProxy:
    """Forwards 127.0.0.1:port to a target; `cut()` drops every connection and refuses new ones; `freeze()` is a
    partition: nothing more crosses in either direction and nothing is closed (until `cut()`).

    With `delay`, every answer from the target waits that long before it is passed on: each round trip
    of a request/response protocol (MariaDB's, Redis's) takes `delay` longer (slow, not dead)."""

    target_host: str
    target_port: int
    port: int = field(default_factory=free_port)
    delay: float = 0.0
    _listener: socket.socket | None = None
    _conns: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _frozen: threading.Event = field(default_factory=threading.Event)

    @property
    def up(self) -> bool:
        return self._listener is not None

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((self.target_host, self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for src, dst, delay in ((client, upstream, 0.0), (upstream, client, self.delay)):
                threading.Thread(target=self._pump, args=(src, dst, delay), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, delay: float = 0.0) -> None:
        try:
            while data := src.recv(65536):
                if delay:
                    time.sleep(delay)
                while self._frozen.is_set() and self._listener is not None:
                    time.sleep(0.05)
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def freeze(self) -> None:
        self._frozen.set()

    def cut(self) -> None:
        """The database is gone: connections drop mid-query and new ones are refused."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        if self._listener is None:
            self.start()

    def url_for(self, db_url: str) -> str:
        """`db_url` rewritten to go through this proxy."""
        return make_url(db_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)


@dataclass
class RedisServer:
    """A private redis-server on a free port (nothing on disk); never the shared one."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what=f"redis on port {self.port}")
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def database_name(db_url: str) -> str:
    return make_url(db_url).database or ""


def kill_connections(db_url: str) -> int:
    """KILL CONNECTION every MariaDB connection using this test database (except ours)."""
    admin = create_engine(make_url(db_url).set(database="information_schema"), pool_size=1)
    try:
        with admin.connect() as conn:
            ids = conn.execute(
                text("SELECT ID FROM PROCESSLIST WHERE DB = :db AND ID <> CONNECTION_ID()"),
                {"db": database_name(db_url)},
            ).scalars()
            killed = 0
            for connection_id in list(ids):
                with contextlib.suppress(Exception):
                    conn.exec_driver_sql(f"KILL CONNECTION {int(connection_id)}")
                    killed += 1
            return killed
    finally:
        admin.dispose()


@dataclass
class PrivateMariaDB:
    """A mariadbd of the test's own (its datadir from mariadb-install-db, its port and socket), to SIGKILL and
    restart for real; never the shared server. InnoDB runs with its production durability
    (innodb_flush_log_at_trx_commit=1, doublewrite), so what was committed must survive the kill."""

    folder: Path
    port: int = field(default_factory=free_port)
    binlog: bool = False  # binary logs (ROW format) in the datadir, for point-in-time restores
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return self.url_for("auction")

    def url_for(self, database: str) -> str:
        return f"mariadb+mariadbconnector://root:@127.0.0.1:{self.port}/{database}"

    def client_args(self) -> list[str]:
        """Connection options for Debian's mariadb, mariadb-dump and friends."""
        return ["--no-defaults", "-h127.0.0.1", f"-P{self.port}", "-uroot"]

    def create_database(self, name: str, *, schema: bool = True) -> str:
        from asaas_sim.models import Base as SimulatorBase
        from auction.models import Base

        admin = create_engine(self.url_for("mysql"), isolation_level="AUTOCOMMIT", pool_size=1)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        admin.dispose()
        if schema:
            engine = create_engine(self.url_for(name), pool_size=1)
            Base.metadata.create_all(engine)
            SimulatorBase.metadata.create_all(engine)
            engine.dispose()
        return self.url_for(name)

    def install(self) -> PrivateMariaDB:
        self.folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                "--user=" + _user(),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return self

    def start(self, timeout: float = 60) -> PrivateMariaDB:
        log = open(self.folder / "mariadbd.log", "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.folder / 'mariadbd.sock'}",
                f"--pid-file={self.folder / 'mariadbd.pid'}",
                "--user=" + _user(),
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=1",
                "--max-connections=200",
                *(["--log-bin=binlog", "--binlog-format=ROW", "--server-id=1"] if self.binlog else ["--skip-log-bin"]),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(self._answers, timeout=timeout, what=f"private mariadbd on port {self.port}")
        return self

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"mariadbd exited: {self.log()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                return bool(sock.recv(1))  # the server's greeting
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; InnoDB recovers from its redo log at the next start."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        path = self.folder / "mariadbd.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _user() -> str:
    import getpass

    return getpass.getuser()

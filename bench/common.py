"""What every scenario shares: a fresh MariaDB database, the real server as a subprocess, seeding through the
services, the load-generator processes, CPU/RSS sampling with psutil, the wallet audit and the result table."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
import requests
from sqlalchemy import create_engine

from bench.loadgen import bucket_ms  # noqa: F401 - re-exported for the scenarios

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MARIADB_URL = os.environ.get("BENCH_MARIADB_URL", "mariadb+mariadbconnector://root:@127.0.0.1:3306/test")
SECRET_KEY = "bench-secret-key-not-for-production"
WEBHOOK_TOKEN = "bench-webhook-token-0123456789abcdef-0123"
FUNDS = 10**11  # cents per bidder: never the limit in a benchmark


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


# `timeout` and Ctrl-C alike: unwind through the finally blocks that stop servers and drop databases.
signal.signal(signal.SIGTERM, _exit_on_signal)
signal.signal(signal.SIGHUP, _exit_on_signal)


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one; children (server, load generators) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- database ----------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(prefix: str = "auction_bench") -> Iterator[str]:
    """A new MariaDB database with the schema from the models; dropped on exit."""
    from sqlalchemy.engine import make_url

    from auction.models import Base

    base = make_url(MARIADB_URL)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


@dataclass
class Seed:
    seller_id: int
    bidder_ids: list[int]
    cookies: list[str]
    auction_ids: list[int]


def session_cookie(token: str) -> str:
    """The Flask session cookie a logged-in browser would send (signed with the server's SECRET_KEY)."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    from auction.entrypoints.web.auth import SESSION_KEY

    app = Flask("bench")
    app.secret_key = SECRET_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return f"auction_session={serializer.dumps({SESSION_KEY: token})}"


def seed(url: str, *, bidders: int, auctions: int, start_price: int = 100, increment: int = 1) -> Seed:
    """Users with funded wallets (wallet.credit) and login sessions, and open auctions, in a few transactions."""
    from auction import accounts, clock, wallet
    from auction.db import Database
    from auction.models import Auction, User

    password_hash = accounts.hash_password("bench password 123")
    db = Database(url, pool_size=2)

    def users(session: Any, names: list[str]) -> list[int]:
        rows = [
            User(username=n, email=f"{n}@bench.example", password_hash=password_hash, created_at=clock.now())
            for n in names
        ]
        session.add_all(rows)
        session.flush()
        for row in rows:
            wallet.credit(session, user_id=row.id, amount=FUNDS, key=f"bench-seed:{row.id}")
        return [row.id for row in rows]

    def tokens(session: Any, ids: list[int]) -> list[str]:
        return [accounts.start_session(session, uid) for uid in ids]

    def open_auctions(session: Any, seller_id: int, count: int) -> list[int]:
        now = clock.now()
        rows = [
            Auction(
                seller_id=seller_id,
                title=f"Bench lot {i}",
                description="benchmark",
                starting_price=start_price,
                min_increment=increment,
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(hours=6),
                status="open",
                created_at=now,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]

    try:
        seller_id = db.transaction(users, ["bench_seller"])[0]
        bidder_ids: list[int] = []
        for start in range(0, bidders, 500):
            bidder_ids += db.transaction(users, [f"bidder{i}" for i in range(start, min(bidders, start + 500))])
        cookies = [session_cookie(t) for t in db.transaction(tokens, bidder_ids)]
        auction_ids = db.transaction(open_auctions, seller_id, auctions)
    finally:
        db.dispose()
    return Seed(seller_id, bidder_ids, cookies, auction_ids)


def audit_and_count(url: str) -> tuple[list[str], dict[int, int], dict[int, int]]:
    """The wallet audit's problems (empty = PASS), each auction's bid rows and its final `version`."""
    from sqlalchemy import func, select

    from auction import wallet
    from auction.db import Database
    from auction.models import Auction, Bid

    db = Database(url, pool_size=1)
    try:
        problems = db.transaction(wallet.audit)
        counts = db.transaction(
            lambda s: dict(s.execute(select(Bid.auction_id, func.count()).group_by(Bid.auction_id)).all())
        )
        versions = db.transaction(lambda s: dict(s.execute(select(Auction.id, Auction.version)).all()))
    finally:
        db.dispose()
    return problems, {int(k): int(v) for k, v in counts.items()}, {int(k): int(v) for k, v in versions.items()}


# -- server processes --------------------------------------------------------------------


@dataclass
class ServerProcess:
    """The real server (run.py under eventlet by default) on a free port, its log in a temp file."""

    env: dict[str, str]
    argv: list[str] = field(default_factory=lambda: [sys.executable, str(ROOT / "run.py")])
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> ServerProcess:
        self.log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)  # noqa: SIM115
        env = {**os.environ, **self.env, "HOST": "127.0.0.1", "PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: see {self.log.name}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer within {timeout}s: see {self.log.name}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
        instance = self.env.get("INSTANCE_PATH", "")
        if "bench-instance-" in instance:  # made by server_env for this run
            shutil.rmtree(instance, ignore_errors=True)


def server_env(db_url: str, **extra: str) -> dict[str, str]:
    return {
        # The hub-lag probe and statement counters (auction/entrypoints/probe.py), read by probe_snapshot().
        "PROBE_INTERVAL": "0.25",
        "DATABASE_URL": db_url,
        "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-instance-"),
        "SECRET_KEY": SECRET_KEY,
        "ASAAS_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        # Limits are per person; the load generator is hundreds of people on one IP.
        "RATE_LIMITS_ENABLED": "false",
        # The same for the per-address connection guard (auction/entrypoints/guard.py).
        "SOCKETS_PER_ADDRESS": "1000000",
        "HANDSHAKES_PER_SECOND": "1000000",
        "LOG_LEVEL": "INFO",
        **extra,
    }


def probe_snapshot(server: ServerProcess) -> dict[str, Any] | None:
    """The server's latest probe line: cumulative hub lateness (ms -> wake-ups) and database counters."""
    log_file = getattr(server, "log", None)
    if log_file is None:
        return None
    last = None
    with open(log_file.name, errors="replace") as fh:
        for line in fh:
            if "event=probe " in line:
                last = line
    return None if last is None else parse_probe(last)


def parse_probe(line: str) -> dict[str, Any]:
    """One `event=probe` log line of the server as numbers."""
    fields = dict(part.split("=", 1) for part in line.split("event=probe ", 1)[1].split())
    return {
        "lag": {int(k): v for k, v in json.loads(fields["lag_ms"]).items()},
        "statements": int(fields["statements"]),
        "joins": int(fields["joins"]),
        "join_loads": int(fields["join_loads"]),
        "sent": json.loads(fields.get("sent", "{}")),
        "gc_ms": json.loads(fields.get("gc_ms", "{}")),
        "gc_off_hub": int(fields.get("gc_off_hub", 0)),
        "gc_freed": int(fields.get("gc_freed", 0)),
    }


def probe_rows(
    before: dict[str, Any] | None, after: dict[str, Any] | None, at_start: dict[str, Any] | None, acks: int
) -> dict[str, str]:
    """Hub lag over the load, and the database work of the joins (server start .. load start)."""
    rows: dict[str, str] = {}
    if before and after:
        lag = Counter({k: after["lag"].get(k, 0) - before["lag"].get(k, 0) for k in after["lag"]})
        total = sum(lag.values())
        if total:

            def pct(q: float) -> int:
                seen = 0
                for ms in sorted(lag):
                    seen += lag[ms]
                    if seen >= q * total:
                        return ms
                return max(lag)

            rows["hub lag probe (10 ms sleep, late by) p50 / p99 / max"] = (
                f"{pct(0.5)} / {pct(0.99)} / {max(k for k, v in lag.items() if v)} ms ({total} wake-ups)"
            )
        statements = after["statements"] - before["statements"]
        rows["database statements during load / per ack"] = f"{statements} / {statements / max(acks, 1):.2f}"
        sent = Counter(after.get("sent", {}))
        sent.subtract(before.get("sent", {}))
        if sum(sent.values()):
            top = ", ".join(f"{name} {n}" for name, n in sent.most_common(6) if n)
            rows["Socket.IO packets sent during load / per ack"] = (
                f"{sum(sent.values())} / {sum(sent.values()) / max(acks, 1):.1f} ({top})"
            )
        gc = Counter(after.get("gc_ms", {}))
        gc.subtract(before.get("gc_ms", {}))
        if before.get("gc_ms") is not None and "gc_ms" in after:
            rows["garbage collection during load (ms, generations 0/1/2; collections off the hub)"] = (
                f"{sum(gc.values())} ({' / '.join(str(gc.get(str(g), 0)) for g in range(3))};"
                f" {after['gc_off_hub'] - before['gc_off_hub']} off the hub)"
            )
            freed = after["gc_freed"] - before["gc_freed"]
            rows["objects the collector freed during load (reference cycles) / per ack"] = (
                f"{freed} / {freed / max(acks, 1):.1f}"
            )
    if at_start and at_start["joins"]:
        rows["join_auction reads of the database / joins"] = (
            f"{at_start['join_loads']} / {at_start['joins']}"
            f" ({at_start['join_loads'] / at_start['joins']:.3f} per join)"
        )
    return rows


@contextlib.contextmanager
def servers(specs: list[ServerProcess]) -> Iterator[list[ServerProcess]]:
    try:
        for spec in specs:
            spec.start()
        yield specs
    finally:
        for spec in specs:
            spec.stop()


# -- measuring ---------------------------------------------------------------------------


class Monitor:
    """Samples RSS (peak) every 0.2 s and CPU time between mark_start() and mark_end() for named pids."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        db = next((p for p in psutil.process_iter(["name"]) if p.info["name"] in {"mariadbd", "mysqld"}), None)
        if db is not None:
            self.procs["mariadb"] = db
        self.peak_rss: Counter[str] = Counter()
        self.cpu: dict[str, float] = {}
        self._start: dict[str, float] = {}
        self._t0 = self._t1 = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def add(self, name: str, pid: int) -> None:
        self.procs[name] = psutil.Process(pid)

    def _cpu(self, proc: psutil.Process) -> float:
        try:
            times = proc.cpu_times()
            return times.user + times.system + getattr(times, "children_user", 0) + getattr(times, "children_system", 0)
        except psutil.Error:
            return 0.0

    def rss(self, name: str) -> int:
        try:
            return self.procs[name].memory_info().rss
        except psutil.Error:
            return 0

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for name in list(self.procs):
                self.peak_rss[name] = max(self.peak_rss[name], self.rss(name))

    def mark_start(self) -> None:
        self._t0 = time.monotonic()
        self._start = {name: self._cpu(p) for name, p in self.procs.items()}

    def mark_end(self) -> None:
        self._t1 = time.monotonic()
        wall = max(self._t1 - self._t0, 1e-9)
        self.cpu = {name: 100 * (self._cpu(p) - self._start.get(name, 0.0)) / wall for name, p in self.procs.items()}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_loadgens(
    specs: list[dict[str, Any]],
    monitor: Monitor | None,
    timeout: float = 900,
    on_start: Any = None,
    module: str = "bench.loadgen",
    on_end: Any = None,
) -> Any:
    """Start one load-generator process per spec, wait until all are READY, start them together, merge results.

    `on_start()` is called as the load starts (the profiler hooks in there)."""
    procs: list[subprocess.Popen] = []
    files: list[str] = []
    try:
        for i, spec in enumerate(specs):
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
                json.dump(spec, fh)
                files.append(fh.name)
            proc = subprocess.Popen(
                [sys.executable, "-m", module, fh.name],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            procs.append(proc)
            if monitor is not None:
                monitor.add(f"loadgen{i}", proc.pid)
        for proc in procs:
            line = _read_line(proc, "READY", timeout)
            if line != "READY":
                raise RuntimeError(f"load generator failed before READY: {line!r}")
        if monitor is not None:
            monitor.mark_start()
        if on_start is not None:
            on_start()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("GO\n")
            proc.stdin.flush()
        for proc in procs:
            _read_line(proc, "LOADED", timeout)
        if monitor is not None:  # CPU over the load phase only, not the drain
            monitor.mark_end()
        if on_end is not None:
            on_end()
        results = [json.loads(_read_line(proc, "RESULT ", timeout)[len("RESULT ") :]) for proc in procs]
        return merge(results) if module == "bench.loadgen" else results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for name in files:
            os.unlink(name)


def _read_line(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            return f"<exit {proc.wait()}>"
        if line.startswith(prefix):
            return line if prefix == "RESULT " else line.strip()
    return "<timeout>"


def dropped(result: dict[str, Any]) -> str:
    """How many connections dropped during the load, when (seconds into it) and why (the client's reason)."""
    drops = result.get("drops", [])
    if not drops:
        return str(result["lost_connections"])
    reasons = Counter(reason for _, reason in drops)
    times = [at for at, _ in drops]
    when = f"first at {times[0]:.1f} s, median {times[len(times) // 2]:.1f} s"
    return f"{result['lost_connections']} ({when}; " + ", ".join(f"{r}: {n}" for r, n in reasons.most_common()) + ")"


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"processes": len(results)}
    keys = ("connected", "connect_failures", "lost_connections", "sent", "acks", "timeouts", "watcher_events", "raises")
    for key in (*keys, "event_members"):
        merged[key] = sum(r.get(key, 0) for r in results)
    merged["connect_seconds"] = max(r["connect_seconds"] for r in results)
    merged["load_seconds"] = max(r["load_seconds"] for r in results)
    merged["delivery_seconds"] = max(r["delivery_seconds"] for r in results)
    merged["drops"] = sorted(drop for r in results for drop in r.get("drops", []))
    histograms = (
        "accepted",
        "errors",
        "received",
        "members",
        "ack_hist",
        "delivery_hist",
        "join_hist",
        "join_versions",
    )
    for key in (*histograms, "lot_seconds", "ack_seconds"):
        total: Counter[str] = Counter()
        for r in results:
            total.update(r.get(key, {}))
        merged[key] = dict(total)
    return merged


def percentile(hist: dict[str, int], q: float) -> float | None:
    """The q-quantile (0..1) of a 0.1 ms histogram, in ms."""
    items = sorted((int(k), v) for k, v in hist.items())
    total = sum(v for _, v in items)
    if not total:
        return None
    rank = q * total
    seen = 0
    for key, count in items:
        seen += count
        if seen >= rank:
            return key / 10
    return items[-1][0] / 10


def latency(hist: dict[str, int]) -> str:
    if not hist:
        return "-"
    values = [percentile(hist, q) for q in (0.5, 0.95, 0.99, 1.0)]
    return "p50 {} / p95 {} / p99 {} / max {} ms".format(*values)


def delivery(hist: dict[str, int]) -> str:
    if not hist:
        return "-"
    return f"p50 {percentile(hist, 0.5)} / p99 {percentile(hist, 0.99)} ms"


def lost_messages(result: dict[str, Any], final_versions: dict[int, int] | None) -> tuple[int, int]:
    """(expected, lost) room messages: every change the room hears raises the auction's `version` by one (a
    batch of bids is one `new_bid`; a leader's private raise is none), so each member should have received
    (final version - the version its join showed) messages."""
    if final_versions is None:
        return 0, 0
    expected = sum(
        result["members"].get(str(a), 0) * v - result.get("join_versions", {}).get(str(a), 0)
        for a, v in final_versions.items()
    )
    received = sum(result["received"].values())
    return expected, expected - received


def report(scenario: str, config: str, rows: dict[str, Any]) -> str:
    """Print the result table and keep it in bench/results/ for docs/performance.md."""
    head = {
        "scenario": scenario,
        "configuration": config,
        "when (UTC)": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "load average (1/5/15 min)": load_average(),
    }
    lines = ["| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in {**head, **rows}.items()]
    table = "\n".join(lines)
    print(table, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in f"{scenario}-{config}").strip("-")[:90]
    (RESULTS / f"{slug}.md").write_text(table + "\n")
    return table


def bid_rows(
    result: dict[str, Any],
    monitor: Monitor,
    offered: str,
    audit: list[str] | None,
    final_versions: dict[int, int] | None = None,
) -> dict[str, Any]:
    """The standard rows for a bidding run."""
    seconds = result["load_seconds"] or 1
    accepted = sum(result["accepted"].values())
    expected, lost = lost_messages(result, final_versions)
    delivered = sum(result["received"].values())
    rows: dict[str, Any] = {
        "offered load": offered,
        "sockets connected / failed": f"{result['connected']} / {result['connect_failures']}",
        "bids sent / acked / timed out": f"{result['sent']} / {result['acks']} / {result['timeouts']}",
        "acks/s (all answers)": f"{result['acks'] / seconds:.0f}",
        "accepted bids/s": f"{accepted / seconds:.0f} ({result.get('raises', 0)} of them private raises)",
        "join_auction ack latency (connect phase)": latency(result.get("join_hist", {})),
        "refusals": ", ".join(f"{k} {v}" for k, v in sorted(result["errors"].items())) or "none",
        "ack latency": latency(result["ack_hist"]),
        "delivery latency (server_time -> watcher)": delivery(result["delivery_hist"]),
        "new_bid messages delivered (per s of load until the last one)": (
            f"{delivered} ({delivered / max(result['delivery_seconds'], 1e-9):.0f}/s)"
        ),
        "room messages lost (by version)": f"{lost} of {expected}",
        "connections dropped during load": dropped(result),
        "`watchers` count messages received (joins included)": result["watcher_events"],
    }
    rows.update(resource_rows(monitor))
    if audit is not None:
        rows["wallet audit"] = "PASS" if not audit else f"FAIL ({len(audit)} problems: {audit[:3]})"
    return rows


def resource_rows(monitor: Monitor) -> dict[str, str]:
    rows = {}
    for name in monitor.procs:
        cpu = monitor.cpu.get(name)
        rows[f"{name} CPU / peak RSS"] = (
            f"{cpu:.0f}% / {monitor.peak_rss[name] / 2**20:.0f} MB" if cpu is not None else "-"
        )
    return rows


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


# -- a whole stack: database + servers, or the bare transport server ------------------------------


@dataclass
class Stack:
    kind: str
    servers: list[ServerProcess]
    seed: Seed
    db_url: str | None = None

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    @property
    def pids(self) -> dict[str, int]:
        return {f"server{i}": s.pid for i, s in enumerate(self.servers)}

    def audit(self) -> tuple[list[str] | None, dict[int, int] | None, dict[int, int] | None]:
        return audit_and_count(self.db_url) if self.db_url else (None, None, None)


# The project under run.py on each runtime (SOCKETIO_ASYNC_MODE), and the bare transport ceiling.
RUNTIMES = ("eventlet", "gevent", "threading")
SERVER_ARGV = {
    **{runtime: [sys.executable, str(ROOT / "run.py")] for runtime in RUNTIMES},
    "bare": [sys.executable, "-m", "bench.bare_server"],
}


@contextlib.contextmanager
def stack(
    kind: str = "eventlet", *, bidders: int = 0, auctions: int = 1, servers_count: int = 1, **env: str
) -> Iterator[Stack]:
    """`kind` is a runtime run.py serves with (eventlet, gevent, threading) or bare (the transport ceiling)."""
    raise_fd_limit()
    if kind == "bare":
        fake = Seed(0, list(range(bidders)), [""] * bidders, list(range(1, auctions + 1)))
        with servers([ServerProcess(env=dict(env), argv=SERVER_ARGV["bare"]) for _ in range(servers_count)]) as procs:
            yield Stack(kind, procs, fake)
        return
    with fresh_database() as url:
        seeded = seed(url, bidders=bidders, auctions=auctions)
        env = {"SOCKETIO_ASYNC_MODE": kind, **env}
        specs = [ServerProcess(env=server_env(url, **env), argv=SERVER_ARGV[kind]) for _ in range(servers_count)]
        with servers(specs) as procs:
            yield Stack(kind, procs, seeded, url)


def bidding_specs(
    st: Stack,
    *,
    procs: int,
    watchers: dict[int, int],
    bidder_auctions: list[list[int]],
    mode: str,
    duration: float,
    rate: float = 0,
    drain: float = 60,
) -> list[dict[str, Any]]:
    """Bidders all in the first process (one amount counter per auction); watchers split over `procs`."""
    specs = []
    for p in range(procs):
        share = {a: split(n, procs)[p] for a, n in watchers.items()}
        spec: dict[str, Any] = {
            "urls": st.urls[p % len(st.urls) :] + st.urls[: p % len(st.urls)],
            "watchers": [[a, n] for a, n in share.items() if n],
            "bidders": [],
            "mode": "idle",
            "duration": duration,
            "drain": drain,
            "start_amount": 100,
            "increment": 1,
        }
        if p == 0:
            spec["bidders"] = [
                {"cookie": cookie or None, "auctions": auctions}
                for cookie, auctions in zip(st.seed.cookies, bidder_auctions, strict=False)
            ]
            spec["mode"] = mode
            spec["rate"] = rate
        specs.append(spec)
    return specs


def finish_bidding_run(
    scenario: str,
    config: str,
    st: Stack,
    result: dict[str, Any],
    monitor: Monitor,
    offered: str,
    ceiling: float | None = None,
    probes: dict[str, Any] | None = None,
) -> str:
    """Audit the wallets, compare the database's bids with the accepted acks, print the table."""
    audit, db_counts, versions = st.audit()
    rows = bid_rows(result, monitor, offered, audit, versions)
    probes = probes or {}
    rows.update(probe_rows(probes.get("start"), probes.get("end"), probes.get("start"), result["acks"]))
    server_cpu = monitor.cpu.get("server0")
    if server_cpu is not None and result["acks"]:
        cpu_seconds = server_cpu / 100 * (result["load_seconds"] or 1)
        rows["server CPU per decision (CPU-seconds / acks)"] = f"{1000 * cpu_seconds / result['acks']:.2f} ms"
    if ceiling:
        accepted = sum(result["accepted"].values()) / (result["load_seconds"] or 1)
        rows["bare-database ceiling (same run)"] = f"{ceiling:.0f} commits/s"
        rows["accepted bids/s as share of the ceiling"] = f"{100 * accepted / ceiling:.0f}%"
        decisions = result["acks"] / (result["load_seconds"] or 1)
        rows["decisions (all acks)/s as multiple of the ceiling"] = f"{decisions / ceiling:.2f}x"
    if db_counts is not None:
        accepted = sum(result["accepted"].values())
        rows["bids in database / accepted acks"] = f"{sum(db_counts.values())} / {accepted}"
    rows["client processes"] = result["processes"]
    return report(scenario, config, rows)


def base_parser(description: str, **defaults: Any) -> Any:
    """Options every scenario shares; `defaults` overrides the scenario's own defaults."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--server", choices=sorted(SERVER_ARGV), default=defaults.get("server", "eventlet"))
    parser.add_argument("--duration", type=float, default=defaults.get("duration", 10.0), help="seconds of load")
    parser.add_argument("--procs", type=int, default=defaults.get("procs", 2), help="load-generator processes")
    parser.add_argument("--servers", type=int, default=defaults.get("servers", 1), help="server processes")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="extra server setting (repeatable)"
    )
    parser.add_argument(
        "--profile",
        choices=["cpu", "wall", "hub"],
        help="py-spy the server (wall: include idle/waiting; hub: only the eventlet hub's own thread)",
    )
    parser.add_argument(
        "--profile-phase",
        choices=["load", "joins"],
        default="load",
        help="what --profile records: the load, or the connect-and-join storm before it",
    )
    return parser


def env_options(pairs: list[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


def describe(args: Any, **extra: Any) -> str:
    env = env_options(args.env)
    parts = [f"server={args.server}", f"servers={args.servers}", f"duration={args.duration:g}s"]
    parts += [f"{k}={v}" for k, v in {**extra, **env}.items()]
    return ", ".join(parts)


# -- profiling ---------------------------------------------------------------------------


class Profiler:
    """py-spy on a server process for the load phase; `top()` lists where the samples were."""

    def __init__(self, pid: int, duration: float, idle: bool = False, hub_only: bool = False) -> None:
        # hub_only: py-spy counts tpool threads waiting inside the mariadb connector's C calls as busy
        # (they have released the GIL), which hides what the hub itself spends its core on.
        self.pid, self.duration, self.idle, self.hub_only = pid, duration, idle, hub_only
        self.out = Path(tempfile.mkstemp(prefix="bench-pyspy-", suffix=".txt")[1])
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = Path(sys.executable).with_name("py-spy")
        argv = [str(exe), "record", "-p", str(self.pid), "-d", str(int(self.duration)), "-r", "250"]
        argv += ["-f", "raw", "-o", str(self.out), "--threads"]
        if not self.hub_only:
            # Without pausing the process a sample of running Python code often fails (its stack is changing)
            # while one inside a system call succeeds, so non-blocking profiles overstate the calls; the hub
            # profile pauses the process for each sample to see the hub's Python as it is.
            argv.append("--nonblocking")
        if self.idle:
            argv.append("--idle")
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        """End the recording now (py-spy writes what it has on SIGINT)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=30)

    @staticmethod
    def _thread_of(stack: str) -> str:
        first = stack.split(";", 1)[0]
        return first[len("thread (") : -1].split(",")[0].strip() if first.startswith("thread (") else ""

    def top(self, count: int = 20) -> tuple[int, list[tuple[str, int, int]]]:
        """(total samples, [(function, self samples, inclusive samples)]) sorted by inclusive samples."""
        if self.proc is not None:
            self.proc.wait(timeout=self.duration + 30)
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        total = 0
        for line in self.out.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not n.isdigit():
                continue
            thread, frames = self._thread_of(stack), [f for f in stack.split(";") if not f.startswith("thread (")]
            # The hub thread is the process's main thread (its id is the pid); the rest are tpool's and Redis's.
            if self.hub_only and thread != str(self.pid):
                continue
            total += int(n)
            if frames:
                own[frames[-1]] += int(n)
            for frame in set(frames):
                inclusive[frame] += int(n)
        ranked = sorted(inclusive, key=inclusive.__getitem__, reverse=True)[:count]
        return total, [(f, own[f], inclusive[f]) for f in ranked]

    def report(self, title: str, count: int = 25) -> str:
        total, rows = self.top(count)
        lines = [f"py-spy: {title}, {total} samples", "| function | self % | inclusive % |", "| --- | --- | --- |"]
        lines += [f"| `{f}` | {100 * s / max(total, 1):.1f} | {100 * i / max(total, 1):.1f} |" for f, s, i in rows]
        top_self = sorted(((f, s) for f, s, _ in self.top(400)[1]), key=lambda x: -x[1])[:15]
        lines += ["", "| top self-time function | self % |", "| --- | --- |"]
        lines += [f"| `{f}` | {100 * s / max(total, 1):.1f} |" for f, s in top_self]
        text = "\n".join(lines)
        print(text, flush=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "-" for c in title).strip("-")[:90]
        (RESULTS / f"profile-{slug}.md").write_text(text + "\n")
        if os.environ.get("BENCH_KEEP_PROFILE"):
            print(f"raw py-spy samples kept in {self.out}", flush=True)
        else:
            self.out.unlink(missing_ok=True)
        return text


def bidding_scenario(
    args: Any,
    scenario: str,
    *,
    auctions: int,
    watchers: int,
    bidder_auctions: Any,
    procs: int,
    config: dict[str, Any],
    ceiling: float | None = None,
) -> str:
    """Run one bidding scenario end to end: stack, load generators (open loop when args.rate), audit, table.

    `bidder_auctions(auction_ids)` gives each bidder the auctions it bids on and watches; every auction
    also gets `watchers` anonymous watchers."""
    env = env_options(args.env)
    profile = getattr(args, "profile", None)
    with stack(args.server, bidders=args.bidders, auctions=auctions, servers_count=args.servers, **env) as st:
        ids = st.seed.auction_ids
        monitor = Monitor(st.pids)
        profiler = (
            Profiler(st.servers[0].pid, args.duration, idle=profile == "wall", hub_only=profile == "hub")
            if profile
            else None
        )
        try:
            specs = bidding_specs(
                st,
                procs=procs,
                watchers=dict.fromkeys(ids, watchers),
                bidder_auctions=bidder_auctions(ids),
                mode="open" if args.rate else "closed",
                rate=args.rate,
                duration=args.duration,
            )
            probes: dict[str, Any] = {}

            joins_only = getattr(args, "profile_phase", "load") == "joins"

            def at_start() -> None:
                if profiler and joins_only:
                    profiler.stop()
                time.sleep(0.3)  # one more probe line, after the joins
                probes["start"] = probe_snapshot(st.servers[0])
                if profiler and not joins_only:
                    profiler.start()

            if profiler and joins_only:
                profiler.duration = 600  # stopped when the load begins
                profiler.start()

            def at_end() -> None:
                time.sleep(0.3)
                probes["end"] = probe_snapshot(st.servers[0])

            result = run_loadgens(specs, monitor, on_start=at_start, on_end=at_end)
        finally:
            monitor.close()
        offered = f"{args.rate:g} bids/s open loop" if args.rate else f"closed loop, {args.bidders} bidders"
        described = describe(args, **config)
        table = finish_bidding_run(scenario, described, st, result, monitor, offered, ceiling=ceiling, probes=probes)
    if profiler is not None:
        profiler.report(f"{scenario} {profile} {described}")
    return table

"""The runtime (auction/runtime): garbage collection tuned for a long-running server, and the database on a green
runtime's offload threads. Never `import run` in tests, nor select a green runtime in the test process: it
monkey-patches the whole process. The reproducers run in child processes instead."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auction import runtime
from auction.runtime.gc_policy import tune_gc

ROOT = Path(__file__).resolve().parent.parent


def test_tune_gc_freezes_start_up_objects_and_raises_the_young_threshold():
    before = gc.get_threshold()
    try:
        tune_gc(50_000)
        assert gc.get_freeze_count() > 0  # start-up's objects are out of every later collection
        assert gc.get_threshold() == (50_000, *before[1:])
        tune_gc(0)  # 0 keeps the threshold as it is
        assert gc.get_threshold() == (50_000, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_no_test_module_patched_the_test_process():
    """By the time this runs every test module is imported; had one imported run.py, the whole process would be
    monkey-patched and Playwright's greenlets would hang under eventlet's hub (the browser tests did)."""
    from eventlet import patcher

    assert runtime.current().name == "threading"
    assert not patcher.is_monkey_patched("thread")
    assert not patcher.is_monkey_patched("socket")


def test_the_probe_counts_the_reference_cycles_the_collector_frees():
    """bench/ prints this count per ack: a steady stream of cycles is what makes collections long."""
    from auction.entrypoints import probe

    gc.callbacks.append(probe._time_gc)
    try:
        gc.collect()
        before = probe.gc_freed[0]
        for _ in range(10):
            cycle: list[object] = []
            cycle.append(cycle)
        del cycle
        gc.collect()
        assert probe.gc_freed[0] - before >= 10
    finally:
        gc.callbacks.remove(probe._time_gc)


# Run in a child process, which selects a green runtime (monkey-patching it, as run.py does; never the test
# process): argv is the database URL and the runtime's name.
_PRELUDE = """
import sys
from auction import runtime

rt = runtime.select(sys.argv[2])
assert rt.green
if rt.name == "eventlet":
    from eventlet import GreenPool as Pool
    from eventlet.semaphore import Semaphore as GreenLock
else:
    from gevent.lock import Semaphore as GreenLock
    from gevent.pool import Pool
from auction.db import Database
"""

_FIRST_CONNECTS = """
from sqlalchemy import text

db = Database(sys.argv[1], pool_size=16, offload=rt.offload)  # units of work on OS threads, as in the server
select_one = lambda session: session.execute(text("SELECT 1")).scalar()
for _ in range(3):
    pool = Pool(32)
    assert list(pool.imap(lambda _: db.transaction(select_one), range(32))) == [1] * 32
    db.engine.dispose()  # a new pool, whose first connections race again
print("OK", flush=True)
"""


def run_green(script: str, db_url: str, mode: str, timeout: int) -> subprocess.CompletedProcess:
    """Run `script` after `_PRELUDE` in a child process on the green runtime `mode`."""
    return subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _PRELUDE + script, db_url, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


GREEN = pytest.mark.parametrize("mode", ["eventlet", "gevent"])


@GREEN
def test_a_new_pools_first_connections_at_once_on_os_threads_do_not_hang(db_url, mode):
    """Thirty-two units of work at once on a pool that never connected (a server's first requests, or the
    first after the pool was replaced): SQLAlchemy's first-connect lock was a green lock, and tpool threads
    that met it waited for ever (bench.webhooks: requests never answered). All answer now, on both runtimes."""
    done = run_green(_FIRST_CONNECTS, db_url, mode, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stderr[-2000:]


_GREEN_LOCKS = """
import logging
import auction.models  # every mapper, as the server has them
from auction.logging_setup import configure_logging

Database(sys.argv[1])
configure_logging("INFO", [])


def green(value):
    # the runtime's lock, or an RLock built around one
    return isinstance(value, GreenLock) or isinstance(getattr(value, "_block", None), GreenLock)


found = ["logging._lock"] if green(logging._lock) else []
found += [f"handler {h!r}" for h in logging.getLogger().handlers if green(h.lock)]
for name, module in list(sys.modules.items()):
    # PostgreSQL's dialects are imported by SQLAlchemy but never used by this project.
    if not name.startswith("sqlalchemy") or name.startswith("sqlalchemy.dialects.postgresql") or module is None:
        continue
    for key, value in list(vars(module).items()):
        places = [(key, value)]
        if isinstance(value, type) and value.__module__ == name:
            places += [(f"{key}.{k}", v) for k, v in vars(value).items()]
        for where, item in places:
            cells = [c.cell_contents for c in getattr(item, "__closure__", None) or () if c.cell_contents is not None]
            if green(item) or any(green(c) for c in cells):  # a lock, or a function holding one (util.counter)
                found.append(f"{name}.{where}")
print(sorted(set(found)), flush=True)
"""


@GREEN
def test_no_lock_a_unit_of_work_can_meet_in_sqlalchemy_or_logging_is_green(mode):
    """What a unit of work on a tpool thread may lock at module level (SQLAlchemy's counters of Sessions
    and ORM loads, its configure and lambda locks, logging's locks) is a real OS lock once the runtime
    is selected and logging configured: a green one contended between two OS threads never wakes its waiter
    (auction/runtime/overrides.py `sqlalchemy_os_locks`)."""
    done = run_green(_GREEN_LOCKS, "sqlite://", mode, timeout=60)  # no query: the backend does not matter
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stdout + done.stderr[-2000:]


_MANY_THREADS = """
from sqlalchemy import select
from auction.models import User

db = Database(sys.argv[1], pool_size=16, offload=rt.offload)
sys.setswitchinterval(1e-6)  # OS threads switch often, also inside SQLAlchemy's short critical sections


def unit(session):
    for _ in range(20):
        session.execute(select(User).limit(1)).scalars().all()  # an ORM load, numbered by a module counter
    return 1


pool = Pool(32)
assert sum(pool.imap(lambda _: db.transaction(unit), range(200))) == 200
print("OK", flush=True)
"""


@GREEN
def test_many_units_of_work_at_once_on_os_threads_do_not_hang(db, db_url, mode):
    """Two hundred units of work, thirty-two at a time, each making a Session and twenty ORM loads on the
    runtime's OS threads, which switch every microsecond: before SQLAlchemy's counters held real locks,
    this hung or failed with "Cannot switch to a different thread" under eventlet (bench.webhooks --servers 2
    hung one run in three that way)."""
    done = run_green(_MANY_THREADS, db_url, mode, timeout=90)
    assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stderr[-2000:]


_OFFLOADED = """
import threading

hub = rt.os_thread_id()
assert rt.offload(rt.os_thread_id) != hub  # blocking work leaves the hub's OS thread
event = rt.event()
rt.spawn(event.set)
event.wait()
print("OK", flush=True)
"""


@GREEN
def test_a_green_runtime_offloads_to_another_os_thread_and_spawns_beside_the_caller(mode):
    done = run_green(_OFFLOADED, "sqlite://", mode, timeout=30)
    assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stderr[-2000:]


def test_processes_run_py_did_not_start_run_on_threads_and_never_import_a_green_library(tmp_path):
    """CLI commands and tests build the app on the threading runtime: importing eventlet would print its
    deprecation banner in every `flask` command."""
    script = "import sys; from auction import create_app; create_app({'DATABASE_URL': 'sqlite://'}); " + (
        "from auction import runtime; print(runtime.current().name, 'eventlet' in sys.modules, 'gevent' in sys.modules)"
    )
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path), "SOCKETIO_ASYNC_MODE": "eventlet"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout.split()) == (0, ["threading", "False", "False"]), done.stderr[-2000:]
    assert "deprecated" not in done.stderr.lower()

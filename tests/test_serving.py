"""run.py's process settings (auction/entrypoints/process.py): garbage collection tuned for a long-running
server, and the database under eventlet. Never `import run` in tests: it monkey-patches the whole test process."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from auction.entrypoints.process import _collect_on_hub, collect_due, tune_gc, unmask
from tests.support.faults import wait_for

ROOT = Path(__file__).resolve().parent.parent


def run_patched(script: str, db_url: str, timeout: int) -> subprocess.CompletedProcess:
    """Run `script` (which monkey-patches its own process, as run.py does) with the database URL."""
    return subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, db_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


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


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_with_a_spawn_automatic_collection_is_off_and_a_collector_runs_on_the_hub():
    before, spawned = gc.get_threshold(), []
    try:
        tune_gc(50_000, spawn=spawned.append)
        assert not gc.isenabled()
        assert spawned == [_collect_on_hub]
    finally:
        gc.enable()
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_hub_collector_collects_the_oldest_generation_past_its_threshold_as_python_would():
    before = gc.get_threshold()
    gc.disable()
    try:
        gc.collect()
        gc.set_threshold(500, 3, 2)
        assert collect_due() is None
        cycles = [_Cycle() for _ in range(600)]
        probe = weakref.ref(cycles[0])
        del cycles
        assert probe() is not None  # only a collection frees a cycle, and automatic ones are off
        assert collect_due() == 0
        assert probe() is None
        assert gc.get_count()[0] < 500
        for _ in range(4):
            gc.collect(0)  # each young collection counts once toward the middle generation's threshold
        assert gc.get_count()[1] > 3
        assert collect_due() == 1
        assert gc.get_count()[1] == 0
        for _ in range(3):
            gc.collect(1)
        assert collect_due() == 2
        assert gc.get_count()[2] == 0
    finally:
        gc.enable()
        gc.set_threshold(*before)


@given(
    data=st.binary(max_size=300),
    mask=st.binary(min_size=4, max_size=4),
    cut=st.integers(min_value=0, max_value=300) | st.none(),
    offset=st.integers(min_value=0, max_value=10_000),
)
def test_websocket_unmasking_gives_what_eventlets_own_gives(data, mask, cut, offset):
    """run.py serves eventlet's websockets with process.unmask; for any payload, mask, length and offset
    into the mask's cycle (a frame read in pieces) it must equal eventlet's byte-by-byte original."""
    from eventlet.websocket import RFC6455WebSocket

    original = RFC6455WebSocket.__dict__["_apply_mask"]
    assert original.__func__ is not unmask, "the test process is not run.py: eventlet's own is in place"
    length = None if cut is None else min(cut, len(data))
    assert unmask(data, mask, length, offset) == original.__func__(data, mask, length, offset)
    assert unmask(unmask(data, mask, length, offset), mask, length, offset) == data[:length]


def test_no_test_module_patched_the_test_process_for_eventlet():
    """By the time this runs every test module is imported; had one imported run.py, the whole process would be
    monkey-patched and Playwright's greenlets would hang under eventlet's hub (the browser tests did)."""
    from eventlet import patcher

    assert not patcher.is_monkey_patched("thread")
    assert not patcher.is_monkey_patched("socket")


def _probe_fields(log: str) -> dict[str, str] | None:
    lines = [line for line in log.splitlines() if "event=probe " in line]
    return dict(part.split("=", 1) for part in lines[-1].split("event=probe ", 1)[1].split()) if lines else None


@pytest.mark.live
def test_with_gc_on_hub_the_running_server_collects_garbage_only_on_the_hub(live_server_factory, db_url):
    """run.py end to end: automatic collection is off, and every collection while pages are served (their
    queries on tpool threads, allocating as they go) ran on the hub's OS thread, as the probe counts them."""
    server = live_server_factory(db_url, PROBE_INTERVAL="0.2", GC_THRESHOLD="100", GC_ON_HUB="true")
    for _ in range(20):
        assert requests.get(f"{server.url}/", timeout=10).status_code == 200

    def collected() -> dict[str, str] | None:
        fields = _probe_fields(server.log())
        return fields if fields and json.loads(fields["gc_ms"]).get("0") is not None else None

    fields = wait_for(collected, timeout=15, what="a probe line after a young collection")
    assert fields["gc_auto"] == "False"
    assert fields["gc_off_hub"] == "0"


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


# Run in a child process: it monkey-patches eventlet, as run.py does (never in the test process).
_FIRST_CONNECTS = """
import sys
import eventlet
eventlet.monkey_patch()
from sqlalchemy import text
from auction.db import Database

db = Database(sys.argv[1], pool_size=16)
assert db._should_offload()  # units of work on tpool's OS threads, as in the server
select_one = lambda session: session.execute(text("SELECT 1")).scalar()
for _ in range(3):
    pool = eventlet.GreenPool(32)
    assert list(pool.imap(lambda _: db.transaction(select_one), range(32))) == [1] * 32
    db.engine.dispose()  # a new pool, whose first connections race again
print("OK", flush=True)
"""


def test_a_new_pools_first_connections_at_once_on_os_threads_do_not_hang(db_url):
    """Thirty-two units of work at once on a pool that never connected (a server's first requests, or the
    first after the pool was replaced): SQLAlchemy's first-connect lock was a green lock, and tpool threads
    that met it waited for ever (bench.webhooks: requests never answered). All answer now."""
    done = run_patched(_FIRST_CONNECTS, db_url, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stderr[-2000:]


_GREEN_LOCKS = """
import sys
import eventlet
eventlet.monkey_patch()
import logging
from eventlet.semaphore import Semaphore
import auction.models  # every mapper, as the server has them
from auction.db import Database
from auction.logging_setup import configure_logging

Database(sys.argv[1])
configure_logging("INFO", [])


def green(value):
    # eventlet's lock, or threading's Python RLock built around one
    return isinstance(value, Semaphore) or isinstance(getattr(value, "_block", None), Semaphore)


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


def test_no_lock_a_unit_of_work_can_meet_in_sqlalchemy_or_logging_is_green_in_the_server(db_url):
    """What a unit of work on a tpool thread may lock at module level (SQLAlchemy's counters of Sessions
    and ORM loads, its configure and lambda locks, logging's locks) is a real OS lock once the Database is
    built and logging configured in a monkey-patched process: a green one contended between two OS
    threads never wakes its waiter (auction/db.py `_sqlalchemy_os_locks`)."""
    done = run_patched(_GREEN_LOCKS, db_url, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stdout + done.stderr[-2000:]


_MANY_THREADS = """
import sys
import eventlet
eventlet.monkey_patch()
from sqlalchemy import select
from auction.db import Database
from auction.models import User

db = Database(sys.argv[1], pool_size=16)
assert db._should_offload()
sys.setswitchinterval(1e-6)  # OS threads switch often, also inside SQLAlchemy's short critical sections


def unit(session):
    for _ in range(20):
        session.execute(select(User).limit(1)).scalars().all()  # an ORM load, numbered by a module counter
    return 1


pool = eventlet.GreenPool(32)
assert sum(pool.imap(lambda _: db.transaction(unit), range(200))) == 200
print("OK", flush=True)
"""


def test_many_units_of_work_at_once_on_os_threads_do_not_hang(db, db_url):
    """Two hundred units of work, thirty-two at a time, each making a Session and twenty ORM loads on
    tpool's OS threads, which switch every microsecond: before SQLAlchemy's counters held real locks,
    this hung or failed with "Cannot switch to a different thread" (bench.webhooks --servers 2 hung one
    run in three that way)."""
    done = run_patched(_MANY_THREADS, db_url, timeout=90)
    assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stderr[-2000:]

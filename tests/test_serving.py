"""run.py's process settings (auction/entrypoints/process.py): garbage collection tuned for a long-running
server. Never `import run` in tests: it monkey-patches the whole test process for eventlet."""

from __future__ import annotations

import gc
import weakref

from auction.entrypoints.process import _collect_on_hub, collect_due, tune_gc


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


def test_no_test_module_patched_the_test_process_for_eventlet():
    """By the time this runs every test module is imported; had one imported run.py, the whole process would be
    monkey-patched and Playwright's greenlets would hang under eventlet's hub (the browser tests did)."""
    from eventlet import patcher

    assert not patcher.is_monkey_patched("thread")
    assert not patcher.is_monkey_patched("socket")

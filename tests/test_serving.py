"""run.py's process settings (auction/entrypoints/process.py): garbage collection tuned for a long-running
server. Never `import run` in tests: it monkey-patches the whole test process for eventlet."""

from __future__ import annotations

import gc

from auction.entrypoints.process import tune_gc


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


def test_no_test_module_patched_the_test_process_for_eventlet():
    """By the time this runs every test module is imported; had one imported run.py, the whole process would be
    monkey-patched and Playwright's greenlets would hang under eventlet's hub (the browser tests did)."""
    from eventlet import patcher

    assert not patcher.is_monkey_patched("thread")
    assert not patcher.is_monkey_patched("socket")

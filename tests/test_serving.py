"""run.py's process settings: garbage collection tuned for a long-running server."""

from __future__ import annotations

import gc

import run


def test_tune_gc_freezes_start_up_objects_and_raises_the_young_threshold():
    before = gc.get_threshold()
    try:
        run.tune_gc(50_000)
        assert gc.get_freeze_count() > 0  # start-up's objects are out of every later collection
        assert gc.get_threshold() == (50_000, *before[1:])
        run.tune_gc(0)  # 0 keeps the threshold as it is
        assert gc.get_threshold() == (50_000, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)

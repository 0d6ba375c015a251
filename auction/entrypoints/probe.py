"""A measuring probe for benchmarks (PROBE_INTERVAL > 0; off by default): how late the eventlet hub wakes a
green thread, and how much database work joins and bids cost, logged as one cumulative line per interval.

Why a sleeping green thread: every socket of a process is served by the one hub, so the time a 10 ms sleep
overruns is the time any socket waited for the hub (a slow query on the hub, a CPU-bound burst). bench/
reads the line at the start and at the end of its load and prints the difference.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter

from flask import Flask

from ..extensions import socketio

log = logging.getLogger(__name__)
SLEEP = 0.010


def start(app: Flask) -> None:
    interval = float(app.config["PROBE_INTERVAL"])
    if interval > 0:
        socketio.start_background_task(_run, app, interval)


def _run(app: Flask, interval: float) -> None:
    late: Counter[int] = Counter()  # lateness in whole ms -> wake-ups
    db = app.extensions["auction.db"]
    cache = app.extensions["auction.cache"]
    next_report = time.monotonic() + interval
    while True:
        before = time.monotonic()
        socketio.sleep(SLEEP)
        late[max(0, int((time.monotonic() - before - SLEEP) * 1000))] += 1
        if time.monotonic() >= next_report:
            next_report += interval
            log.info(
                "event=probe lag_ms=%s statements=%d joins=%d join_loads=%d",
                json.dumps(dict(sorted(late.items())), separators=(",", ":")),
                db.statements,
                cache.joins,
                cache.loads,
            )

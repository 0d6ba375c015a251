"""Periodic jobs that run inside the server process (green threads under eventlet).

Each job is a function of the app that does one round of work; a failing round is
logged and retried on the next tick, so a database outage never kills the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

from .extensions import socketio

log = logging.getLogger(__name__)

Job = Callable[[Flask], None]
JOBS: list[tuple[str, str, Job]] = []  # (name, config key of its interval in seconds, job)


def periodic(name: str, interval_key: str) -> Callable[[Job], Job]:
    """Register `fn(app)` to run every `app.config[interval_key]` seconds."""

    def register(fn: Job) -> Job:
        JOBS.append((name, interval_key, fn))
        return fn

    return register


def _loop(app: Flask, name: str, interval_key: str, job: Job) -> None:
    interval = float(app.config[interval_key])
    while True:
        try:
            with app.app_context():
                job(app)
        except Exception:
            log.exception("event=background_job_failed job=%s", name)
        socketio.sleep(interval)


def start_background_tasks(app: Flask) -> None:
    if not app.config["SCHEDULER_ENABLED"]:
        return
    for name, interval_key, job in JOBS:
        if float(app.config[interval_key]) > 0:
            socketio.start_background_task(_loop, app, name, interval_key, job)
            log.info("event=background_job_started job=%s every=%ss", name, app.config[interval_key])

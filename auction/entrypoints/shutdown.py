"""Graceful shutdown: on SIGTERM stop accepting, finish and answer the work in flight, exit within SHUTDOWN_TIMEOUT.

Work in flight is counted where it enters: every Socket.IO event (`acks.event`), every HTTP request other than
Socket.IO's own (webhooks, forms: `entrypoints/guard.py`) and every round of a background job. Once the drain
starts, new work is refused with `ShuttingDown`, which adapters answer like a database outage (`unavailable`,
HTTP 503 with Retry-After): nothing was done, so a retry (on another process, through nginx) is safe. Sockets
are closed when the process exits; their clients reconnect to the other processes and re-join.

systemd (deploy/systemd) sends SIGTERM and waits TimeoutStopSec=30 before SIGKILL, more than SHUTDOWN_TIMEOUT.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .. import runtime
from ..db import DatabaseUnavailable

log = logging.getLogger(__name__)
# After the last piece of work answered: time for its ack and messages to leave the socket buffers.
FLUSH_SECONDS = 0.5


class ShuttingDown(DatabaseUnavailable):
    """This process is stopping and takes no new work (answered as `unavailable`: retry, another process serves)."""


class Drain:
    """Counts the work in flight in this process and refuses new work once draining."""

    def __init__(self) -> None:
        self.draining = False
        self.in_flight = 0

    @contextmanager
    def work(self) -> Iterator[None]:
        if self.draining:
            raise ShuttingDown("the server is restarting; please try again")
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    def wait_idle(self, timeout: float, sleep: Callable[[float], Any]) -> int:
        """Wait until nothing is in flight or `timeout` passes; the work left unfinished."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            sleep(0.05)
        return self.in_flight


DRAIN = Drain()


def serve_until_terminated(start_server: Callable[[], Any], stop_accepting: Callable[[], None], timeout: float) -> None:
    """Run the server (`start_server()` starts it beside this thread) until SIGTERM, then drain and exit the process.

    `stop_accepting` closes the listening socket; the server's own thread is left alone: killing it runs
    the server's own shutdown (a green server's marks every open connection closing and stops the websockets' answers).
    """
    sleep = runtime.current().sleep
    terminated: list[int] = []

    def on_sigterm(signum: int, _frame: Any) -> None:
        DRAIN.draining = True  # refuse new work from this instant
        terminated.append(signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    start_server()
    # Polled, not an Event: the handler runs when epoll is interrupted, but a green Event sent from it would
    # wait for the hub's next timer (up to 10 s in a process without the scheduler, measured).
    while not terminated:
        sleep(0.2)
    started = time.monotonic()
    log.info("event=shutdown_started in_flight=%d timeout=%ss", DRAIN.in_flight, timeout)
    stop_accepting()
    left = DRAIN.wait_idle(timeout, sleep)
    sleep(FLUSH_SECONDS)
    log.info("event=shutdown_done unfinished=%d seconds=%.2f", left, time.monotonic() - started)
    # Open websockets, the offload threads and the Redis listener never end by themselves: leave now.
    # (Not logging.shutdown(): it waits for handler locks another thread may hold, measured as a 10 s hang.)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0 if left == 0 else 1)

"""A measuring probe for benchmarks (PROBE_INTERVAL > 0; off by default): how late the hub (under threading,
the OS) wakes a sleeping thread, and how much database work joins and bids cost, logged as one cumulative
line per interval.

Why a sleeping green thread: every socket of a process is served by the one hub, so the time a 10 ms sleep
overruns is the time any socket waited for the hub (a slow query on the hub, a CPU-bound burst). bench/
reads the line at the start and at the end of its load and prints the difference.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections import Counter
from typing import Any

from flask import Flask
from socketio import packet

from .. import runtime
from ..extensions import socketio

log = logging.getLogger(__name__)
SLEEP = 0.010


def start(app: Flask) -> None:
    interval = float(app.config["PROBE_INTERVAL"])
    if interval > 0:
        _count_packets()
        _hub_thread[0] = runtime.current().os_thread_id()  # run.py starts the probe on the hub's thread
        gc.callbacks.append(_time_gc)
        socketio.start_background_task(_run, app, interval)


gc_ms: Counter[int] = Counter()  # generation -> milliseconds the process spent collecting it (all threads)
gc_off_hub: list[int] = [0]  # collections that ran on an OS thread other than the hub's (a tpool thread)
# Objects the collector freed: reference cycles, which reference counting cannot free. A steady stream of them
# (a refused bid's traceback once held its own frame) is what makes collections long and frequent.
gc_freed: list[int] = [0]
_gc_started: list[float] = [0.0]
_hub_thread: list[int] = [0]


def _time_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        gc_ms[info["generation"]] += round((time.perf_counter() - _gc_started[0]) * 1000)
        gc_freed[0] += info["collected"]
        if runtime.current().os_thread_id() != _hub_thread[0]:
            gc_off_hub[0] += 1


sent: Counter[str] = Counter()  # Socket.IO packets written to sockets, by event name ("ack" for acks)


def _count_packets() -> None:
    """Count every packet the Socket.IO server writes to a socket, by event name: what the hub spends its
    sends on. Only when probing (a wrapper per packet; python-socketio has no hook for this)."""
    server = socketio.server
    send = server._send_packet

    def counted(eio_sid: str, pkt: Any) -> None:
        if pkt.packet_type in (packet.EVENT, packet.BINARY_EVENT):
            sent[str(pkt.data[0])] += 1
        elif pkt.packet_type in (packet.ACK, packet.BINARY_ACK):
            sent["ack"] += 1
        else:
            sent["other"] += 1
        send(eio_sid, pkt)

    send_encoded = server._send_eio_packet

    def counted_encoded(eio_sid: str, eio_pkt: Any) -> None:  # a room broadcast, encoded once for all
        data = eio_pkt.data if isinstance(eio_pkt.data, str) else ""
        start = data.find('["') + 2
        sent[data[start : data.find('"', start)] if start > 1 else "other"] += 1
        send_encoded(eio_sid, eio_pkt)

    server._send_packet = counted
    server._send_eio_packet = counted_encoded


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
                "event=probe lag_ms=%s statements=%d joins=%d join_loads=%d sent=%s gc_ms=%s gc_off_hub=%d gc_freed=%d",
                json.dumps(dict(sorted(late.items())), separators=(",", ":")),
                db.statements,
                cache.joins,
                cache.loads,
                json.dumps(dict(sent), separators=(",", ":")),
                json.dumps({str(k): v for k, v in sorted(gc_ms.items())}, separators=(",", ":")),
                gc_off_hub[0],
                gc_freed[0],
            )

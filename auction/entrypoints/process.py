"""Process-wide settings for the long-running server (run.py), kept out of run.py so tests can import them
without run.py's eventlet monkey-patching the test process."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Any

COLLECT_EVERY = 0.010  # seconds between the hub collector's looks at the allocation counts


def tune_gc(threshold: int, spawn: Callable[..., Any] | None = None) -> None:
    """Fewer, cheaper garbage collections, and with `spawn` only on the hub (bench.hot_auction measured 2.7 s of
    collection in 10 s of load).

    - gc.freeze(): everything built at start (modules, the app, SQLAlchemy's metadata and caches) moves to
      a permanent generation that no collection scans again.
    - The youngest generation is collected after `threshold` net allocations instead of Python's 700: a
      busy server allocates thousands of short-lived objects per message, and with each young collection
      promoting a few survivors, the full collections that follow scan every socket's objects.
    - With `spawn` (run.py passes eventlet's when GC_ON_HUB is on; off by default, see docs/performance.md on
      the runs with every socket anonymous), automatic collection is off and a green thread collects each
      generation when its count passes its threshold, as CPython would. Python otherwise collects on whichever
      thread allocates past the threshold, often a tpool thread running a query, and the finalizers it runs
      there (sockets, greenlets, green locks in a cycle) belong to the hub's thread.
    Reference counting still frees almost everything at once; only cycles wait longer.
    """
    gc.collect()
    gc.freeze()
    if threshold > 0:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
    if spawn is not None:
        gc.disable()
        spawn(_collect_on_hub)


def _collect_on_hub() -> None:
    import eventlet

    while True:
        eventlet.sleep(COLLECT_EVERY)
        collect_due()


def collect_due() -> int | None:
    """Collect the oldest generation whose count is past its threshold (CPython's own rule, less its
    long-lived-objects ratio for a full collection, which Python does not expose); the generation, or None.
    gc.collect(n) keeps the counts as an automatic collection would: it zeroes 0..n and adds one to n + 1."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if thresholds[generation] and counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return generation
    return None


def unmask(data: bytes, mask: bytes, length: int | None = None, offset: int = 0) -> bytes:
    """XOR the first `length` bytes of a client's websocket payload with its 4-byte `mask`, starting
    `offset` bytes into the mask's cycle (RFC 6455 section 5.3), as eventlet's
    `RFC6455WebSocket._apply_mask` does, but on whole integers instead of one Python step per byte.

    By hand because eventlet has no faster path and no library plugs in here: every frame a browser
    sends is masked, and eventlet's generator was 3% of the hub's time on a hot auction (bench/)."""
    if length is None:
        length = len(data)
    if length <= 0:
        return b""
    turn = offset % 4
    key = (mask[turn:] + mask[:turn]) * (length // 4 + 1)
    masked = int.from_bytes(data[:length], "little") ^ int.from_bytes(key[:length], "little")
    return masked.to_bytes(length, "little")


def fast_websocket_unmasking() -> None:
    """Serve eventlet's websockets with `unmask` (run.py; the tests compare the two)."""
    from eventlet.websocket import RFC6455WebSocket

    RFC6455WebSocket._apply_mask = staticmethod(unmask)


def share_metrics(directory: str | None) -> None:
    """Count this serving process's metrics into `directory` (METRICS_DIR), where every serving process of the
    machine counts, so a scrape of any of them reports them all: prometheus_client's multi-process mode, which it
    picks when it is imported, from PROMETHEUS_MULTIPROC_DIR. Only run.py calls this, before anything imports
    prometheus_client: a `flask` command sourcing the same settings counts alone and leaves no files there."""
    if not directory:
        return
    if "prometheus_client" in sys.modules:
        raise RuntimeError("share_metrics() must run before prometheus_client is imported")
    os.makedirs(directory, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory

"""Process-wide set-up for a serving process (run.py) that must happen before the app is built; kept out of run.py
so tests can import it. The runtime's own start-up (monkey-patching, the GC policy) is in auction/runtime."""

from __future__ import annotations

import os
import sys


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

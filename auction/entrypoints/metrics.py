"""Prometheus metrics at GET /metrics: what an operator pages on (docs/deploy.md, "Metrics").

Two kinds of numbers:

- Counted where they happen, in the process they happen in: socket events by name and outcome (bids decided and
  refused by code) with their latency, bid batch sizes, webhook answers by outcome, the hub's lag, open sockets,
  whether this process leads the jobs, the last wallet audit. An increment is a few microseconds and no query.
  With `METRICS_DIR` set, run.py puts the process in prometheus_client's multi-process mode (each process writes
  its own memory-mapped files there; process.py, `share_metrics`), and a scrape of any serving process on a
  machine reports every one on it.
- Read from the database when scraped (`BacklogCollector`): the webhook backlog, Asaas requests against the quota,
  the outboxes' queue depths. At most one set of queries per `BACKLOG_CACHE_SECONDS` whatever the scrape rate, each
  an indexed count or one bounded by `BACKLOG_SCAN` rows, never a query per bid.

Every metric is touched only from the hub's green threads, never from a unit of work's OS thread: on a green
runtime prometheus_client's lock is a green lock, and a green lock contended across OS threads can hang
(auction/runtime/overrides.py).

The endpoint is not public: without `METRICS_TOKEN` it answers 404, and with it it wants
`Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).
"""

from __future__ import annotations

import glob
import hmac
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from .. import runtime
from ..alerts import deliveries as alert_deliveries
from ..db import Database, DatabaseUnavailable
from ..extensions import socketio
from ..mail import queries as mail_queries
from ..payments import queries as payment_queries
from ..payments import quota

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

# `_created` series say when a process started counting: noise here, and multi-process mode has none.
disable_created_metrics()

SOCKET_EVENTS = Counter(
    "leilao_socket_events",
    "Socket.IO events answered, by event and outcome (ok or the error code)",
    ["event", "outcome"],
)
SOCKET_EVENT_SECONDS = Histogram(
    "leilao_socket_event_seconds",
    "Seconds from a Socket.IO event's arrival to its ack (a bid: its queue, its batch's transaction)",
    ["event"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BID_BATCH_SIZE = Histogram(
    "leilao_bid_batch_size", "Bids decided in one transaction (group commit)", buckets=(1, 2, 5, 10, 20, 50, 100, 200)
)
WEBHOOKS = Counter(
    "leilao_webhook_deliveries", "Asaas webhook deliveries answered, by HTTP status and outcome", ["status", "outcome"]
)
HUB_LAG = Histogram(
    "leilao_hub_lag_seconds",
    "How late a sleeping green thread wakes: how long any socket waited for the process's hub",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)
OPEN_SOCKETS = Gauge("leilao_open_sockets", "Open Socket.IO (Engine.IO) sessions", multiprocess_mode="livesum")
JOBS_LEADER = Gauge(
    "leilao_jobs_leader",
    "1 in the process that leads the site-wide jobs (sum over the site: 1)",
    multiprocess_mode="livesum",
)
AUDIT_PROBLEMS = Gauge(
    "leilao_wallet_audit_problems",
    "Mismatches the last wallet audit found (0: the ledger balances)",
    multiprocess_mode="mostrecent",
)
AUDIT_TIME = Gauge(
    "leilao_wallet_audit_timestamp_seconds",
    "When the last wallet audit ran (Unix time)",
    multiprocess_mode="mostrecent",
)

SAMPLE_EVERY = 1.0  # seconds between the hub-lag and open-socket samples
BACKLOG_CACHE_SECONDS = 10.0
BACKLOG_SCAN = 100_000  # the webhook backlog is looked for among the newest deliveries only


# (event, outcome) -> its counter and its event's histogram: `labels()` takes a lock and builds a key every call.
_answers: dict[tuple[str, str], tuple[Any, Any]] = {}


def answered(event: str, ack: dict[str, Any], seconds: float) -> None:
    """A socket event's ack (entrypoints/sockets/acks.py)."""
    outcome = str(ack.get("error")) if isinstance(ack, dict) and ack.get("ok") is False else "ok"
    metrics = _answers.get((event, outcome))
    if metrics is None:
        metrics = _answers[event, outcome] = (SOCKET_EVENTS.labels(event, outcome), SOCKET_EVENT_SECONDS.labels(event))
    metrics[0].inc()
    metrics[1].observe(seconds)


def webhook_answered(status: int, outcome: str) -> None:
    WEBHOOKS.labels(str(status), outcome).inc()


def wallet_audited(problems: int) -> None:
    AUDIT_PROBLEMS.set(problems)
    AUDIT_TIME.set(time.time())


# -- read when scraped ----------------------------------------------------------------------------
# Queue depths of the outboxes: name -> (waiting messages, seconds the oldest has waited). A new outbox adds its
# reader here and gets `leilao_queue_depth{queue=...}` and `leilao_queue_oldest_seconds{queue=...}`.
QUEUES: dict[str, Callable[[Session], tuple[int, float | None]]] = {
    "alerts": alert_deliveries.waiting,
    "mail": mail_queries.waiting,
    "webhooks": lambda session: payment_queries.webhook_backlog(session, scan=BACKLOG_SCAN),
}


class BacklogCollector(Collector):
    """The numbers that need the database, read at most every BACKLOG_CACHE_SECONDS."""

    def __init__(self, db: Database, reconcile_budget: int) -> None:
        self.db = db
        self.budget = reconcile_budget
        self.read_at = -BACKLOG_CACHE_SECONDS
        self.families: list[GaugeMetricFamily] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if time.monotonic() - self.read_at >= BACKLOG_CACHE_SECONDS:
            self.families = self._read()
            self.read_at = time.monotonic()
        yield from self.families

    def _read(self) -> list[GaugeMetricFamily]:
        up = GaugeMetricFamily("leilao_metrics_database_up", "1 when the scrape could read the database")
        try:
            queues, usage = self.db.transaction(self._query)
        except DatabaseUnavailable:
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        depth = GaugeMetricFamily("leilao_queue_depth", "Messages waiting in an outbox or backlog", labels=["queue"])
        oldest = GaugeMetricFamily(
            "leilao_queue_oldest_seconds", "Seconds the oldest waiting message has waited (0: none)", labels=["queue"]
        )
        for name, (waiting, age) in queues.items():
            depth.add_metric([name], waiting)
            oldest.add_metric([name], age or 0)
        requests = GaugeMetricFamily("leilao_asaas_requests", "Asaas API requests this site made in this 12-h window")
        requests.add_metric([], usage.requests)
        limit = GaugeMetricFamily("leilao_asaas_quota", "Asaas API requests allowed per 12-h window (documented)")
        limit.add_metric([], quota.ASAAS_QUOTA)
        budget = GaugeMetricFamily("leilao_asaas_reconcile_budget", "Of those, what reconciliation may spend")
        budget.add_metric([], usage.budget)
        refused = GaugeMetricFamily("leilao_asaas_rate_limited", "Asaas requests answered 429 in this 12-h window")
        refused.add_metric([], usage.rate_limited)
        return [up, depth, oldest, requests, limit, budget, refused]

    def _query(self, session: Session) -> tuple[dict[str, tuple[int, float | None]], quota.Usage]:
        return {name: read(session) for name, read in QUEUES.items()}, quota.usage(session, self.budget)


# -- the endpoint ---------------------------------------------------------------------------------


def _authorized(config: Any) -> bool | None:
    """None when metrics are off (no token), else whether the request carries the token."""
    token = config["METRICS_TOKEN"]
    if not token:
        return None
    sent = request.headers.get("Authorization", "")
    return sent.startswith("Bearer ") and hmac.compare_digest(sent[7:].encode(), token.encode())


@bp.get("/metrics")
def scrape() -> Any:
    allowed = _authorized(current_app.config)
    if allowed is None:
        return Response("not found\n", 404, mimetype="text/plain")
    if not allowed:
        log.warning("event=metrics_unauthorized ip=%s", request.remote_addr)
        return Response("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    directory = current_app.config["METRICS_DIR"]
    if directory:
        forget_dead_processes(directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    backlog = CollectorRegistry()
    backlog.register(current_app.extensions["auction.metrics.backlog"])
    return Response(counted + generate_latest(backlog), 200, mimetype=CONTENT_TYPE_LATEST)


_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")


def forget_dead_processes(directory: str) -> None:
    """Drop the live gauges of processes that are gone (a SIGKILLed leader must not count as a leader)."""
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        found = _LIVE_FILE.search(path)
        if found and not _alive(int(found.group(1))):
            multiprocess.mark_process_dead(int(found.group(1)), directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def init_app(app: Flask) -> None:
    app.extensions["auction.metrics.backlog"] = BacklogCollector(
        app.extensions["auction.db"], app.config["ASAAS_RECONCILE_BUDGET"]
    )
    app.register_blueprint(bp)


def start() -> None:
    """The serving process's samples of its hub's lag and its open sockets (run.py)."""
    socketio.start_background_task(_sample)


def _sample() -> None:
    while True:
        asleep = time.monotonic()
        runtime.current().sleep(SAMPLE_EVERY)
        HUB_LAG.observe(max(0.0, time.monotonic() - asleep - SAMPLE_EVERY))
        OPEN_SOCKETS.set(len(socketio.server.eio.sockets))


def leader_changed(leading: bool) -> None:
    JOBS_LEADER.set(1 if leading else 0)

"""Group commit for bids: bids that arrive while earlier ones are being decided wait, and the next
batch decides all of them, on however many auctions, in ONE transaction (`bids.place_batch`).

Why: every commit fsyncs and costs a dozen statements whatever it holds, and one row lock serializes
an auction's decisions, so one transaction per bid caps a hot auction at the database's single-commit
rate and spends most of a busy process's CPU on per-transaction statements (docs/performance.md). A
batch pays one lock statement, one commit, one INSERT per table and one broadcast per auction for all
its bids. A quiet site's bid is decided at once as a batch of one; batches grow with the arrival
rate while earlier ones commit, up to BID_BATCH_MAX bids, and at most
BID_WORKERS batches of one process are being decided at once. An auction's next batch gathers until
BID_BATCH_WAIT after its previous one began: on a hot auction fuller batches cost less CPU per bid
and answered faster (docs/performance.md); a bid on an auction with no batch that recent (a quiet
auction, a quiet site) is decided at once, or, when every worker is busy or waiting for a hot auction's
batch to gather, within BID_BATCH_WAIT. A busy process gathers too: its next batch, of any auctions,
begins BID_GATHER_WAIT after its previous one began (unless BID_BATCH_MAX bids already wait), so bids
spread over many auctions share transactions instead of each paying a dozen statements and a commit of
its own (docs/performance.md, many auctions); the first bid after a quiet spell still goes at once.

An auction is in at most one batch of a process at a time, and its bids join batches in arrival
order, so its batches run one after another and `Database.run`, which delivers each batch's messages
right after its commit, delivers an auction's messages in commit order (their `version` only grows).
Between processes the row locks decide; every batch locks its auctions in ascending id, then its
wallets in ascending id, so batches cannot deadlock each other. The login of each bid's socket is
re-checked inside the batch's transaction, with one query for all of them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from math import inf
from typing import Any

from flask import Flask

from ... import accounts, runtime
from ...auctions import bids
from ...errors import ServiceError
from ...uow import UnitOfWork
from .. import metrics
from .connection import NotLoggedIn

log = logging.getLogger(__name__)


@dataclass(eq=False)  # each queued bid is itself, even when two carry the same command
class _Pending:
    command: bids.PlaceBid
    token: str | None
    done: runtime.Waitable  # what `submit` waits on
    result: Any = None


def _decide(uow: UnitOfWork, batch: list[_Pending]) -> list[bids.BidOutcome | ServiceError]:
    """One transaction for the batch: the logins, then every bid in arrival order."""
    logged_in = accounts.users_for_tokens(uow.session, {item.token for item in batch if item.token})
    valid = [logged_in.get(item.token or "") == item.command.bidder_id for item in batch]
    decided = iter(bids.place_batch(uow, [item.command for item, ok in zip(batch, valid, strict=True) if ok]))
    ended = NotLoggedIn("your session has ended; log in again")
    return [next(decided) if ok else ended for ok in valid]


class BidQueue:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._max = max(1, int(app.config["BID_BATCH_MAX"]))
        self._workers_max = max(1, int(app.config["BID_WORKERS"]))
        self._wait = max(0.0, float(app.config["BID_BATCH_WAIT"]))
        self._gather = max(0.0, float(app.config["BID_GATHER_WAIT"]))
        self._lock = threading.Lock()
        # A worker waiting for an auction or the process to gather wakes early when a full batch waits.
        self._full = threading.Condition(self._lock)
        # auction id -> its bids waiting, auctions in the order their oldest waiting bid came
        self._pending: dict[int, list[_Pending]] = {}
        self._waiting = 0  # bids in `_pending`
        self._busy: set[int] = set()  # auctions in a batch being decided now
        self._began: dict[int, float] = {}  # auction id -> when its latest batch began
        self._last = -inf  # when this process's latest batch began
        self._workers = 0
        # What a queued bid waits on: the runtime's own Event (on a green runtime, one object per bid).
        self._event = runtime.current().event

    def submit(self, command: bids.PlaceBid, token: str | None) -> bids.BidOutcome:
        """Queue the bid, wait for its batch, and return its outcome (or raise its refusal)."""
        item = _Pending(command, token, self._event())
        auction_id = command.auction_id
        with self._lock:
            self._pending.setdefault(auction_id, []).append(item)
            self._waiting += 1
            if self._waiting >= self._max:
                self._full.notify_all()
            start = auction_id not in self._busy and self._workers < self._workers_max
            if start:
                self._workers += 1
        if start:
            runtime.current().spawn(self._drain)
        item.done.wait()
        outcome, item.result = item.result, None
        if isinstance(outcome, BaseException):
            try:
                raise outcome
            finally:  # the traceback holds this frame: holding the refusal here too would be a cycle
                del outcome
        return outcome

    def _take(self) -> list[_Pending]:
        """The next batch, waiting until one is ready; empty when nothing waits (the worker then ends)."""
        with self._lock:
            while True:
                taken, soonest = self._ready(time.monotonic())
                if taken or soonest is None:
                    if not taken:
                        self._workers -= 1
                    return taken
                self._full.wait(max(0.0, soonest - time.monotonic()))

    def _ready(self, now: float) -> tuple[list[_Pending], float | None]:
        """Under the lock: the waiting bids of auctions that are ready, oldest first, at most `_max`; and
        when the soonest auction not ready yet will be. An auction is ready when no batch holds it and
        its previous batch began at least `_wait` ago; nothing is ready until the process's previous batch
        began at least `_gather` ago, unless a full batch waits."""
        taken: list[_Pending] = []
        gathered_at = self._last + self._gather
        if self._waiting and gathered_at > now and self._waiting < self._max:
            return taken, gathered_at
        soonest: float | None = None
        for auction_id in list(self._pending):
            room = self._max - len(taken)
            if room <= 0:
                break
            if auction_id in self._busy:
                continue
            ready_at = self._began.get(auction_id, -inf) + self._wait
            if ready_at > now:
                soonest = ready_at if soonest is None else min(soonest, ready_at)
                continue
            queue = self._pending[auction_id]
            taken += queue[:room]
            if len(queue) > room:
                self._pending[auction_id] = queue[room:]  # keeps its place: its oldest bid waited longest
            else:
                del self._pending[auction_id]
            self._busy.add(auction_id)
            self._began[auction_id] = now
        if len(self._began) > 2 * len(self._pending) + 1_000:  # forget auctions long ready
            self._began = {a: t for a, t in self._began.items() if t + self._wait > now}
        if taken:
            self._waiting -= len(taken)
            self._last = now
        return taken, soonest

    def _drain(self) -> None:
        with self._app.app_context():
            while batch := self._take():
                results = self._run(batch)
                metrics.BID_BATCH_SIZE.observe(len(batch))
                with self._lock:
                    self._busy.difference_update({item.command.auction_id for item in batch})
                for item, result in zip(batch, results, strict=True):
                    item.result = result
                    item.done.set()

    def _run(self, batch: list[_Pending]) -> list[Any]:
        db = self._app.extensions["auction.db"]
        try:
            return db.run(_decide, batch)
        except Exception as exc:  # the whole batch failed (database gone, a bug)
            auctions = sorted({item.command.auction_id for item in batch})
            if isinstance(exc, ServiceError) or len(auctions) == 1:  # ServiceError: the database is unavailable
                if not isinstance(exc, ServiceError):
                    log.warning("event=bid_batch_failed size=%d error=%s", len(batch), type(exc).__name__)
                return [exc] * len(batch)
            # One auction's failure must not refuse the bids of the others: decide each auction alone.
            results: dict[int, Any] = {}
            for auction_id in auctions:
                own = [item for item in batch if item.command.auction_id == auction_id]
                results.update(zip(map(id, own), self._run(own), strict=True))
            return [results[id(item)] for item in batch]

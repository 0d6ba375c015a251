"""Group commit for bids: the bids for one auction that arrive while its previous batch is being
decided wait, and the next batch decides them all in ONE transaction (`bids.place_batch`).

Why: every commit fsyncs, and one row lock serializes an auction's decisions, so one transaction per
bid caps a hot auction at the database's single-commit rate (docs/performance.md). A batch pays one
lock, one commit and one broadcast for all its bids. Nothing waits on purpose: a quiet auction's bid
is decided at once as a batch of one; a hot auction's batches grow with the arrival rate while the
previous one commits, up to BID_BATCH_MAX.

Each process has its own queues; between processes the row lock still decides. Batches of one
auction run one after another, and `Database.run` delivers each batch's messages right after its
commit, so a process delivers an auction's messages in commit order (their `version` only grows).
The login of each bid's socket is re-checked inside the batch's transaction, with one query for
all of them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from ... import accounts
from ...auctions import bids
from ...errors import ServiceError
from ...uow import UnitOfWork
from ..spawn import spawn
from .acks import NotLoggedIn

log = logging.getLogger(__name__)


@dataclass(eq=False)  # each queued bid is itself, even when two carry the same command
class _Pending:
    command: bids.PlaceBid
    token: str | None
    # threading's Event is a green one once eventlet has patched the process (run.py).
    done: threading.Event = field(default_factory=threading.Event)
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
        self._lock = threading.Lock()
        self._pending: dict[int, list[_Pending]] = {}
        self._draining: set[int] = set()

    def submit(self, command: bids.PlaceBid, token: str | None) -> bids.BidOutcome:
        """Queue the bid, wait for its batch, and return its outcome (or raise its refusal)."""
        item = _Pending(command, token)
        auction_id = command.auction_id
        with self._lock:
            self._pending.setdefault(auction_id, []).append(item)
            start = auction_id not in self._draining
            self._draining.add(auction_id)
        if start:
            spawn(self._drain, auction_id)
        item.done.wait()
        if isinstance(item.result, BaseException):
            raise item.result
        return item.result

    def _take(self, auction_id: int) -> list[_Pending]:
        with self._lock:
            queue = self._pending.get(auction_id, [])
            taken, rest = queue[: self._max], queue[self._max :]
            if rest:
                self._pending[auction_id] = rest
            else:
                self._pending.pop(auction_id, None)
            if not taken:
                self._draining.discard(auction_id)
            return taken

    def _drain(self, auction_id: int) -> None:
        with self._app.app_context():
            db = self._app.extensions["auction.db"]
            while batch := self._take(auction_id):
                try:
                    results: list[Any] = db.run(_decide, batch)
                except Exception as exc:  # the whole batch failed (database gone, a bug): each bid says so
                    if not isinstance(exc, ServiceError):
                        log.warning(
                            "event=bid_batch_failed auction_id=%s size=%d error=%s",
                            auction_id,
                            len(batch),
                            type(exc).__name__,
                        )
                    results = [exc] * len(batch)
                log.debug("event=bid_batch auction_id=%s size=%d", auction_id, len(batch))
                for item, result in zip(batch, results, strict=True):
                    item.result = result
                    item.done.set()


def bid_queue() -> BidQueue:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = app.extensions.get("auction.bid_queue")
    if queue is None:
        queue = app.extensions["auction.bid_queue"] = BidQueue(app)
    return queue

"""`join_auction` without a transaction: a per-process read model of each auction's public state.

Why: a crowd joining (7,000 joins in bench.many_auctions) made half the server's CPU samples
`auction_state` transactions and starved Engine.IO's pings, so sockets were dropped. Here a join is
served from memory; only the first join of an auction in a process reads the database, and joins that
miss at the same time share that one read (single flight).

The model is kept current by the messages every committed change already produces (`new_bid`,
`auction_opened`, `auction_rescheduled`, `auction_finished`, `auction_cancelled`): the Socket.IO client
manager hands each message to `observe` just before delivering it to this process's sockets (which applies it
with `public.apply`, as the page does), and with a Redis message queue every process's manager sees every process's
messages. Each message carries the auction's
`version`; one that is not exactly the next version (a gap, a restart) drops the entry, and the next
join reads it afresh, so an ack is never older than the last message this process delivered.

What only one viewer may see is added per join: `you_lead`/`is_seller` from the cached names,
`watching` from the socket's own set (loaded at connect), and `your_max` — the leader's private
maximum — with one small query, for the leader only (the room names bidders by pseudonym).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from typing import Any

import socketio as python_socketio
from sqlalchemy import select

from ... import clock, runtime
from ...auctions import privacy, public, queries
from ...db import Database
from ...errors import NotFound
from ...models import Auction

log = logging.getLogger(__name__)
MAX_ENTRIES = 20_000
OBSERVED = {"new_bid", "auction_opened", "auction_rescheduled", "auction_finished", "auction_cancelled"}
VIEWER_FIELDS = ("you_lead", "your_max", "watching", "is_seller")


class AuctionCache:
    def __init__(self, db: Database, enabled: bool = True) -> None:
        self._db = db
        self.enabled = enabled
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._newest: dict[int, int] = {}  # the highest version any message has shown, entry or not
        # Joins that missed wait on the Event of the next load, which reads all of them at once.
        self._waiting: dict[int, threading.Event] = {}
        self._next = threading.Event()
        self._loading = False
        self._missing: set[int] = set()
        self._failed: dict[int, Exception] = {}
        self._uncached: dict[int, dict[str, Any]] = {}
        self.loads = 0  # database reads (tests and bench compare them with joins)
        self.joins = 0

    # -- reads -------------------------------------------------------------------------------

    def state(self, auction_id: int, *, viewer: Any = None, watching: bool = False) -> dict[str, Any]:
        """The `join_auction` state, as `queries.auction_state` gives it (raises NotFound)."""
        self.joins += 1
        if not self.enabled:
            return self._db.transaction(queries.auction_state, auction_id, viewer_id=viewer.id if viewer else None)
        public = self._public(auction_id)
        public["server_time"] = clock.isoformat(clock.now())
        if viewer is not None:
            # The room knows the leader by pseudonym; a match is confirmed by the leader's private maximum
            # (a query for the leader only), so two bidders sharing a pseudonym cannot be confused.
            maybe = public["leader"] is not None and public["leader"] == privacy.pseudonym(auction_id, viewer.id)
            your_max = self._leader_max(auction_id, viewer.id) if maybe else None
            public["you_lead"] = your_max is not None
            public["your_max"] = your_max
            public["watching"] = watching
            public["is_seller"] = public["seller_id"] == viewer.id
        return public

    def _public(self, auction_id: int) -> dict[str, Any]:
        while True:
            with self._lock:
                entry = self._entries.get(auction_id)
                if entry is not None:
                    self._entries.move_to_end(auction_id)
                    return copy.deepcopy(entry)
                if auction_id in self._missing:
                    raise NotFound("no such auction")
                ticket = self._waiting.get(auction_id)
                if ticket is None:
                    ticket = self._waiting[auction_id] = self._next
                start = not self._loading
                self._loading = True
            if start:
                runtime.current().spawn(self._load_all)
            ticket.wait()
            with self._lock:
                if auction_id in self._missing:
                    self._missing.discard(auction_id)
                    raise NotFound("no such auction")
                failure = self._failed.pop(auction_id, None)
                uncached = self._uncached.pop(auction_id, None)
            if failure is not None:
                raise failure
            if uncached is not None:
                return copy.deepcopy(uncached)

    def _load_all(self) -> None:
        """Read every auction a join is waiting for in one transaction; repeat while more wait."""
        while True:
            with self._lock:
                ids = [auction_id for auction_id, ticket in self._waiting.items() if ticket is self._next]
                if not ids:
                    self._loading = False
                    return
                ticket, self._next = self._next, threading.Event()
            try:
                loaded = self._db.transaction(_read, ids)
            except Exception as exc:  # the joins that waited answer with it (`unavailable` for a lost database)
                log.warning("event=auction_cache_load_failed count=%d error=%s", len(ids), type(exc).__name__)
                loaded = None
                for auction_id in ids:
                    self._failed[auction_id] = exc
            self.loads += 1
            with self._lock:
                for auction_id in ids:
                    self._waiting.pop(auction_id, None)
                    found = loaded.get(auction_id) if loaded is not None else None
                    if found is None:
                        if loaded is not None:
                            self._missing.add(auction_id)
                        continue
                    state = found
                    if state["version"] >= self._newest.get(auction_id, -1):
                        self._entries[auction_id] = state
                    else:
                        # A newer message arrived while this was read: answer these joins with what was
                        # read (as new as the database) and keep nothing, so the next join reads again.
                        self._uncached[auction_id] = state
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
            ticket.set()

    def _leader_max(self, auction_id: int, user_id: int) -> int | None:
        return self._db.transaction(
            lambda s: s.scalar(select(Auction.leader_max).where(Auction.id == auction_id, Auction.leader_id == user_id))
        )

    # -- updates from messages ---------------------------------------------------------------

    def observe(self, event: str, data: Any) -> None:
        if event not in OBSERVED or not isinstance(data, dict):
            return
        auction_id, version = data.get("auction_id"), data.get("version")
        if not isinstance(auction_id, int) or not isinstance(version, int):
            return
        with self._lock:
            if version <= self._newest.get(auction_id, -1):
                return  # a message seen before (own and Redis copies) or an older one
            self._newest[auction_id] = version
            entry = self._entries.get(auction_id)
            if entry is None:
                return
            if version != entry["version"] + 1:
                self._drop(auction_id)
                return
            try:
                public.apply(entry, data, keep_bids=queries.LAST_BIDS)
            except (KeyError, TypeError):
                log.warning("event=auction_cache_unexpected_message name=%s auction_id=%s", event, auction_id)
                self._drop(auction_id)
                return
            entry["version"] = version

    def _drop(self, auction_id: int) -> None:
        self._entries.pop(auction_id, None)


def _read(session: Any, auction_ids: list[int]) -> dict[int, dict[str, Any]]:
    return queries.auction_states(session, auction_ids)


# -- the Socket.IO client managers that feed the cache ------------------------------------------


class _Observing:
    cache: AuctionCache | None = None

    def _observe(self, event: str, data: Any) -> None:
        if self.cache is not None:
            try:
                self.cache.observe(event, data)
            except Exception:
                log.exception("event=auction_cache_observe_failed name=%s", event)


class ObservingManager(_Observing, python_socketio.Manager):
    """One process: every emit passes through `emit`."""

    def emit(self, event: str, data: Any, namespace: str, room: Any = None, **kwargs: Any) -> Any:
        self._observe(event, data)
        return super().emit(event, data, namespace, room=room, **kwargs)


class ObservingRedisManager(_Observing, python_socketio.RedisManager):
    """Several processes: every process's emits arrive through Redis at `_handle_emit`; this process's own
    emits pass there too, on their way out (python-socketio's PubSubManager.emit)."""

    def _handle_emit(self, message: dict[str, Any]) -> Any:
        data = message.get("data")
        # The queue carries an emit's arguments as a list: ours have one, the payload.
        if isinstance(data, list) and len(data) == 1 and not message.get("binary"):
            self._observe(message.get("event", ""), data[0])
        return super()._handle_emit(message)


def client_manager(message_queue: str | None, channel: str) -> Any:
    """The manager for `socketio.init_app`: None (Flask-SocketIO's own) for a queue the cache cannot watch."""
    if not message_queue:
        return ObservingManager()
    if message_queue.startswith(("redis://", "rediss://")):
        return ObservingRedisManager(message_queue, channel=channel)
    return None

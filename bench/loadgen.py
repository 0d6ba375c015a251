"""Load generator: many real Socket.IO clients (python-socketio AsyncClient over websockets) in one process.

Run by the scenario commands, never by hand: `python -m bench.loadgen SPEC.json`. The process connects
every client, joins the rooms, prints `READY`, waits for `GO` on stdin, runs the load, and prints one
`RESULT {json}` line. Latencies are kept as histograms of 0.1 ms buckets so several processes merge.

Spec keys: urls (client i uses urls[i % len]), watchers ([[auction_id, count], ...], anonymous),
bidders ([{cookie, auctions}] - bidders also watch their auctions), mode (closed | open | idle),
rate (bids/s, open loop), duration, drain, start_amount, increment, idle (count of bare connections).

A sale event (bench/events.py): `event` {event_id, watchers, lots: [[auction_id, ends_at], ...]}; its watchers and
every bidder join the event's one room (`join_event`) and count its `lot` messages per second of the load; mode
`event` sends bids open loop at `rate`, each on the lot closing now as the room last told it.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

import aiohttp
import socketio

BUCKETS_PER_MS = 10


def bucket_ms(seconds: float) -> int:
    """A latency's histogram bucket (0.1 ms wide)."""
    return max(0, int(seconds * 1000 * BUCKETS_PER_MS))


def parse_server_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Run:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.ack_hist: Counter[int] = Counter()
        self.delivery_hist: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.accepted: Counter[int] = Counter()  # auction id -> accepted bids
        self.received: Counter[int] = Counter()  # auction id -> new_bid messages received (all sockets)
        self.members: Counter[int] = Counter()  # auction id -> sockets in its room
        # auction id -> the sum over its members of the `version` their join ack showed: each later room message
        # raises the version by one, so a member should receive (final version - its join version) messages.
        self.join_versions: Counter[int] = Counter()
        self.join_hist: Counter[int] = Counter()
        self.raises = 0  # accepted bids that only raised the bidder's own maximum (private: no room message)
        self.next_amount: dict[int, int] = defaultdict(lambda: int(spec.get("start_amount", 100)))
        self.increment = int(spec.get("increment", 1))
        self.sent = 0
        self.acks = 0
        self.timeouts = 0
        self.connect_failures = 0
        self.disconnects = 0
        self.load_started = 0.0  # monotonic time the load began (0 before)
        self.stopping = False
        self.drops: list[tuple[float, str]] = []  # (seconds into the load, reason) per dropped connection
        self.clients: list[socketio.AsyncClient] = []
        self.bidders: list[tuple[socketio.AsyncClient, list[int]]] = []
        self.last_delivery = 0.0
        self.watcher_events = 0
        self.inflight: set[asyncio.Task] = set()
        # A sale event: auction id -> [end (epoch s), open]; `lot` messages per second of the load, acks by second.
        event = spec.get("event") or {}
        self.lots: dict[int, list[Any]] = {int(a): [parse_server_time(ends), True] for a, ends in event.get("lots", [])}
        self.lot_versions: dict[int, int] = {}
        self.lot_seconds: Counter[int] = Counter()
        self.ack_seconds: Counter[str] = Counter()  # "second:bucket" -> acks sent in that second of the load
        self.event_members = 0
        self.bids_on: Counter[int] = Counter()  # auction id -> bids sent on it (event mode)

    # -- clients -----------------------------------------------------------------

    def _new_client(self, http: aiohttp.ClientSession, cookie: str | None) -> socketio.AsyncClient:
        # The cookie goes in this client's own websocket headers: python-engineio moves a Cookie given to
        # connect(headers=...) into the shared session's cookie jar, where every later client would send it.
        options = {"headers": {"Cookie": cookie}} if cookie else {}
        client = socketio.AsyncClient(
            reconnection=False, http_session=http, handle_sigint=False, websocket_extra_options=options
        )

        @client.on("new_bid")
        async def on_new_bid(data: dict[str, Any]) -> None:
            now = time.time()
            auction_id = int(data["auction_id"])
            if data.get("next_min"):
                self.next_amount[auction_id] = max(self.next_amount[auction_id], int(data["next_min"]))
            self.received[auction_id] += 1
            self.last_delivery = now
            if data.get("server_time"):
                self.delivery_hist[bucket_ms(now - parse_server_time(data["server_time"]))] += 1

        @client.on("lot")
        async def on_lot(data: dict[str, Any]) -> None:
            now = time.time()
            auction_id = int(data["auction_id"])
            self.received[auction_id] += 1
            self.last_delivery = now
            if self.load_started:
                self.lot_seconds[int(time.monotonic() - self.load_started)] += 1
            if data.get("server_time"):
                self.delivery_hist[bucket_ms(now - parse_server_time(data["server_time"]))] += 1
            if int(data["version"]) > self.lot_versions.get(auction_id, -1):  # every member hears it: keep the newest
                self.lot_versions[auction_id] = int(data["version"])
                self.lots[auction_id] = [parse_server_time(data["ends_at"]), data["status"] == "open"]

        @client.on("lots_rescheduled")
        async def on_lots_rescheduled(data: dict[str, Any]) -> None:
            # One message for a late bid's cascade: it raises each listed lot's version by one, so it counts as
            # one message per lot for the lost-message sum.
            now = time.time()
            first = parse_server_time(data["first_ends_at"])
            for k, (auction_id, _number, version) in enumerate(data["lots"]):
                self.received[auction_id] += 1
                if int(version) > self.lot_versions.get(auction_id, -1):
                    self.lot_versions[auction_id] = int(version)
                    self.lots[auction_id] = [first + k * float(data["interval_seconds"]), True]
            self.last_delivery = now
            if self.load_started:
                self.lot_seconds[int(time.monotonic() - self.load_started)] += 1
            if data.get("server_time"):
                self.delivery_hist[bucket_ms(now - parse_server_time(data["server_time"]))] += 1

        @client.on("watchers")
        async def on_watchers(_data: dict[str, Any]) -> None:
            self.watcher_events += 1

        @client.on("disconnect")
        async def on_disconnect(*args: Any) -> None:
            self.disconnects += 1
            if self.load_started and not self.stopping:
                self.drops.append((round(time.monotonic() - self.load_started, 2), str(args[0]) if args else "?"))

        return client

    async def _connect(
        self, http: aiohttp.ClientSession, index: int, cookie: str | None, rooms: list[int], event_id: int | None = None
    ) -> Any:
        client = self._new_client(http, cookie)
        urls = self.spec["urls"]
        attempts = int(self.spec.get("connect_attempts", 3))
        for attempt in range(attempts):
            try:
                # A server that stops accepting (full listen queue) must count as a failure, not hang the run.
                await asyncio.wait_for(
                    client.connect(urls[index % len(urls)], transports=["websocket"], wait_timeout=30),
                    timeout=float(self.spec.get("connect_timeout", 40)),
                )
                break
            except Exception:  # TimeoutError included
                if attempt == attempts - 1:
                    self.connect_failures += 1
                    return None
                await asyncio.sleep(0.5 + random.random())
        if event_id is not None:
            started = time.perf_counter()
            ack = await client.call("join_event", {"event_id": event_id}, timeout=60)
            self.join_hist[bucket_ms(time.perf_counter() - started)] += 1
            if not (isinstance(ack, dict) and ack.get("ok")):
                raise RuntimeError(f"join_event refused: {ack}")
            self.event_members += 1
        for auction_id in rooms:
            started = time.perf_counter()
            ack = await client.call("join_auction", {"auction_id": auction_id}, timeout=60)
            self.join_hist[bucket_ms(time.perf_counter() - started)] += 1
            if not (isinstance(ack, dict) and ack.get("ok", True)):
                raise RuntimeError(f"join_auction refused: {ack}")
            self.members[auction_id] += 1
            self.join_versions[auction_id] += int(ack.get("version", 0))
        self.clients.append(client)
        return client

    async def connect_all(self, http: aiohttp.ClientSession) -> None:
        gate = asyncio.Semaphore(int(self.spec.get("connect_concurrency", 100)))
        event = self.spec.get("event") or {}
        event_id = event.get("event_id")
        jobs: list[tuple[str | None, list[int], bool, int | None]] = []
        for bidder in self.spec.get("bidders", []):
            jobs.append((bidder["cookie"], list(bidder["auctions"]), True, event_id))
        for auction_id, count in self.spec.get("watchers", []):
            jobs.extend((None, [auction_id], False, None) for _ in range(count))
        jobs.extend((None, [], False, event_id) for _ in range(int(event.get("watchers", 0))))
        jobs.extend((None, [], False, None) for _ in range(int(self.spec.get("idle", 0))))

        async def one(index: int, cookie: str | None, rooms: list[int], is_bidder: bool, event: int | None) -> None:
            async with gate:
                client = await self._connect(http, index, cookie, rooms, event)
            if client is not None and is_bidder:
                self.bidders.append((client, rooms))

        await asyncio.gather(*(one(i, *job) for i, job in enumerate(jobs)))
        # Keep the bidders in spec order so open-loop rotation is deterministic.
        order = {id(c): i for i, c in enumerate(self.clients)}
        self.bidders.sort(key=lambda b: order[id(b[0])])

    # -- bids ----------------------------------------------------------------------

    async def bid(self, client: socketio.AsyncClient, auction_id: int) -> None:
        amount = self.next_amount[auction_id]
        self.next_amount[auction_id] = amount + self.increment
        self.sent += 1
        started = time.perf_counter()
        try:
            ack = await client.call("bid", {"auction_id": auction_id, "amount": amount}, timeout=30)
        except socketio.exceptions.TimeoutError:
            self.timeouts += 1
            return
        self.acks += 1
        self.ack_hist[bucket_ms(time.perf_counter() - started)] += 1
        if self.load_started:
            second = int(time.monotonic() - self.load_started - (time.perf_counter() - started))
            self.ack_seconds[f"{second}:{bucket_ms(time.perf_counter() - started)}"] += 1
        if isinstance(ack, dict) and ack.get("ok"):
            self.accepted[auction_id] += 1
            self.raises += bool(ack.get("raised"))
        else:
            code = ack.get("error", "?") if isinstance(ack, dict) else "bad_ack"
            self.errors[code] += 1
            if isinstance(ack, dict) and ack.get("next_min"):
                self.next_amount[auction_id] = max(self.next_amount[auction_id], int(ack["next_min"]))

    async def closed_loop(self, stop_at: float) -> None:
        async def loop(client: socketio.AsyncClient, auctions: list[int]) -> None:
            while time.monotonic() < stop_at:
                await self.bid(client, random.choice(auctions))

        await asyncio.gather(*(loop(c, a) for c, a in self.bidders))

    async def open_loop(self, stop_at: float) -> None:
        rate = float(self.spec["rate"])
        start = time.monotonic()
        i = 0
        while True:
            due = start + i / rate
            if due >= stop_at:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            client, auctions = self.bidders[i % len(self.bidders)]
            task = asyncio.create_task(self.bid(client, random.choice(auctions)))
            self.inflight.add(task)
            task.add_done_callback(self.inflight.discard)
            i += 1
        if self.inflight:
            await asyncio.gather(*list(self.inflight))

    def closing_lot(self) -> int | None:
        """The open lot with the earliest end still ahead, as the event room last told it, once that end is less
        than `horizon` seconds away and while the lot has had fewer than `bids_per_lot` bids from here."""
        event = self.spec["event"]
        now = time.time()
        ahead = [(ends, a) for a, (ends, is_open) in self.lots.items() if is_open and ends > now]
        if not ahead:
            return None
        ends, auction_id = min(ahead)
        if ends - now > float(event.get("horizon", 1e9)) or self.bids_on[auction_id] >= int(
            event.get("bids_per_lot", 1e9)
        ):
            return None
        self.bids_on[auction_id] += 1
        return auction_id

    async def event_loop(self, stop_at: float) -> None:
        """Open loop at `rate` bids/s, each bidder in turn on the lot closing now (none: wait for the next)."""
        rate = float(self.spec["rate"])
        start = time.monotonic()
        i = 0
        while (due := start + i / rate) < stop_at:
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            i += 1
            auction_id = self.closing_lot()
            if auction_id is None or not self.bidders:
                continue
            client, _ = self.bidders[i % len(self.bidders)]
            task = asyncio.create_task(self.bid(client, auction_id))
            self.inflight.add(task)
            task.add_done_callback(self.inflight.discard)
        if self.inflight:
            await asyncio.gather(*list(self.inflight))

    async def drain(self, longest: float) -> None:
        """Wait for messages still in flight: until nothing arrives for 2 s (or `longest` seconds)."""
        deadline = time.monotonic() + longest
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            total = sum(self.received.values())
            if total != last:
                last, quiet_since = total, time.monotonic()
            elif time.monotonic() - quiet_since >= 2:
                return
            await asyncio.sleep(0.25)

    async def main(self) -> dict[str, Any]:
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        # One HTTP session serves many simulated people, so it keeps no cookies: with a shared jar, one
        # bidder's login cookie would log every later anonymous watcher in as that bidder (thousands of
        # sockets in one user's room: every wallet message of that bidder went to all of them).
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
            t0 = time.monotonic()
            await self.connect_all(http)
            connect_seconds = time.monotonic() - t0
            print("READY", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            duration = float(self.spec.get("duration", 10))
            started = self.load_started = time.monotonic()
            started_wall = time.time()
            stop_at = started + duration
            mode = self.spec.get("mode", "idle")
            disconnects_before = self.disconnects
            if mode == "closed":
                await self.closed_loop(stop_at)
            elif mode == "open":
                await self.open_loop(stop_at)
            elif mode == "event":
                await self.event_loop(stop_at)
            else:
                await asyncio.sleep(duration)
            load_seconds = time.monotonic() - started
            print("LOADED", flush=True)
            await self.drain(float(self.spec.get("drain", 60)))
            lost_connections = self.disconnects - disconnects_before
            self.stopping = True
            await asyncio.gather(*(c.disconnect() for c in self.clients), return_exceptions=True)
        return {
            "connected": len(self.clients),
            "connect_failures": self.connect_failures,
            "connect_seconds": round(connect_seconds, 2),
            "lost_connections": lost_connections,
            "drops": self.drops,
            "sent": self.sent,
            "acks": self.acks,
            "timeouts": self.timeouts,
            "accepted": {str(k): v for k, v in self.accepted.items()},
            "errors": dict(self.errors),
            "received": {str(k): v for k, v in self.received.items()},
            "members": {str(k): v for k, v in self.members.items()},
            "ack_hist": {str(k): v for k, v in self.ack_hist.items()},
            "join_hist": {str(k): v for k, v in self.join_hist.items()},
            "join_versions": {str(k): v for k, v in self.join_versions.items()},
            "raises": self.raises,
            "delivery_hist": {str(k): v for k, v in self.delivery_hist.items()},
            "load_seconds": round(load_seconds, 3),
            "watcher_events": self.watcher_events,
            "delivery_seconds": round(max(self.last_delivery - started_wall, 0.0), 3),
            "event_members": self.event_members,
            "lot_seconds": {str(k): v for k, v in self.lot_seconds.items()},
            "ack_seconds": dict(self.ack_seconds),
        }


def main() -> None:
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    result = asyncio.run(Run(spec).main())
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

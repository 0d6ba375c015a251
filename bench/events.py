"""Sale event: one event of N lots closing one every `interval` seconds, W watchers on its page (Socket.IO clients in
the event's one room, `join_event`) and bidders on the closing lots, against one server process.

    python -m bench.events                        # 300 lots, one per 30 s, 2,000 watchers (about 2.5 hours)
    python -m bench.events --lots 40 --interval 5 --watchers 2000 --ceiling    # compressed, with the ceiling
    python -m bench.events --lots 3 --interval 2 --soft-close 1 --watchers 5 --bidders 3 --seconds 8 --lead 3
                                                                                # a smoke run: does it run?

The bidders, all in the first load-generator process, bid open loop at `--rate` bids/s on the lot closing now (as
the event room last told them), once its end is less than one interval away, at most `--bids-per-lot` bids per lot:
the last of them fall inside the soft-close window, extend the lot and push the lots after it.

What it reports:
- per-lot close accuracy: each finished lot's `finished_at` minus its `ends_at` (its scheduled close, or the close
  late bids extended and pushed it to), p50/p99/max, how many lots were extended or pushed, and whether they closed
  in lot order;
- the event room's message rate (`lot` messages received by all members, and per member), over the whole load and
  in the busiest minute (the 60 s with the most of them), with the ack p99 of the bids sent and the server's hub lag
  (its probe, PROBE_INTERVAL) in that same minute;
- dropped sockets and lost messages (each `lot` raises its lot's version by one, so every member should receive the
  sum over lots of final version minus version at the start of the load), and the wallet audit;
- with `--ceiling`, the bare-database ceiling measured in the same run (bench/hot_auction.py) and the accepted
  bids/s as a share of it.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from bench import hot_auction
from bench.common import (
    Monitor,
    base_parser,
    bid_rows,
    describe,
    env_options,
    lost_messages,
    parse_probe,
    percentile,
    probe_rows,
    report,
    resource_rows,
    run_loadgens,
    split,
    stack,
)

MINUTE = 60


class ProbeSampler:
    """Reads the server's probe lines as they are written (the log is followed, not re-read), each with the moment
    it was read: the hub lag of any window of the load is the difference of two of them."""

    def __init__(self, log_path: str) -> None:
        self.path, self.samples = log_path, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _follow(self) -> None:
        with open(self.path, errors="replace") as fh:
            while not self._stop.wait(0.25):
                for line in fh.readlines():
                    if "event=probe " in line:
                        self.samples.append((time.monotonic(), parse_probe(line)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def around(self, start: float, end: float) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The last sample at or before `start` and the first at or after `end` (monotonic seconds)."""
        before = [probe for at, probe in self.samples if at <= start]
        after = [probe for at, probe in self.samples if at >= end]
        return (before[-1] if before else None), (after[0] if after else None)


def make_event(db_url: str, seller_id: int, lot_ids: list[int], bidder_ids: list[int], args: Any) -> tuple[int, list]:
    """The event through the services (the seeded auctions become its lots), every bidder registered; returns its
    id and [auction id, scheduled end] per lot in lot order."""
    from auction import clock
    from auction.auctions import sale_events
    from auction.db import Database
    from auction.models import Auction

    db = Database(db_url, pool_size=2)
    try:
        command = sale_events.CreateEvent(
            organizer_id=seller_id,
            title="Bench event",
            description="",
            terms="Bench terms.",
            first_close_at=clock.now() + timedelta(seconds=args.lead),
            lot_interval_seconds=args.interval,
            soft_close_seconds=args.soft_close,
        )
        event_id = db.run(lambda uow: sale_events.create_event(uow, command).id)
        for auction_id in lot_ids:
            db.run(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, seller_id))
        for user_id in bidder_ids:
            db.run(sale_events.register, sale_events.Register(event_id, user_id, 1))
        ends = db.transaction(
            lambda s: {a.id: clock.isoformat(a.ends_at) for a in s.query(Auction).filter(Auction.id.in_(lot_ids))}
        )
    finally:
        db.dispose()
    return event_id, [[auction_id, ends[auction_id]] for auction_id in lot_ids]


def lots_now(db_url: str, event_id: int) -> list[Any]:
    """Every lot's number, status, version, scheduled and final end, and when it finished."""
    from sqlalchemy import select

    from auction.db import Database
    from auction.models import Auction

    db = Database(db_url, pool_size=1)
    try:
        return db.transaction(
            lambda s: s.execute(
                select(
                    Auction.id,
                    Auction.lot_number,
                    Auction.status,
                    Auction.version,
                    Auction.ends_at,
                    Auction.finished_at,
                )
                .where(Auction.event_id == event_id)
                .order_by(Auction.lot_number)
            ).all()
        )
    finally:
        db.dispose()


def close_rows(lots: list[Any], scheduled: dict[int, str]) -> dict[str, str]:
    from auction import clock

    finished = [lot for lot in lots if lot.finished_at is not None]
    late_ms = sorted(max(0.0, (lot.finished_at - lot.ends_at).total_seconds() * 1000) for lot in finished)
    moved = sum(clock.isoformat(lot.ends_at) != scheduled[lot.id] for lot in lots)
    in_order = [lot.lot_number for lot in sorted(finished, key=lambda lot: (lot.finished_at, lot.lot_number))]

    def at(q: float) -> str:
        return f"{late_ms[min(len(late_ms) - 1, int(q * len(late_ms)))]:.0f}" if late_ms else "-"

    return {
        "lots closed within the run / lots": f"{len(finished)} / {len(lots)}",
        "close accuracy (finished_at - scheduled or extended end) p50 / p99 / max": (
            f"{at(0.5)} / {at(0.99)} / {at(1.0)} ms" if late_ms else "-"
        ),
        "lots extended or pushed past their schedule": str(moved),
        "lots closed in lot order": "yes" if in_order == sorted(in_order) else f"NO ({in_order[:20]})",
    }


def busiest(per_second: dict[str, int], width: int) -> tuple[int, int]:
    """(first second, messages) of the `width`-second window of the load with the most room messages."""
    counts = {int(k): v for k, v in per_second.items()}
    if not counts:
        return 0, 0
    last = max(counts)
    best = max(range(0, max(1, last - width + 2)), key=lambda s: sum(counts.get(s + i, 0) for i in range(width)))
    return best, sum(counts.get(best + i, 0) for i in range(width))


def window_acks(ack_seconds: dict[str, int], start: int, width: int) -> dict[str, int]:
    hist: dict[str, int] = {}
    for key, count in ack_seconds.items():
        second, bucket = (int(part) for part in key.split(":"))
        if start <= second < start + width:
            hist[str(bucket)] = hist.get(str(bucket), 0) + count
    return hist


def run(args: Any) -> str:
    env = {"SCHEDULER_INTERVAL": str(args.scheduler_interval), **env_options(args.env)}
    ceiling = hot_auction.ceiling(5.0) if args.ceiling else None
    seconds = args.seconds or args.lead + args.lots * args.interval + 4 * args.soft_close + 10
    args.duration = seconds  # the shared options' load time, as the table's configuration states it
    with stack(args.server, bidders=args.bidders, auctions=args.lots, **env) as st:
        event_id, lots = make_event(st.db_url, st.seed.seller_id, st.seed.auction_ids, st.seed.bidder_ids, args)
        scheduled = dict(lots)
        monitor = Monitor(st.pids)
        sampler = ProbeSampler(st.servers[0].log.name)
        specs = []
        for p, watchers in enumerate(split(args.watchers, args.procs)):
            spec: dict[str, Any] = {
                "urls": st.urls,
                "watchers": [],
                "bidders": [],
                "mode": "idle",
                "duration": seconds,
                "drain": 30,
                "event": {"event_id": event_id, "lots": lots, "watchers": watchers},
            }
            if p == 0:
                spec["bidders"] = [{"cookie": cookie, "auctions": []} for cookie in st.seed.cookies]
                spec |= {"mode": "event", "rate": args.rate, "start_amount": 100, "increment": 1}
                spec["event"] |= {"bids_per_lot": args.bids_per_lot, "horizon": args.interval}
            specs.append(spec)
        began: dict[str, Any] = {}

        def at_start() -> None:
            began["versions"] = {lot.id: lot.version for lot in lots_now(st.db_url, event_id)}
            began["at"] = time.monotonic()

        sampler.start()
        try:
            result = run_loadgens(specs, monitor, timeout=seconds + 900, on_start=at_start)
        finally:
            sampler.stop()
            monitor.close()
        audit, _counts, versions = st.audit()
        final = lots_now(st.db_url, event_id)
    members = result["event_members"]
    start_versions = began.get("versions", {})
    room = {
        "members": {str(a): members for a in start_versions},
        "join_versions": {str(a): members * v for a, v in start_versions.items()},
        "received": result["received"],
    }
    expected, lost = lost_messages(room, {a: v for a, v in (versions or {}).items() if a in start_versions})
    load = result["load_seconds"] or 1
    received = sum(result["received"].values())
    width = min(MINUTE, max(1, int(load)))
    first, in_window = busiest(result["lot_seconds"], width)
    acks = window_acks(result["ack_seconds"], first, width)
    before, after = sampler.around(began.get("at", 0) + first, began.get("at", 0) + first + width)
    hub = probe_rows(before, after, None, sum(acks.values()))
    rows = close_rows(final, scheduled)
    rows |= {
        "event-room members (watchers + bidders) / sockets failed": f"{members} / {result['connect_failures']}",
        "lot messages received, all members (per s of load) / per member": (
            f"{received} ({received / load:.0f}/s) / {received / max(members, 1):.1f}"
        ),
        f"busiest {width} s (from second {first}): lot messages received/s, per member/s": (
            f"{in_window / width:.0f} / {in_window / width / max(members, 1):.2f}"
        ),
        f"busiest {width} s: bid ack p99 ({sum(acks.values())} acks)": (
            f"{percentile(acks, 0.99)} ms" if acks else "-"
        ),
        f"busiest {width} s: hub lag": next((v for k, v in hub.items() if k.startswith("hub lag")), "-"),
        "room messages lost (by version)": f"{lost} of {expected}",
    }
    standard = bid_rows(result, monitor, f"{args.rate:g} bids/s open loop on the closing lot", audit, None)
    for key in (
        "bids sent / acked / timed out",
        "accepted bids/s",
        "refusals",
        "ack latency",
        "delivery latency (server_time -> watcher)",
        "connections dropped during load",
        "wallet audit",
    ):
        rows[key] = standard[key]
    rows.update(resource_rows(monitor))
    if ceiling:
        accepted = sum(result["accepted"].values()) / load
        rows["bare-database ceiling (same run)"] = f"{ceiling:.0f} commits/s"
        rows["accepted bids/s as share of the ceiling"] = f"{100 * accepted / ceiling:.1f}%"
    config = describe(
        args,
        lots=args.lots,
        interval=args.interval,
        watchers=args.watchers,
        bidders=args.bidders,
        rate=args.rate,
        soft_close=args.soft_close,
    )
    return report("sale event", config, rows)


def parser() -> Any:
    p = base_parser(__doc__, procs=2)
    p.add_argument("--lots", type=int, default=300)
    p.add_argument("--interval", type=int, default=30, help="seconds between lots' closes")
    p.add_argument("--soft-close", type=int, default=10, help="the event's soft-close window, seconds")
    p.add_argument("--watchers", type=int, default=2000, help="anonymous sockets on the event page")
    p.add_argument("--bidders", type=int, default=50)
    p.add_argument("--rate", type=float, default=5, help="bids/s, open loop, on the lot closing now")
    p.add_argument("--bids-per-lot", type=int, default=40)
    p.add_argument("--lead", type=float, default=0, help="seconds before the first lot closes (0: 10 + watchers/100)")
    p.add_argument("--seconds", type=float, default=0, help="seconds of load (0: until every lot can have closed)")
    p.add_argument("--scheduler-interval", type=float, default=1.0, help="the server's SCHEDULER_INTERVAL")
    p.add_argument("--ceiling", action="store_true", help="measure the bare-database ceiling first")
    return p


def main() -> None:
    args = parser().parse_args()
    args.lead = args.lead or 10 + args.watchers / 100
    run(args)


if __name__ == "__main__":
    main()

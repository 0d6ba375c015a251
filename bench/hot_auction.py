"""Scenario 1, hot auction: N bidders racing on one auction (closed loop: each bids again as soon as its
previous ack arrives), or a fixed offered rate (open loop). Every bidder also watches the auction.

    python -m bench.hot_auction                         # 200 bidders, closed loop, 10 s
    python -m bench.hot_auction --rate 200              # open loop at 200 bids/s (the p99 <= 50 ms target)
    python -m bench.hot_auction --ceiling               # also the bare-database ceiling (7a) in the same run
    python -m bench.hot_auction --env DB_OFFLOAD=none   # queries on the hub instead of through tpool
    python -m bench.hot_auction --profile cpu           # py-spy the server during the load
"""

from __future__ import annotations

from typing import Any

from bench import db_ceiling
from bench.common import base_parser, bidding_scenario, fresh_database


def ceiling(duration: float) -> float:
    """The best of 8 and 16 threads on the bare bid transaction, commits/s."""
    best = 0.0
    for threads in (8, 16):
        with fresh_database() as url:
            best = max(best, db_ceiling.measure(url, threads, duration)["per_second"])
    return best


def run(args: Any) -> str:
    return bidding_scenario(
        args,
        "hot auction",
        auctions=1,
        watchers=args.watchers,
        bidder_auctions=lambda ids: [ids[:1]] * args.bidders,
        procs=1,
        config={"bidders": args.bidders, "watchers": args.watchers},
        ceiling=ceiling(min(args.duration, 5.0)) if args.ceiling else None,
    )


def parser() -> Any:
    p = base_parser(__doc__, procs=1)
    p.add_argument("--bidders", type=int, default=200)
    p.add_argument("--watchers", type=int, default=0, help="extra anonymous watchers")
    p.add_argument("--rate", type=float, default=0, help="open-loop bids/s (0 = closed loop)")
    p.add_argument("--ceiling", action="store_true", help="measure the bare-database ceiling first")
    return p


if __name__ == "__main__":
    run(parser().parse_args())

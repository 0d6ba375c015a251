"""Scenario 3, many auctions: A open auctions with W anonymous watchers each, bids at a fixed total rate
(open loop) spread at random across them by B bidders (each bidder bids on, and watches, K auctions).

    python -m bench.many_auctions                           # 1,000 auctions x 5 watchers, 200 bids/s
    python -m bench.many_auctions --auctions 200 --rate 100
    python -m bench.many_auctions --servers 2 --env SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0   # scenario 6
"""

from __future__ import annotations

from typing import Any

from bench.common import base_parser, bidding_scenario


def run(args: Any) -> str:
    k = args.per_bidder
    return bidding_scenario(
        args,
        "many auctions",
        auctions=args.auctions,
        watchers=args.watchers,
        bidder_auctions=lambda ids: [[ids[(b * k + i) % len(ids)] for i in range(k)] for b in range(args.bidders)],
        procs=args.procs,
        config={"auctions": args.auctions, "watchers_each": args.watchers, "bidders": args.bidders, "per_bidder": k},
    )


def parser() -> Any:
    p = base_parser(__doc__)
    p.add_argument("--auctions", type=int, default=1000)
    p.add_argument("--watchers", type=int, default=5, help="anonymous watchers per auction")
    p.add_argument("--rate", type=float, default=200)
    p.add_argument("--bidders", type=int, default=200)
    p.add_argument("--per-bidder", type=int, default=10, help="auctions each bidder bids on and watches")
    return p


if __name__ == "__main__":
    run(parser().parse_args())

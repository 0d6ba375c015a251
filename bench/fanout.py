"""Scenario 2, fan-out: W watchers in one auction room, bids at a fixed rate (open loop).

python -m bench.fanout                          # 2,000 watchers, 50 bids/s, the project on eventlet
python -m bench.fanout --server gevent          # the same on gevent (or threading)
python -m bench.fanout --watchers 500 --rate 20
python -m bench.fanout --server bare            # the same load on the bare Socket.IO server (ceiling 7b)
python -m bench.fanout --servers 2 --env SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0   # scenario 6
"""

from __future__ import annotations

from typing import Any

from bench.common import base_parser, bidding_scenario


def run(args: Any) -> str:
    return bidding_scenario(
        args,
        "fan-out",
        auctions=1,
        watchers=args.watchers,
        bidder_auctions=lambda ids: [ids[:1]] * args.bidders,
        procs=args.procs,
        config={"watchers": args.watchers, "bidders": args.bidders},
    )


def parser() -> Any:
    p = base_parser(__doc__)
    p.add_argument("--watchers", type=int, default=2000)
    p.add_argument("--rate", type=float, default=50)
    p.add_argument("--bidders", type=int, default=10)
    return p


if __name__ == "__main__":
    run(parser().parse_args())

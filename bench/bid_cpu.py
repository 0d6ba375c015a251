"""The bid transaction on its own: server CPU per decision with no sockets, no hub and no tpool in the way.

Bids spread over many auctions (each a batch of one, as in `bench.many_auctions`) are decided one after
another in this process through `bids.place_batch` on a fresh MariaDB database, the way the socket
path's group commit calls it. Prints CPU per decision (process CPU-seconds / decisions), statements per
decision, wall time per decision, and with `--profile` the functions that took the CPU (cProfile).

    python -m bench.bid_cpu                     # 2,000 bids over 1,000 auctions, 200 bidders
    python -m bench.bid_cpu --hot               # every bid on one auction, in batches of --batch
    python -m bench.bid_cpu --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import time
from typing import Any

from auction.auctions import bids
from auction.db import Database
from auction.outbox import Outbox
from bench.common import audit_and_count, fresh_database, report, seed


def run(args: Any) -> str:
    with fresh_database() as url:
        st = seed(url, bidders=args.bidders, auctions=1 if args.hot else args.auctions)
        db = Database(url, pool_size=2)
        rng = random.Random(7)
        price = dict.fromkeys(st.auction_ids, 100)
        batch = args.batch if args.hot else 1
        rounds = args.bids // batch

        def one_round() -> int:
            auction_id = rng.choice(st.auction_ids)
            commands = []
            for _ in range(batch):
                price[auction_id] += 1
                bidder = rng.choice(st.bidder_ids)
                commands.append(bids.PlaceBid(auction_id, bidder, price[auction_id]))
            # The messages stay in the outbox (no sockets here); building them is part of the decision's cost.
            outcomes = db.run(bids.place_batch, commands, outbox=Outbox())
            return sum(1 for o in outcomes if isinstance(o, bids.BidOutcome))

        for _ in range(min(50, rounds)):  # warm the pool, the statement caches and the buffer pool
            one_round()
        # CPU time, not wall time: the database round trips would otherwise dominate the list.
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        statements = db.statements
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        accepted = sum(one_round() for _ in range(rounds))
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        statements = db.statements - statements
        db.dispose()
        problems, _, _ = audit_and_count(url)
    decisions = rounds * batch
    rows = {
        "load": f"{decisions} bids, {'one auction, batches of ' + str(batch) if args.hot else 'batches of one'}",
        "accepted": f"{accepted} of {decisions}",
        "CPU per decision (this process)": f"{1000 * cpu / decisions:.2f} ms",
        "wall per decision": f"{1000 * wall / decisions:.2f} ms",
        "database statements per decision": f"{statements / decisions:.2f}",
        "wallet audit": "PASS" if not problems else f"FAIL {problems[:3]}",
    }
    table = report("bid transaction CPU", f"bidders={args.bidders}, auctions={args.auctions}", rows)
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    return table


def parser() -> Any:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bids", type=int, default=2000)
    p.add_argument("--bidders", type=int, default=200)
    p.add_argument("--auctions", type=int, default=1000)
    p.add_argument("--hot", action="store_true", help="all bids on one auction")
    p.add_argument("--batch", type=int, default=20, help="bids per batch with --hot")
    p.add_argument("--profile", action="store_true", help="cProfile the decisions")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    return p


if __name__ == "__main__":
    run(parser().parse_args())

"""Ceiling 7a: the bid transaction alone, straight on MariaDB from OS threads (no server, no sockets).

Each transaction: lock the auction row, insert a bid, update the auction, lock the new and the previous
leader's wallets (ascending id), write one ledger transaction with two entries (the new leader's hold),
update the wallet, commit. All threads bid on the same auction: the database's limit for one hot auction.

    python -m bench.db_ceiling                      # 1, 8 and 16 threads, 10 s each
    python -m bench.db_ceiling --threads 8 --duration 5
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import create_engine, insert, select, update

from auction import clock
from auction.models import Base
from bench.common import bucket_ms, fresh_database, latency, load_average, report, seed


def bid_transaction(engine: Any, auction_id: int, bidder_id: int, wallet_of: dict[int, int]) -> None:
    t = Base.metadata.tables
    auctions, bids, wallets = t["auctions"], t["bids"], t["wallets"]
    txs, entries = t["ledger_transactions"], t["ledger_entries"]
    now = clock.now()
    with engine.begin() as conn:
        row = conn.execute(
            select(auctions.c.current_price, auctions.c.leader_id, auctions.c.bid_count)
            .where(auctions.c.id == auction_id)
            .with_for_update()
        ).one()
        amount = (row.current_price or 100) + 1
        bid_id = conn.execute(
            insert(bids).values(auction_id=auction_id, bidder_id=bidder_id, amount=amount, created_at=now)
        ).inserted_primary_key[0]
        conn.execute(
            update(auctions)
            .where(auctions.c.id == auction_id)
            .values(current_price=amount, leader_id=bidder_id, bid_count=row.bid_count + 1)
        )
        ids = sorted({wallet_of[bidder_id], wallet_of.get(row.leader_id, wallet_of[bidder_id])})
        conn.execute(select(wallets.c.id).where(wallets.c.id.in_(ids)).order_by(wallets.c.id).with_for_update()).all()
        wallet_id = wallet_of[bidder_id]
        tx_id = conn.execute(
            insert(txs).values(
                idempotency_key=uuid.uuid4().hex,
                kind="hold",
                reason="bid_hold",
                amount=amount,
                wallet_id=wallet_id,
                auction_id=auction_id,
                bid_id=bid_id,
                created_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(entries),
            [
                {"transaction_id": tx_id, "wallet_id": wallet_id, "bucket": "available", "amount": -amount},
                {"transaction_id": tx_id, "wallet_id": wallet_id, "bucket": "held", "amount": amount},
            ],
        )
        conn.execute(
            update(wallets)
            .where(wallets.c.id == wallet_id)
            .values(available=wallets.c.available - amount, held=wallets.c.held + amount, updated_at=now)
        )


def measure(url: str, threads: int, duration: float) -> dict[str, Any]:
    seeded = seed(url, bidders=threads, auctions=1)
    t = Base.metadata.tables
    engine = create_engine(url, pool_size=threads, max_overflow=0, isolation_level="READ COMMITTED")
    with engine.connect() as conn:
        wallet_of = dict(conn.execute(select(t["wallets"].c.user_id, t["wallets"].c.id)).all())
    hist: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker(bidder_id: int) -> None:
        local: Counter[int] = Counter()
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                bid_transaction(engine, seeded.auction_ids[0], bidder_id, wallet_of)
            except Exception as exc:  # deadlocks would show here; none expected with ordered locks
                with lock:
                    errors[type(exc).__name__] += 1
                continue
            local[bucket_ms(time.perf_counter() - started)] += 1
        with lock:
            hist.update(local)

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(b,)) for b in seeded.bidder_ids]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    engine.dispose()
    commits = sum(hist.values())
    return {"commits": commits, "per_second": commits / elapsed, "hist": hist, "errors": dict(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    rows: dict[str, Any] = {}
    for n in args.threads:
        with fresh_database() as url:
            res = measure(url, n, args.duration)
        rows[f"{n} threads: commits/s"] = f"{res['per_second']:.0f} ({res['commits']} commits)"
        rows[f"{n} threads: transaction latency"] = latency({str(k): v for k, v in res["hist"].items()})
        rows[f"{n} threads: errors"] = ", ".join(f"{k} {v}" for k, v in res["errors"].items()) or "none"
        rows[f"{n} threads: load average after"] = load_average()
    report("ceiling 7a: bare bid transaction on MariaDB", f"one hot auction, {args.duration:g}s per thread count", rows)


if __name__ == "__main__":
    main()

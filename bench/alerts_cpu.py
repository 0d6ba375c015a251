"""The alerts round on its own: process CPU and statements per round, with no server and no load beside it.

CPU time (`time.process_time`) and statement counts do not depend on what else the machine runs, so they
compare two versions of the round on a shared machine, where wall-clock benchmarks cannot. On a fresh
MariaDB database (the same seed as the benchmarks: one auction, `--bidders` users) this process runs
`run_alerts` as the jobs process would, in three scenarios:

- idle: nothing pending, `--idle-rounds` rounds (what a site with alerts on pays every ALERTS_INTERVAL);
- nobody opted in: one outbid notification per bidder, no verified address, no push subscription;
- everyone opted in: the same with verified addresses, e-mail and push on and one subscription each; the pushes
  go to an endpoint in a child process (its CPU is not counted), the e-mails are rendered into the mail outbox.

    python -m bench.alerts_cpu                          # 200 bidders
    python -m bench.alerts_cpu --runtime eventlet       # also the CPU the round takes on the hub's own thread
    python -m bench.alerts_cpu --bidders 20 --profile   # cProfile of the opted-in round

With `--runtime eventlet` (or gevent) the round runs on a green runtime as in the server, and the table adds the
CPU time of the calling thread (`time.thread_time`): the hub's, the part of the round that stops the bids of a
process it shares (`./dev serve`); what the runtime offloads runs on other OS threads and is not in it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import pstats
import time
from collections.abc import Callable
from typing import Any

from bench.common import fresh_database, report, seed


def _serve_push(port: Any) -> None:
    from bench.alerts import PushSink

    sink = PushSink()
    port.value = sink.server.server_address[1]
    while True:
        time.sleep(3600)


class ChildPushSink:
    """bench.alerts.PushSink in a child process, so its HTTP handling is not this process's CPU."""

    def __init__(self) -> None:
        port = multiprocessing.Value("i", 0)
        self.process = multiprocessing.Process(target=_serve_push, args=(port,), daemon=True)
        self.process.start()
        while not port.value:
            time.sleep(0.01)
        self.port = port.value

    def url(self, user_id: int) -> str:
        return f"http://127.0.0.1:{self.port}/push/{user_id}"

    def close(self) -> None:
        self.process.terminate()
        self.process.join()


def outbids(db: Any, user_ids: list[int], auction_id: int) -> None:
    """One outbid notification per user, stored as a bid batch stores them (pending alerts)."""
    from auction.notifications import Note, notify_all
    from auction.outbox import Outbox
    from auction.uow import UnitOfWork

    def store(session: Any) -> None:
        notes = [Note(uid, "outbid", f"You were outbid on lot {auction_id}", auction_id) for uid in user_ids]
        notify_all(UnitOfWork(session, Outbox()), notes)

    db.transaction(store)


def measure(app: Any, db: Any, rounds: int, profiler: cProfile.Profile | None = None) -> tuple[float, float, float]:
    """(CPU ms per round, statements per round, the calling thread's CPU ms per round) of `rounds` alert rounds;
    rounds=0: as many as it takes to settle every delivery due (CPU and statements in all of them)."""
    from auction.entrypoints.alerts import run_alerts

    statements, cpu, hub = db.statements, time.process_time(), time.thread_time()
    with app.app_context():
        if profiler:
            profiler.enable()
        if rounds:
            for _ in range(rounds):
                run_alerts(app)
        else:
            while run_alerts(app) and rounds < 100:
                rounds += 1
            rounds = 1
        if profiler:
            profiler.disable()
    hub = 1000 * (time.thread_time() - hub) / rounds
    return 1000 * (time.process_time() - cpu) / rounds, (db.statements - statements) / rounds, hub


def run(args: Any) -> str:
    from sqlalchemy import update

    from auction import clock, create_app
    from auction.alerts import preferences
    from auction.alerts import push as push_area
    from auction.models import User

    sink = ChildPushSink()  # forked before a green runtime patches the standard library
    green = args.runtime != "threading"
    if green:
        from auction import runtime

        runtime.select(args.runtime)
    try:
        with fresh_database("auction_bench_alerts_cpu") as url:
            st = seed(url, bidders=args.bidders, auctions=1)
            # No mail transport: the e-mails stay in the outbox (sending them is the mail round's cost, not this).
            config = {"DATABASE_URL": url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False, "MAIL_DEV_INBOX": False}
            app = create_app(config)
            db = app.extensions["auction.db"]
            auction_id = st.auction_ids[0]
            rows: dict[str, str] = {}
            measure(app, db, 5)  # warm the pool, the statement caches and the templates
            cpu, statements, hub = measure(app, db, args.idle_rounds)
            rows["idle round: CPU / statements"] = f"{cpu:.2f} ms / {statements:.1f}"
            if green:
                rows["idle round: CPU on the hub's thread"] = f"{hub:.2f} ms"

            def scenario(name: str, prepare: Callable[[], None], profile: bool = False) -> None:
                prepare()
                outbids(db, st.bidder_ids, auction_id)
                profiler = cProfile.Profile(time.process_time) if profile else None
                cpu, statements, hub = measure(app, db, 0, profiler)
                n = len(st.bidder_ids)
                rows[f"{name}: rounds' CPU / statements ({n} outbids)"] = f"{cpu:.0f} ms / {statements:.0f}"
                rows[f"{name}: CPU per outbid"] = f"{cpu / n:.3f} ms"
                if green:
                    rows[f"{name}: CPU on the hub's thread per outbid"] = f"{hub / n:.3f} ms"
                if profiler:
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
                    print(out.getvalue())

            scenario("nobody opted in", lambda: None)

            def opt_in() -> None:
                import base64
                import os

                from cryptography.hazmat.primitives.asymmetric import ec
                from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

                key = ec.generate_private_key(ec.SECP256R1())
                raw = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
                p256dh = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
                auth = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()

                def subscribe(session: Any) -> None:
                    ids = st.bidder_ids
                    session.execute(update(User).where(User.id.in_(ids)).values(email_verified_at=clock.now()))
                    for user_id in ids:
                        preferences.save(session, user_id, {}, while_watching=True)
                        push_area.subscribe(session, user_id, sink.url(user_id), p256dh, auth)

                db.transaction(subscribe)

            scenario("everyone opted in", opt_in, profile=args.profile)
            db.dispose()
    finally:
        sink.close()
    return report("the alerts round's CPU (no server)", f"{args.bidders} bidders, MariaDB, {args.runtime}", rows)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bidders", type=int, default=200)
    p.add_argument("--idle-rounds", type=int, default=200)
    p.add_argument("--profile", action="store_true", help="cProfile (CPU time) of the opted-in round")
    p.add_argument("--runtime", choices=["threading", "eventlet", "gevent"], default="threading")
    return p


if __name__ == "__main__":
    run(parser().parse_args())

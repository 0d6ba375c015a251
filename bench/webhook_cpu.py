"""POST /payment/webhook on its own: server CPU per delivery with no HTTP server, no hub and no tpool in the way.

The real app (`create_app`, the settings a bench server gets) on a fresh MariaDB database with PENDING top-ups
(as `bench.webhooks` makes them) takes N distinct PAYMENT_RECEIVED deliveries through Flask's test client,
one after another in this process, then the same N again (duplicates). Prints, for both phases, CPU per
delivery (process CPU-seconds / deliveries), statements per delivery and wall time per delivery, and with
`--profile` the functions that took the CPU (cProfile, by own time and by cumulative time).

The test client's own work (building the WSGI environ, reading the response) is part of the figure; `--bare`
measures it, with Flask's own per-request work, on a POST route that does nothing. The profile counts CPU
time (`time.process_time`), so waiting for the database does not show, only the work of sending and reading.

    python -m bench.webhook_cpu                 # 1,000 deliveries, then the same 1,000 again
    python -m bench.webhook_cpu --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import pstats
import shutil
import statistics
import tempfile
import time
from typing import Any

from auction import create_app
from auction.extensions import csrf
from bench.common import SECRET_KEY, WEBHOOK_TOKEN, audit_and_count, fresh_database, report, seed
from bench.webhooks import body, credits, known_payments

BLOCK = 100  # deliveries per CPU sample


def _quiet_logs(path: str) -> None:
    """The server writes its log lines to a file (bench.common.ServerProcess); so does this."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "_auction", False):
            handler.setStream(open(path, "a"))  # noqa: SIM115 - lives as long as the process


def _phase(client: Any, db: Any, bodies: list[str], profiler: cProfile.Profile | None) -> dict[str, Any]:
    """Post every body; CPU per delivery over all of them and per block of BLOCK (the machine is shared: the
    least loaded block is the steadiest figure)."""
    headers = {"asaas-access-token": WEBHOOK_TOKEN, "Content-Type": "application/json"}
    outcomes: dict[str, int] = {}
    blocks: list[float] = []
    statements = db.statements
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for start in range(0, len(bodies), BLOCK):
        block = bodies[start : start + BLOCK]
        block_cpu = time.process_time()
        for raw in block:
            response = client.post("/payment/webhook", data=raw, headers=headers)
            outcome = f"{response.status_code} {response.get_json().get('outcome')}"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        blocks.append(1000 * (time.process_time() - block_cpu) / len(block))
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = len(bodies)
    return {
        "cpu": 1000 * cpu / n,
        "blocks": f"median {statistics.median(blocks):.2f} ms, least {min(blocks):.2f} ms",
        "wall": 1000 * wall / n,
        "statements": (db.statements - statements) / n,
        "outcomes": ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())),
    }


def _add_noop_route(app: Any) -> None:
    """A POST route that answers at once (CSRF-exempt like the webhook), added before the first request."""

    def noop() -> Any:
        return {"outcome": "noop"}

    app.add_url_rule("/bench-noop", "bench_noop", csrf.exempt(noop), methods=["POST"])


def _bare_cpu(app: Any, count: int) -> float:
    """CPU per request of the test client and Flask alone: the same body posted to a route that does nothing."""
    client = app.test_client()
    raw = json.dumps(body("pay_bare"))
    cpu = time.process_time()
    for _ in range(count):
        client.post("/bench-noop", data=raw, headers={"asaas-access-token": WEBHOOK_TOKEN})
    return 1000 * (time.process_time() - cpu) / count


def run(args: Any) -> str:
    instance = tempfile.mkdtemp(prefix="bench-instance-")
    try:
        with fresh_database() as url:
            st = seed(url, bidders=args.users, auctions=0)
            warm = known_payments(url, st.bidder_ids, args.warmup)
            ids = known_payments(url, st.bidder_ids, args.deliveries)
            app = create_app(
                {
                    "DATABASE_URL": url,
                    "INSTANCE_PATH": instance,
                    "SECRET_KEY": SECRET_KEY,
                    "ASAAS_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
                    "RATE_LIMITS_ENABLED": "false",
                    "LOG_LEVEL": "INFO",
                    "DB_OFFLOAD": "none",
                }
            )
            _quiet_logs(f"{instance}/server.log")
            db = app.extensions["auction.db"]
            if args.bare:
                _add_noop_route(app)
            client = app.test_client()
            # Warm the pool, the statement caches and the buffer pool, both kinds of delivery.
            warm_bodies = [json.dumps(body(i)) for i in warm]
            _phase(client, db, warm_bodies, None)
            _phase(client, db, warm_bodies, None)
            bodies = [json.dumps(body(i)) for i in ids]
            first_profile = cProfile.Profile(time.process_time) if args.profile else None
            again_profile = cProfile.Profile(time.process_time) if args.profile else None
            first = _phase(client, db, bodies, first_profile)
            again = _phase(client, db, bodies, again_profile)
            bare = _bare_cpu(app, args.deliveries) if args.bare else None
            db.dispose()
            problems, _, _ = audit_and_count(url)
            credited = credits(url)
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    expected = args.deliveries + args.warmup
    rows = {
        "load": f"{args.deliveries} first deliveries, then the same again, one at a time (test client)",
        "first: CPU per delivery (this process)": f"{first['cpu']:.2f} ms",
        f"first: CPU per delivery, blocks of {BLOCK}": first["blocks"],
        "first: statements per delivery": f"{first['statements']:.2f}",
        "first: wall per delivery": f"{first['wall']:.2f} ms",
        "first: answers": first["outcomes"],
        "again: CPU per delivery (this process)": f"{again['cpu']:.2f} ms",
        f"again: CPU per delivery, blocks of {BLOCK}": again["blocks"],
        "again: statements per delivery": f"{again['statements']:.2f}",
        "again: wall per delivery": f"{again['wall']:.2f} ms",
        "again: answers": again["outcomes"],
        **({"test client + Flask, a no-op POST route: CPU per request": f"{bare:.2f} ms"} if bare is not None else {}),
        "wallet audit, credits": ("PASS" if not problems else f"FAIL {problems[:3]}")
        + f", {credited} (expected {expected})",
    }
    table = report("webhook CPU", f"deliveries={args.deliveries}, users={args.users}", rows)
    for name, profiler in (("first deliveries", first_profile), ("same again", again_profile)):
        if profiler:
            for order in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
                print(f"## {name}, by {order}\n{out.getvalue()}")
    return table


def parser() -> Any:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deliveries", type=int, default=1000)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--bare", action="store_true", help="also measure the test client and Flask on a no-op route")
    p.add_argument("--profile", action="store_true", help="cProfile both phases")
    p.add_argument("--top", type=int, default=40)
    return p


if __name__ == "__main__":
    run(parser().parse_args())

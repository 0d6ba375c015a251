"""Scenario 5, webhooks: N distinct Asaas PAYMENT_RECEIVED deliveries for N known top-ups, posted by C
concurrent senders as fast as POST /payment/webhook answers; then the same N again, which must all be
recognised as duplicates (and credit nothing more).

    python -m bench.webhooks                      # 2,000 deliveries, 16 concurrent senders
    python -m bench.webhooks --deliveries 500 --concurrency 8
    python -m bench.webhooks --servers 2            # two site processes, as deploy/ runs them behind nginx
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from auction import clock
from auction.db import Database
from auction.models import LedgerTransaction, Payment
from bench.common import (
    WEBHOOK_TOKEN,
    Monitor,
    Profiler,
    base_parser,
    describe,
    env_options,
    latency,
    report,
    resource_rows,
    run_loadgens,
    stack,
)

VALUE_CENTS = 10_000


def known_payments(url: str, user_ids: list[int], count: int) -> list[str]:
    """Top-ups as create_topup leaves them once Asaas has answered: PENDING, with Asaas's payment id."""
    ids = [f"pay_bench{uuid.uuid4().hex[:12]}" for _ in range(count)]

    def create(session: Any) -> None:
        now = clock.now()
        for i, asaas_id in enumerate(ids):
            row = Payment(
                user_id=user_ids[i % len(user_ids)],
                asaas_payment_id=asaas_id,
                value=VALUE_CENTS,
                status="PENDING",
                billing_type="PIX",
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            row.external_reference = f"topup-{row.id}"

    db = Database(url, pool_size=1)
    try:
        db.transaction(create)
    finally:
        db.dispose()
    return ids


def body(asaas_id: str) -> dict[str, Any]:
    value = VALUE_CENTS / 100
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "event": "PAYMENT_RECEIVED",
        "dateCreated": "2026-11-25 10:15:03",
        "payment": {
            "object": "payment",
            "id": asaas_id,
            "customer": "cus_000000000001",
            "value": value,
            "netValue": value,
            "billingType": "PIX",
            "status": "RECEIVED",
            "deleted": False,
        },
    }


def credits(url: str) -> int:
    db = Database(url, pool_size=1)
    try:
        return db.transaction(
            lambda s: s.scalar(
                select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.payment_id.is_not(None))
            )
        )
    finally:
        db.dispose()


def phase_rows(name: str, phase: dict[str, Any]) -> dict[str, str]:
    count = sum(phase["hist"].values())
    return {
        f"{name}: deliveries/s": f"{count / phase['seconds']:.0f} ({count} in {phase['seconds']:.1f}s)",
        f"{name}: latency": latency(phase["hist"]),
        f"{name}: answers": ", ".join(f"{k}: {v}" for k, v in sorted(phase["outcomes"].items())),
    }


def run(args: Any) -> str:
    env = env_options(args.env)
    with stack(args.server, bidders=args.users, auctions=0, servers_count=args.servers, **env) as st:
        assert st.db_url is not None
        ids = known_payments(st.db_url, st.seed.bidder_ids, args.deliveries)
        spec = {
            "urls": [f"{url}/payment/webhook" for url in st.urls],
            "token": WEBHOOK_TOKEN,
            "concurrency": args.concurrency,
            "bodies": [body(i) for i in ids],
        }
        monitor = Monitor(st.pids)
        # Both phases are profiled: the duration bounds py-spy, which stops early when the server is done.
        profiler = None
        if args.profile:
            profiler = Profiler(st.servers[0].pid, 60, idle=args.profile == "wall", hub_only=args.profile == "hub")
        try:
            start = profiler.start if profiler else None
            (result,) = run_loadgens([spec], monitor, module="bench.webhook_load", on_start=start)
        finally:
            monitor.close()
        audit, _, _ = st.audit()
        credited = credits(st.db_url)
        duplicates = sum(v for k, v in result["again"]["outcomes"].items() if k.endswith("duplicate"))
        share = 100 * duplicates / args.deliveries
        rows = {
            "offered load": f"closed loop, {args.concurrency} concurrent senders",
            **phase_rows("first delivery", result["first"]),
            **phase_rows("same deliveries again", result["again"]),
            "repeats recognised as duplicates": f"{duplicates} of {args.deliveries} ({share:.1f}%)",
            "wallet credits written": f"{credited} (expected {args.deliveries})",
            **resource_rows(monitor),
            "wallet audit": "PASS"
            if not audit and credited == args.deliveries
            else f"FAIL {audit[:3] if audit else ''}",
        }
        described = describe(args, deliveries=args.deliveries, concurrency=args.concurrency)
        table = report("webhooks", described, rows)
    if profiler is not None:
        profiler.report(f"webhooks {args.profile} {described}")
    return table


def parser() -> Any:
    p = base_parser(__doc__, procs=1)
    p.add_argument("--deliveries", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--users", type=int, default=50)
    return p


if __name__ == "__main__":
    run(parser().parse_args())

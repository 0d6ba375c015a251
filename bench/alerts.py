"""Alerts under load: the hot auction with every bidder opted in to e-mail and Web Push, then the same run
without alerts, then 10,000 queued e-mails drained to a local SMTP server.

    python -m bench.alerts                                  # 200 bidders, 10 s per run, 10,000 e-mails
    python -m bench.alerts --topology jobs --mails 0        # the round in a jobs process, as deployed
    python -m bench.alerts --bidders 20 --duration 3 --mails 200   # a quick check that it runs

Topology: `site` (the default) runs the alerts round inside the site process, as `./dev serve` does; `jobs`
runs the site with SCHEDULER_ENABLED=false and a second run.py with SERVE_SITE=false beside it, which leads
the jobs (the scheduler, the alerts round, the mail outbox) as deploy/'s units do. Both use the server's
ALERTS_INTERVAL (pass `--env ALERTS_INTERVAL=...` to change it).

What it reports (issue #32's targets: delivered p99 <= 5 s at the SMTP sink; 10,000 queued e-mails drain at
>= 100/s; the bid path's ack p99 and decisions/s within 10% of the run without alerts):
- outbid -> delivered latency at a local SMTP sink (aiosmtpd) and a local push endpoint (an HTTP server here),
  p50/p99: from each bidder's first outbid notification (its created_at) to the arrival of that bidder's first
  e-mail / push (later ones are held back by the throttle on purpose, ALERT_OUTBID_WINDOW);
- the throttling ratio: alerts sent per channel vs the outbid notifications (bids that outbid someone);
- ack p99 and decisions/s of the bid path, with alerts and without (ALERTS_INTERVAL=0: the alerts round is off);
- the drain rate of the mail outbox (the jobs process's mail round, in this process) to the SMTP sink.

Every bidder also watches the auction (the hot-auction scenario), so each one asks for alerts while watching
(else the round rightly skips them all as `watching_live`).
"""

from __future__ import annotations

import base64
import contextlib
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench.common import (
    SERVER_ARGV,
    Monitor,
    ServerProcess,
    base_parser,
    bidding_specs,
    describe,
    env_options,
    finish_bidding_run,
    free_port,
    fresh_database,
    percentile,
    report,
    run_loadgens,
    server_env,
    servers,
    stack,
)


class Arrivals:
    """Arrival time (epoch seconds) of the first message per recipient, and the count of all of them."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.count = 0
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)

    def arrived(self, who: str) -> None:
        with self.lock:
            self.count += 1
            self.first.setdefault(who, time.time())
            self.done.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.lock:
            return self.done.wait_for(lambda: self.count >= count, timeout)


class SmtpSink:
    def __init__(self) -> None:
        self.arrivals = Arrivals()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            self.arrivals.arrived(rcpt)
        return "250 OK"

    def settings(self) -> dict[str, str]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_SECURITY": "none"}


class PushSink:
    """Accepts every push (201) at /push/<user id>; the payload stays encrypted (the tests decrypt it)."""

    def __init__(self) -> None:
        self.arrivals = Arrivals()
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrivals.arrived(self.path.rsplit("/", 1)[-1])
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, user_id: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/push/{user_id}"


@contextlib.contextmanager
def sinks() -> Iterator[tuple[SmtpSink, PushSink]]:
    smtp, push = SmtpSink(), PushSink()
    smtp.controller.start()
    try:
        yield smtp, push
    finally:
        smtp.controller.stop()
        push.server.shutdown()


def opt_in(db_url: str, user_ids: list[int], push: PushSink) -> None:
    """Every bidder: a verified address, e-mail and push on (the defaults for outbid), alerts while watching,
    one push subscription."""
    from sqlalchemy import update

    from auction import clock
    from auction.alerts import preferences
    from auction.alerts import push as push_area
    from auction.db import Database
    from auction.models import User

    key = ec.generate_private_key(ec.SECP256R1())  # one browser key for all: encryption costs the same
    p256dh = base64.urlsafe_b64encode(key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
    auth = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()

    def subscribe(session: Any) -> None:
        # Alert e-mails go only to proven addresses: the bidders opened their verification links.
        session.execute(update(User).where(User.id.in_(user_ids)).values(email_verified_at=clock.now()))
        for user_id in user_ids:
            preferences.save(session, user_id, {}, while_watching=True)
            push_area.subscribe(session, user_id, push.url(user_id), p256dh.rstrip(b"=").decode(), auth)

    db = Database(db_url, pool_size=1)
    try:
        db.transaction(subscribe)
    finally:
        db.dispose()


def first_outbids(db_url: str) -> tuple[dict[int, float], int, dict[str, int]]:
    """Each user's first outbid notification (epoch seconds), all outbid notifications, deliveries by
    channel/status."""
    from sqlalchemy import func, select

    from auction.db import Database
    from auction.models import AlertDelivery, Notification

    db = Database(db_url, pool_size=1)
    try:
        firsts = db.transaction(
            lambda s: s.execute(
                select(Notification.user_id, func.min(Notification.created_at))
                .where(Notification.kind == "outbid")
                .group_by(Notification.user_id)
            ).all()
        )
        total = db.transaction(
            lambda s: s.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "outbid"))
        )
        statuses = db.transaction(
            lambda s: s.execute(
                select(AlertDelivery.channel, AlertDelivery.status, func.count()).group_by(
                    AlertDelivery.channel, AlertDelivery.status
                )
            ).all()
        )
    finally:
        db.dispose()
    epoch = {int(user_id): _utc(created).timestamp() for user_id, created in firsts}
    return epoch, int(total or 0), {f"{channel} {status}": int(n) for channel, status, n in statuses}


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def latencies(first_outbid: dict[int, float], arrivals: dict[str, float], key: Any) -> str:
    hist: dict[str, int] = {}
    for user_id, outbid_at in first_outbid.items():
        arrived = arrivals.get(key(user_id))
        if arrived is not None:
            bucket = str(max(1, round((arrived - outbid_at) * 10_000)))  # the 0.1 ms buckets of percentile()
            hist[bucket] = hist.get(bucket, 0) + 1
    if not hist:
        return "none arrived"
    p50, p99 = percentile(hist, 0.5), percentile(hist, 0.99)
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms ({sum(hist.values())} bidders)"


@contextlib.contextmanager
def jobs_process(args: Any, st: Any, env: dict[str, str]) -> Iterator[dict[str, int]]:
    """With `--topology jobs`, the jobs process deploy/ runs beside the site (SERVE_SITE=false, the scheduler
    and the alerts round in it, docs/deploy.md); the extra pids to monitor (none in the one-process topology)."""
    if args.topology != "jobs":
        yield {}
        return
    settings = server_env(st.db_url, **{**env, "SOCKETIO_ASYNC_MODE": args.server})
    settings |= {"SERVE_SITE": "false", "SCHEDULER_ENABLED": "true"}
    with servers([ServerProcess(env=settings, argv=SERVER_ARGV[args.server])]) as (jobs,):
        yield {"jobs": jobs.pid}


def hot_auction(args: Any, *, alerts: bool, smtp: SmtpSink, push: PushSink) -> tuple[dict[str, Any], str]:
    """One hot-auction run; returns the load generators' merged result and the printed table."""
    env = {**env_options(args.env), **smtp.settings(), "MAIL_DEV_INBOX": "false"}
    if not alerts:
        env["ALERTS_INTERVAL"] = "0"  # the round is off; with alerts, the setting's default (or --env)
    # One process: the site runs the jobs too (as `./dev serve`); jobs: the site runs none (deploy/'s units).
    site_env = {**env, "SCHEDULER_ENABLED": "false"} if args.topology == "jobs" else env
    with stack(args.server, bidders=args.bidders, auctions=1, **site_env) as st, jobs_process(args, st, env) as extra:
        if alerts:
            opt_in(st.db_url, st.seed.bidder_ids, push)
        monitor = Monitor({**st.pids, **extra})
        try:
            ids = st.seed.auction_ids
            specs = bidding_specs(
                st,
                procs=args.procs,
                watchers=dict.fromkeys(ids, 0),
                bidder_auctions=[ids[:1]] * args.bidders,
                mode="closed",
                duration=args.duration,
            )
            result = run_loadgens(specs, monitor)
        finally:
            monitor.close()
        if alerts:
            # The alerts of the run's last outbids are still on their way: give them the latency target's time.
            time.sleep(args.settle)
        name = "hot auction with alerts" if alerts else "hot auction without alerts"
        config = describe(args, bidders=args.bidders, topology=args.topology)
        table = finish_bidding_run(name, config, st, result, monitor, f"closed loop, {args.bidders} bidders")
        if alerts:
            firsts, outbids, statuses = first_outbids(st.db_url)
            rows = {
                "outbid notifications (bids that outbid someone)": outbids,
                "bidders outbid at least once": len(firsts),
                "e-mails received at the SMTP sink": smtp.arrivals.count,
                "pushes received at the push endpoint": push.arrivals.count,
                "throttling ratio (e-mails / outbids)": f"{smtp.arrivals.count / max(outbids, 1):.3f}",
                "throttling ratio (pushes / outbids)": f"{push.arrivals.count / max(outbids, 1):.3f}",
                "outbid -> e-mail at the SMTP sink": latencies(
                    firsts, smtp.arrivals.first, lambda uid: f"bidder{st.seed.bidder_ids.index(uid)}@bench.example"
                ),
                "outbid -> push at the push endpoint": latencies(firsts, push.arrivals.first, str),
                "alert deliveries (channel status: count)": ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
            }
            table += "\n" + report("alert delivery during the hot auction", config, rows)
        return result, table


def drain(count: int, smtp: SmtpSink) -> str:
    """Queue `count` e-mails in the mail outbox, then time the jobs' mail rounds sending them to the sink."""
    from auction import create_app
    from auction.entrypoints import jobs
    from auction.mail import queue_mail

    with fresh_database("auction_bench_mail") as url:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "SCHEDULER_ENABLED": False,
                "MAIL_DEV_INBOX": False,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": smtp.port,
                "SMTP_SECURITY": "none",
                "DB_OFFLOAD": "none",
            }
        )
        db = app.extensions["auction.db"]

        def queue(session: Any, start: int, end: int) -> None:
            for i in range(start, end):
                context = {"title": "Seu lance foi superado", "body": f"Mensagem {i}", "link": "/"}
                context |= {"preferences": "/account/alerts", "unsubscribe": "/", "kind_label": "Lance superado"}
                queue_mail(session, to=f"drain{i}@bench.example", template="alert", locale="pt_BR", context=context)

        for start in range(0, count, 500):
            db.transaction(queue, start, min(count, start + 500))
        before = smtp.arrivals.count
        began = time.monotonic()
        with app.app_context():
            while smtp.arrivals.count - before < count and time.monotonic() - began < 600:
                if not jobs.run_mail_round(app).sent:
                    break
        seconds = time.monotonic() - began
        sent = smtp.arrivals.count - before
        db.dispose()
    rows = {
        "e-mails queued / received": f"{count} / {sent}",
        "drain time": f"{seconds:.1f} s",
        "drain rate": f"{sent / max(seconds, 1e-9):.0f} e-mails/s",
    }
    return report("mail outbox drain", f"{count} e-mails to a local SMTP server", rows)


def run(args: Any) -> None:
    with sinks() as (smtp, push):
        with_alerts, _ = hot_auction(args, alerts=True, smtp=smtp, push=push)
        without, _ = hot_auction(args, alerts=False, smtp=smtp, push=push)
        ratio = {}
        for name, result in (("with alerts", with_alerts), ("without alerts", without)):
            seconds = result["load_seconds"] or 1
            ratio[f"decisions/s {name}"] = f"{result['acks'] / seconds:.0f}"
            ratio[f"ack p99 {name}"] = f"{percentile(result['ack_hist'], 0.99):.0f} ms"
        report("bid path with and without alerts", describe(args, bidders=args.bidders, topology=args.topology), ratio)
        if args.mails:
            drain(args.mails, smtp)


def parser() -> Any:
    p = base_parser(__doc__, procs=1)
    p.add_argument("--bidders", type=int, default=200)
    p.add_argument("--mails", type=int, default=10_000, help="e-mails for the outbox drain (0: skip it)")
    p.add_argument("--settle", type=float, default=5.0, help="seconds to wait for the last alerts after the load")
    p.add_argument(
        "--topology",
        choices=["site", "jobs"],
        default="site",
        help="site: the alerts round in the site process (./dev serve); jobs: in a jobs process beside it (deploy/)",
    )
    return p


if __name__ == "__main__":
    run(parser().parse_args())

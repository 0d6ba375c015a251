"""Periodic jobs that run inside the server process (green threads on a green runtime): the auction
scheduler here, reconciliation (payments) and the watcher-count refresh (sockets/presence.py).

Each job is a function of the app that does one round of work; a failing round is
logged and retried on the next tick, so a database outage never kills the loop. A round may return when its job
next has work due (the scheduler: the next auction's end); its loop then sleeps until that moment, never longer
than the job's interval (`pause_before_round`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FunctionType, ModuleType
from typing import Any

from flask import Flask

from .. import clock, runtime, wallet
from ..auctions import closing, listing, second_chance
from ..db import Database
from ..extensions import get_asaas, socketio
from ..mail import sender
from ..orders import service as order_service
from ..payments import balance
from ..payments.events import CreditPolicy
from ..payments.levels import Applied
from ..payments.links import resolve_payers
from ..payments.reconcile import Reconcile, reconcile
from ..payouts import reconcile as transfer_reconcile
from . import metrics
from .leader import Leadership, lease_for
from .shutdown import DRAIN, ShuttingDown
from .usecases import database, perform, read

log = logging.getLogger(__name__)

# A round of a job; it may return when the job next has work due (None: at its interval).
Job = Callable[[Flask], datetime | None]
# Seconds between a follower's looks at whether it leads now (a flag; the lease itself is renewed by _lead).
FOLLOWER_STEP = 0.1
# A round due at a moment starts this much after it: a wake-up a hair early would find nothing due yet.
LANDING = 0.002
# (name, config key of its interval in seconds, job, runs in every serving process)
Periodic = tuple[str, str, Job, bool]
# The attribute `periodic` leaves on a job; `jobs_of` reads it.
PERIODIC = "periodic_job"


def periodic(name: str, interval_key: str, *, every_process: bool = False) -> Callable[[Job], Job]:
    """Mark `fn(app)` to run every `app.config[interval_key]` seconds, once create_app lists its module
    (`jobs_of`, into app.extensions["auction.jobs"]).

    A site-wide job (the scheduler, reconciliation) runs only in the one process leading (leader.py) among
    those with SCHEDULER_ENABLED on (the jobs processes in deploy/); an `every_process` job looks after the
    process's own sockets and runs in all.
    """

    def mark(fn: Job) -> Job:
        setattr(fn, PERIODIC, (name, interval_key, fn, every_process))
        return fn

    return mark


def jobs_of(*modules: ModuleType) -> list[Periodic]:
    """Every job marked with `periodic` in `modules`, in the order they are defined."""
    found: list[Periodic] = []
    for module in modules:
        for value in vars(module).values():
            # type(), not getattr on everything: a module's Flask proxies need a context.
            if type(value) is FunctionType and getattr(value, PERIODIC, None) is not None:
                found.append(getattr(value, PERIODIC))
    return found


def pause_before_round(now: datetime, next_due: datetime | None, interval: float) -> float:
    """Seconds to sleep before a job's next round: until `next_due` (and LANDING past it), never longer than the
    job's `interval` and never negative. Without a moment due, the interval: an idle site polls no faster than it."""
    if next_due is None:
        return interval
    return min(interval, max(0.0, (next_due - now).total_seconds()) + LANDING)


def _loop(app: Flask, name: str, interval_key: str, job: Job, leadership: Leadership | None) -> None:
    interval = float(app.config[interval_key])
    while True:
        if leadership is not None and not leadership.leading:
            runtime.current().sleep(FOLLOWER_STEP)
            continue
        next_due = None
        try:
            with DRAIN.work(), app.app_context():
                next_due = job(app)
        except ShuttingDown:
            return
        except Exception:
            log.exception("event=background_job_failed job=%s", name)
        runtime.current().sleep(pause_before_round(clock.now(), next_due, interval))


def _lead(app: Flask, leadership: Leadership) -> None:
    """Keep or take the lease every JOBS_LEASE_INTERVAL (its query runs off the hub, like a unit of work) until the
    process drains (SIGTERM): then give it up, so a follower leads while this one finishes its round and exits."""
    db: Database = app.extensions["auction.db"]
    interval = float(app.config["JOBS_LEASE_INTERVAL"])
    while not DRAIN.draining:
        metrics.leader_changed(db.offloaded(leadership.renew))
        runtime.current().sleep(interval)
    db.offloaded(leadership.resign)
    metrics.leader_changed(False)


def start_background_tasks(app: Flask) -> Leadership | None:
    """Start this process's job loops; with SCHEDULER_ENABLED, also its bid for the lease (leader.py), which
    the site-wide jobs wait for. The process's Leadership, or None where it runs no site-wide job."""
    leadership = None
    if app.config["SCHEDULER_ENABLED"]:
        leadership = Leadership(lease_for(app.extensions["auction.db"], int(app.config["JOBS_LEASE_TIMEOUT"])))
        app.extensions["auction.leadership"] = leadership
        socketio.start_background_task(_lead, app, leadership)
    for name, interval_key, job, every_process in app.extensions["auction.jobs"]:
        if not (every_process or leadership):
            continue
        if float(app.config[interval_key]) > 0:
            socketio.start_background_task(_loop, app, name, interval_key, job, None if every_process else leadership)
            log.info("event=background_job_started job=%s every=%ss", name, app.config[interval_key])
    return leadership


# -- the auction scheduler ------------------------------------------------------------------
# Opens, finishes and announces auctions on time, with nobody connected. It runs in the leading jobs
# process; each step is also decided in the database (a conditional UPDATE or a locked row), so even
# two processes at once open, finish and announce every auction exactly once. Its first round runs
# as a process starts leading, which finishes auctions that ended while no process led. A round ends by
# reading the next open auction's end, and the next round starts at that end (at the latest SCHEDULER_INTERVAL
# later): an auction closes at its end, not up to an interval after it (docs/architecture.md, "When the jobs run").


@periodic("auction_scheduler", "SCHEDULER_INTERVAL")
def run_scheduler(app: Flask) -> datetime | None:
    """One round: open due auctions, send ending-soon notices, finish due auctions; the next open auction's end."""
    for auction_id in perform(listing.open_due):
        log.info("event=auction_opened auction_id=%s", auction_id)
    for auction_id in perform(closing.send_ending_soon, app.config["ENDING_SOON_SECONDS"]):
        log.info("event=auction_ending_soon auction_id=%s", auction_id)
    for auction_id in read(closing.due_auction_ids):
        try:
            outcome = perform(closing.finish_if_due, auction_id, fee_bps=app.config["PLATFORM_FEE_BPS"])
        except Exception:
            # One broken auction must not stop the others from finishing; it is retried next round.
            log.exception("event=auction_finish_failed auction_id=%s", auction_id)
            continue
        if outcome is not None:
            log.info(
                "event=auction_finished auction_id=%s winner_id=%s amount=%s reserve_met=%s by=scheduler",
                auction_id,
                outcome.winner_id,
                outcome.amount,
                outcome.reserve_met,
            )
    return read(closing.next_end)


# -- reconciliation --------------------------------------------------------------------------
# Asaas's webhooks are the source of truth; this round re-reads the payments whose check is due (a backoff
# per payment, within a request budget), for deliveries that were missed or a paused queue, and looks up the
# payers the webhook could not match (docs/payments.md, "Reconciliation").


def reconcile_command(app: Flask) -> Reconcile:
    return Reconcile(
        policy=CreditPolicy.from_config(app.config),
        budget=app.config["ASAAS_RECONCILE_BUDGET"],
        interval=float(app.config["RECONCILE_INTERVAL"] or 60),
        expire_after=timedelta(hours=app.config["TOPUP_EXPIRE_HOURS"]),
    )


def run_reconcile(app: Flask) -> list[Applied]:
    """One reconciliation round (each payment's socket updates go out as its unit of work commits)."""
    command = reconcile_command(app)
    results = reconcile(database(), get_asaas(), command)
    results += resolve_payers(database(), get_asaas(), command.policy)
    corrected = sum(1 for r in results if r.corrected)
    log.info("event=reconcile_round checked=%d corrected=%d", len(results), corrected)
    return results


@periodic("payments_reconcile", "RECONCILE_INTERVAL")
def reconcile_job(app: Flask) -> None:
    run_reconcile(app)


# -- orders and withdrawals --------------------------------------------------------------------
# Shipped orders nobody confirmed or disputed are released to the seller when due (each under the
# order's row lock, so exactly once with several processes), and second-chance offers past their 48 hours
# expire (under the auction's row lock, so never after an accept); withdrawals never sent, or whose transfer
# is not final, are looked up at Asaas (a lost answer is never re-sent blindly).


def run_order_release(app: Flask) -> int:
    within = timedelta(hours=app.config["ORDER_RELEASE_REMINDER_HOURS"])
    for order_id in perform(order_service.remind_release, within):
        log.info("event=order_release_reminded order_id=%s", order_id)
    for offer_id in perform(second_chance.expire_due):
        log.info("event=second_chance_expired offer_id=%s", offer_id)
    released = 0
    for order_id in read(order_service.due_order_ids):
        try:
            released += perform(order_service.release_if_due, order_id)
        except Exception:
            log.exception("event=order_release_failed order_id=%s", order_id)
    if released:
        log.info("event=orders_released count=%d", released)
    return released


@periodic("orders_release", "ORDER_JOBS_INTERVAL")
def order_release_job(app: Flask) -> None:
    run_order_release(app)


@periodic("transfers_reconcile", "TRANSFER_RECONCILE_INTERVAL")
def transfer_reconcile_job(app: Flask) -> None:
    changed = transfer_reconcile.reconcile(database(), get_asaas())
    log.info("event=transfer_reconcile_round changed=%d", changed)


# -- the ledger against the Asaas account ------------------------------------------------------------
# Daily: the balance and the statement of the last BALANCE_CHECK_DAYS compared with the ledger; admins alerted.


def run_balance_check(app: Flask) -> balance.BalanceCheck:
    today = clock.now().date()
    since = today - timedelta(days=app.config["BALANCE_CHECK_DAYS"])
    result = balance.check(database(), get_asaas(), since, today)
    if not result.ok:
        perform(balance.alert, result)
    return result


@periodic("balance_check", "BALANCE_CHECK_INTERVAL")
def balance_check_job(app: Flask) -> None:
    run_balance_check(app)


# -- the wallet audit ------------------------------------------------------------------------------
# `flask wallet audit` on a timer, so a ledger that stops balancing pages someone (metrics: wallet audit problems).


@periodic("wallet_audit", "WALLET_AUDIT_INTERVAL")
def wallet_audit_job(app: Flask) -> None:
    problems = read(wallet.audit)
    metrics.wallet_audited(len(problems))
    if problems:
        log.error("event=wallet_audit problems=%d first=%s", len(problems), problems[0])
    else:
        log.info("event=wallet_audit problems=0")


# -- mail ------------------------------------------------------------------------------------------
# The outbox's messages go out from here (auction/mail/sender.py: claim, send, mark; retried with back-off).


def mail_transport(config: Any) -> sender.SmtpTransport | sender.DevInbox | None:
    """SMTP when SMTP_HOST is set; the development inbox without it; nothing in production without it."""
    if config["SMTP_HOST"]:
        return sender.SmtpTransport(sender.SmtpSettings.from_config(config))
    return sender.DevInbox() if config["MAIL_DEV_INBOX"] else None


def run_mail_round(app: Flask) -> sender.Round:
    transport = mail_transport(app.config)
    if transport is None:
        log.warning("event=mail_not_sent reason=no_SMTP_HOST_in_production")
        return sender.Round()
    policy = sender.RetryPolicy(
        max_attempts=app.config["MAIL_MAX_ATTEMPTS"], base=timedelta(seconds=app.config["MAIL_RETRY_SECONDS"])
    )
    outcome = sender.send_due(database(), transport, app.config["MAIL_FROM"], policy)
    if outcome.sent or outcome.failed or outcome.dead:
        log.info("event=mail_round sent=%d failed=%d dead=%d", outcome.sent, outcome.failed, outcome.dead)
    return outcome


@periodic("mail_outbox", "MAIL_SEND_INTERVAL")
def mail_job(app: Flask) -> None:
    run_mail_round(app)

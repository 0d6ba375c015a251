"""The Asaas API quota: 25,000 requests per 12 h per account "regardless of the endpoint", reported by no header.

Asaas's `RateLimit-Limit`/`-Remaining`/`-Reset` headers are a different thing: the limit of the endpoint just
called (e.g. 100 per window), so they say nothing about the 12-hour quota (docs.asaas.com, API limits). The quota
is therefore counted from our own requests: `QuotaMeter` is told about every response (AsaasClient.meter) and
counts it in the current 12-hour window (`asaas_api_usage`, shared by every server process through the
database), keeping the last endpoint headers only for the admin page and, after a 429, the time Asaas said to
wait. Reconciliation spends only its share, `ASAAS_RECONCILE_BUDGET` requests per 12 h (`round_allowance`), and
nothing once our own count nears the quota; the client backs off per endpoint (AsaasClient.blocked).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from .. import clock
from ..db import Database, lock_row
from ..models import AsaasApiUsage

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=12)
ASAAS_QUOTA = 25_000  # per WINDOW per account (docs.asaas.com: API limits)
# Past this share of the quota (our own count) reconciliation stops: what is left is for top-ups and withdrawals.
QUOTA_RESERVE = 0.9


def window_start(now: datetime) -> datetime:
    """The 12-hour window `now` falls in (00:00-12:00, 12:00-24:00 UTC)."""
    return now.replace(hour=0 if now.hour < 12 else 12, minute=0, second=0, microsecond=0)


def _observe(session: Session, status: int, limit: int | None, remaining: int | None, reset: float | None) -> None:
    now = clock.now()
    start = window_start(now)
    row = lock_row(session, AsaasApiUsage, AsaasApiUsage.window_start == start)
    if row is None:
        row = AsaasApiUsage(window_start=start, requests=0, rate_limited=0, updated_at=now)
        session.add(row)
    row.requests += 1
    row.last_limit = limit if limit is not None else row.last_limit
    row.last_remaining = remaining if remaining is not None else row.last_remaining
    if status == 429:
        row.rate_limited += 1
        row.blocked_until = now + timedelta(seconds=reset or 60)
    row.updated_at = now


@dataclass
class QuotaMeter:
    db: Database

    def observed(self, *, status: int, limit: int | None, remaining: int | None, reset: float | None) -> None:
        self.db.transaction(_observe, status, limit, remaining, reset)


@dataclass(frozen=True)
class Usage:
    window_start: datetime
    requests: int
    rate_limited: int
    last_limit: int | None
    last_remaining: int | None
    blocked_until: datetime | None
    budget: int  # ASAAS_RECONCILE_BUDGET

    @property
    def percent_of_quota(self) -> int:
        return round(100 * self.requests / ASAAS_QUOTA)

    @property
    def blocked(self) -> bool:
        return self.blocked_until is not None and self.blocked_until > clock.now()


def usage(session: Session, budget: int) -> Usage:
    """This window's meter (the admin page)."""
    start = window_start(clock.now())
    row = session.get(AsaasApiUsage, start)
    if row is None:
        return Usage(start, 0, 0, None, None, None, budget)
    return Usage(start, row.requests, row.rate_limited, row.last_limit, row.last_remaining, row.blocked_until, budget)


def round_allowance(session: Session, budget: int, interval_seconds: float) -> int:
    """How many requests one reconciliation round may make: its share of the 12-h budget, less what this
    window has already used beyond its pro-rata share, and nothing while Asaas is refusing requests."""
    now = clock.now()
    current = usage(session, budget)
    if current.blocked:
        return 0
    if current.requests >= ASAAS_QUOTA * QUOTA_RESERVE:
        return 0  # the account is nearly out: leave what is left to top-ups and withdrawals
    per_round = max(1, int(budget * interval_seconds / WINDOW.total_seconds()))
    elapsed = (now - current.window_start).total_seconds() / WINDOW.total_seconds()
    ahead = current.requests - int(budget * elapsed)
    return max(0, min(per_round, budget - current.requests, per_round - max(0, ahead)))

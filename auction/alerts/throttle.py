"""The throttling rule, pure: when a new alert of a throttled kind (outbid) for one user, auction and channel
is sent, or whether it joins the one already waiting.

At most one alert per `window` per (user, kind, auction, channel): the first goes at once; one that comes
sooner waits until `window` after the last one sent, and every later one before that moment replaces its
text, so the alert that goes carries the latest price. A bidder outbid 30 times in a bidding war hears it
once at the start and once, with the final price, `window` later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Plan:
    due_at: datetime
    # True: replace the text of the alert already waiting (due at `due_at`) instead of adding one.
    merge: bool


def plan(now: datetime, window: timedelta, *, last_sent_at: datetime | None, waiting_due_at: datetime | None) -> Plan:
    """The plan for a new alert, given when the last one was sent and when the one waiting (if any) is due."""
    if waiting_due_at is not None:
        return Plan(waiting_due_at, merge=True)
    if last_sent_at is None or now - last_sent_at >= window:
        return Plan(now, merge=False)
    return Plan(last_sent_at + window, merge=False)

"""Staggered closing of a sale event's lots: when each lot closes, and how a late bid pushes the lots after it.

The rule (docs/events.md states it the same way, tests/test_staggering.py checks it with Hypothesis):

- **Schedule**: lot n (numbered from 1) closes at `first_close + (n - 1) * interval`.
- **Gap invariant**: each open lot closes no earlier than the open lot before it plus `interval`.
- **Extension**: a late bid moves its own lot's close to E (the soft-close rule of `rules.extended_end`);
  the lots before it do not move, and each open lot after it, in lot order, moves to
  `max(its close, the previous lot's new close + interval)`: the least push that keeps the invariant.
  So no lot ever closes earlier than it was going to, the order of closing never changes, and the push
  stops at the first lot already late enough (the rest were late enough before and stay put).

Pure: no database, no clock (the architecture's import contract for rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def scheduled_close(first_close: datetime, interval: timedelta, lot_number: int) -> datetime:
    """When lot `lot_number` (1, 2, ...) closes if no bid extends anything."""
    if lot_number < 1:
        raise ValueError("lot numbers start at 1")
    return first_close + (lot_number - 1) * interval


def pushed(previous_close: datetime, later: Sequence[tuple[int, datetime]], interval: timedelta) -> dict[int, datetime]:
    """The new closes of the lots after an extended one: `later` is (lot id, close) in lot order, the open lots
    after the lot that now closes at `previous_close`. Only the lots that move are returned."""
    moved: dict[int, datetime] = {}
    for lot_id, close in later:
        earliest = previous_close + interval
        if close >= earliest:
            break  # this lot and, by the invariant, every lot after it are late enough already
        moved[lot_id] = earliest
        previous_close = earliest
    return moved

"""The staggered-closing rule of sale events (auctions/staggering.py, docs/events.md), with Hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.auctions import staggering

FIRST = datetime(2026, 12, 20, 20, 0, tzinfo=UTC)


def test_lot_n_closes_interval_after_lot_n_minus_one():
    interval = timedelta(seconds=60)
    assert [staggering.scheduled_close(FIRST, interval, n) for n in (1, 2, 3)] == [
        FIRST,
        FIRST + interval,
        FIRST + 2 * interval,
    ]
    with pytest.raises(ValueError):
        staggering.scheduled_close(FIRST, interval, 0)


@st.composite
def events(draw):
    """An event's closes obeying the gap invariant (the schedule plus earlier pushes), a lot that a late bid
    extends, and its new end."""
    interval = timedelta(seconds=draw(st.integers(1, 600)))
    slack = draw(st.lists(st.integers(0, 900), min_size=1, max_size=40))
    closes, previous = [], FIRST - interval
    for extra in slack:
        previous = previous + interval + timedelta(seconds=extra)
        closes.append(previous)
    index = draw(st.integers(0, len(closes) - 1))
    new_end = closes[index] + timedelta(seconds=draw(st.integers(1, 3_600)))
    return interval, closes, index, new_end


def apply(interval, closes, index, new_end):
    later = [(lot, closes[lot]) for lot in range(index + 1, len(closes))]
    moved = staggering.pushed(new_end, later, interval)
    after = list(closes)
    after[index] = new_end
    for lot, close in moved.items():
        after[lot] = close
    return after, moved


@given(events())
def test_an_extension_keeps_the_order_and_the_gap(case):
    interval, closes, index, new_end = case
    after, _ = apply(interval, closes, index, new_end)
    assert sorted(range(len(after)), key=lambda lot: (after[lot], lot)) == list(range(len(after)))
    assert all(after[lot] >= after[lot - 1] + interval for lot in range(1, len(after)))


@given(events())
def test_no_lot_closes_earlier_and_lots_before_do_not_move(case):
    interval, closes, index, new_end = case
    after, _ = apply(interval, closes, index, new_end)
    assert all(new >= old for new, old in zip(after, closes, strict=True))
    assert after[:index] == closes[:index]


@given(events())
def test_the_push_is_the_least_that_keeps_the_gap(case):
    """Each moved lot closes exactly one interval after the lot before it; the first lot already late enough and
    every lot after it stay where they were."""
    interval, closes, index, new_end = case
    after, moved = apply(interval, closes, index, new_end)
    assert all(after[lot] == after[lot - 1] + interval for lot in moved)
    assert list(moved) == list(range(index + 1, index + 1 + len(moved)))
    assert after[index + 1 + len(moved) :] == closes[index + 1 + len(moved) :]

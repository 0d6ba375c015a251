"""When the auction scheduler's next round starts: at the next open auction's end, at the latest an interval on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from auction import clock, runtime
from auction.auctions import closing, listing
from auction.entrypoints import jobs
from auction.entrypoints.jobs import LANDING, pause_before_round
from auction.entrypoints.leader import Alone, Leadership
from tests.support.auctions import new_auction

NOW = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
intervals = st.floats(min_value=0.05, max_value=600, allow_nan=False)
offsets = st.floats(min_value=-3600, max_value=3600, allow_nan=False)


@given(interval=intervals, offset=offsets)
def test_the_round_starts_at_the_next_end_but_never_later_than_an_interval_on(interval, offset):
    next_due = NOW + timedelta(seconds=offset)
    pause = pause_before_round(NOW, next_due, interval)
    assert 0 <= pause <= interval
    if 0 <= offset <= interval - LANDING:
        # Woken just after the end: on time, and late by no more than the landing margin.
        assert pause - offset == pytest.approx(LANDING, abs=1e-6)  # timedelta keeps microseconds
    elif offset > interval:
        assert pause == interval
    elif offset < 0:
        assert pause == LANDING  # overdue: straight away, a round finishes it


@given(interval=intervals)
def test_with_nothing_ahead_the_round_waits_its_interval(interval):
    """An idle site polls no faster than it did when every round was an interval apart."""
    assert pause_before_round(NOW, None, interval) == interval


def test_the_next_end_is_the_earliest_open_auction_still_ahead(db, make_user):
    seller = make_user()
    assert db.transaction(closing.next_end) is None
    later = new_auction(db, seller, seconds=90)
    sooner = new_auction(db, seller, seconds=30)
    new_auction(db, seller, seconds=5, starts_in=60)  # scheduled: its end is a round that opens it away
    cancelled = new_auction(db, seller, seconds=10)
    admin = make_user(is_admin=True)
    db.run(lambda uow: listing.cancel(uow, cancelled, admin))

    def end_of(auction_id: int) -> datetime:
        return db.transaction(lambda s: s.get(closing.Auction, auction_id).ends_at)

    assert db.transaction(closing.next_end) == end_of(sooner)
    clock.advance(timedelta(seconds=31))  # `sooner` is due now (not yet finished): the next end is the later one
    assert db.transaction(closing.next_end) == end_of(later)


class Stop(BaseException):
    """Ends a job loop from its sleep (a BaseException: the loop logs and survives an Exception from a round)."""


def test_the_loop_sleeps_until_what_a_round_names_and_only_the_leader_runs_rounds(monkeypatch):
    """`_loop` itself: a round's next moment shortens the sleep, a round naming nothing (or failing) sleeps the
    interval, and a follower never runs a round."""
    sleeps: list[float] = []
    rounds = iter([clock.now() + timedelta(seconds=0.3), None, RuntimeError("database down")])

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            raise Stop

    ran: list[int] = []

    def job(_app: Flask) -> datetime | None:
        ran.append(1)
        outcome = next(rounds)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(runtime.current(), "sleep", sleep)
    app = Flask(__name__)
    app.config["SCHEDULER_INTERVAL"] = 5.0
    leader = Leadership(Alone())
    leader.renew()
    with pytest.raises(Stop):
        jobs._loop(app, "auction_scheduler", "SCHEDULER_INTERVAL", job, leader)
    assert 0.25 < sleeps[0] <= 0.3 + LANDING and sleeps[1:] == [5.0, 5.0]

    sleeps.clear()
    ran.clear()
    follower = Leadership(Alone())  # never renewed: not leading
    with pytest.raises(Stop):
        jobs._loop(app, "auction_scheduler", "SCHEDULER_INTERVAL", job, follower)
    assert sleeps == [jobs.FOLLOWER_STEP] * 3 and ran == []

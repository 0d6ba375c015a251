"""The alert rules without a database: the throttle (Hypothesis) and the catalogue's defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from auction.alerts import catalogue, throttle
from auction.alerts.catalogue import Channel
from auction.alerts.deliveries import backoff

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)


def simulate(offsets: list[float], window: timedelta) -> list[tuple[datetime, int]]:
    """Feed outbid events (seconds after START, each carrying its own index as the 'price') through the
    throttle the way the dispatcher and the delivery round do: a waiting alert goes at its due time; returns
    what was sent (when, which event's price)."""
    sent: list[tuple[datetime, int]] = []
    waiting: tuple[datetime, int] | None = None
    for index, offset in enumerate(sorted(offsets)):
        now = START + timedelta(seconds=offset)
        if waiting is not None and waiting[0] <= now:
            sent.append(waiting)
            waiting = None
        decision = throttle.plan(
            now, window, last_sent_at=sent[-1][0] if sent else None, waiting_due_at=waiting[0] if waiting else None
        )
        if decision.merge:
            assert waiting is not None and decision.due_at == waiting[0]
            waiting = (waiting[0], index)
        elif decision.due_at <= now:
            sent.append((now, index))
        else:
            waiting = (decision.due_at, index)
    if waiting is not None:
        sent.append(waiting)
    return sent


offsets = st.lists(st.floats(min_value=0, max_value=7200, allow_nan=False), min_size=1, max_size=60)


@given(offsets)
@settings(max_examples=150, deadline=None)
def test_alerts_are_at_least_a_window_apart(events: list[float]) -> None:
    sent = simulate(events, WINDOW)
    assert all(b[0] - a[0] >= WINDOW for a, b in pairwise(sent))


@given(offsets)
@settings(max_examples=150, deadline=None)
def test_no_outbid_is_lost_and_the_last_alert_carries_the_latest_price(events: list[float]) -> None:
    sent = simulate(events, WINDOW)
    assert sent[-1][1] == len(events) - 1
    times = sorted(START + timedelta(seconds=e) for e in events)
    # Every event is told by an alert sent at or after it, carrying that event's price or a later one.
    for index, moment in enumerate(times):
        assert any(at >= moment and price >= index for at, price in sent)
    # And an alert never carries a price from the future.
    for at, price in sent:
        assert times[price] <= at


@given(offsets)
@settings(max_examples=150, deadline=None)
def test_at_most_one_alert_per_window_plus_one(events: list[float]) -> None:
    sent = simulate(events, WINDOW)
    span = max(events) - min(events)
    assert len(sent) <= int(span // WINDOW.total_seconds()) + 2


@given(st.lists(st.floats(min_value=0, max_value=599, allow_nan=False), min_size=30, max_size=30))
def test_a_bidding_war_of_thirty_outbids_in_ten_minutes_sends_one_or_two(events: list[float]) -> None:
    assert 1 <= len(simulate(events, WINDOW)) <= 2


def test_defaults_outbid_and_won_by_email_and_push_ending_soon_by_push_only() -> None:
    outbid, won, ending = (catalogue.BY_KEY[k] for k in ("outbid", "won", "ending_soon"))
    assert catalogue.enabled(outbid, Channel.EMAIL, {}) and catalogue.enabled(outbid, Channel.PUSH, {})
    assert catalogue.enabled(won, Channel.EMAIL, {}) and catalogue.enabled(won, Channel.PUSH, {})
    assert not catalogue.enabled(ending, Channel.EMAIL, {}) and catalogue.enabled(ending, Channel.PUSH, {})


def test_a_choice_overrides_the_default_but_security_notices_stay_on() -> None:
    outbid, security = catalogue.BY_KEY["outbid"], catalogue.BY_KEY["security"]
    assert not catalogue.enabled(outbid, Channel.EMAIL, {("outbid", "email"): False})
    assert catalogue.enabled(security, Channel.EMAIL, {("security", "email"): False})


def test_every_notification_kind_belongs_to_one_alert_kind_at_most() -> None:
    seen = [n for kind in catalogue.KINDS for n in kind.notification_kinds]
    assert len(seen) == len(set(seen))
    assert catalogue.alert_kind("win").key == "won" and catalogue.alert_kind("auction_result") is None


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(20) == timedelta(hours=1)


def test_max_reached_only_when_others_bid_the_leader_up_to_their_maximum() -> None:
    from auction.auctions.batch import max_reached
    from auction.auctions.rules import AuctionState

    def state(price: int | None, leader: int | None, maximum: int | None) -> AuctionState:
        return AuctionState(1_000, None, None, current_price=price, leader_id=leader, leader_max=maximum)

    assert max_reached(state(1_000, 1, 2_000), state(2_000, 1, 2_000)) == 1
    assert max_reached(state(1_000, 1, 2_000), state(1_500, 1, 2_000)) is None  # still room
    assert max_reached(state(1_000, 1, 2_000), state(2_100, 2, 3_000)) is None  # outbid instead
    assert max_reached(state(None, None, None), state(1_000, 1, 1_000)) is None  # a plain first bid
    assert max_reached(state(2_000, 1, 2_000), state(2_000, 1, 2_000)) is None  # told already

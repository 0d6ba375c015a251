"""The proxy-bid rules without a database: Hypothesis folds random bids through `decide`; examples pin numbers.

The properties state the eBay rules in terms of the whole bid history (the
highest and second-highest maxima seen so far), not in terms of the previous
state the implementation looks at, so they check the decision rather than
restate it. The examples repeat the scenarios of tests/test_bidding.py with the
same numbers, so the pure rules and the database behaviour cannot drift apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.auctions.rules import (
    AuctionState,
    Decision,
    RecordedBid,
    TooLow,
    band_increment,
    decide,
    extended_end,
)
from auction.money import Cents

ANA, BIA, CAIO, DORA = 1, 2, 3, 4
TIE, AT_RESERVE = -1, -2  # in a bid plan: offer exactly the leader's maximum, or exactly the reserve

# No example database: runs save nothing into the shared tree; 300 examples a property keep the file near a second.
fast = settings(max_examples=300, deadline=None, database=None)


@dataclass(frozen=True)
class Step:
    """One bid of a replayed plan: the state it met and what became of it."""

    before: AuctionState
    bidder_id: int
    amount: Cents
    maximum: Cents
    decision: Decision | None
    refusal: TooLow | None


MIN_BIDS, MAX_BIDS = 3, 12
Plan = tuple[int, int, int]  # (bidder, amount relative to the next minimum, maximum above it, TIE or AT_RESERVE)


def decode_scenario(drawn: tuple[int, bytes]) -> tuple[AuctionState, list[Plan]]:
    """An auction as create_auction allows it and a plan of bids, from a starting price and a few bytes.

    Drawing bytes rather than a tuple per bid keeps an example near 0.3 ms instead of 1-2 ms, which is what lets
    thousands of them run in a second or two. Zero bytes decode to the plainest auction (price bands, no reserve)
    and to a bid one cent below the minimum, which changes nothing, so Hypothesis shrinks a failure to the bids that
    matter.
    """
    starting, data = drawn
    fixed, reserve = data[0], data[1]
    auction = AuctionState(
        starting_price=starting,
        min_increment=1 + (fixed >> 1) * 40 if fixed % 2 else None,
        reserve_price=starting + (reserve >> 1) * 1_000 if reserve % 2 else None,
    )
    bids = data[2:]
    return auction, [decode_bid(bids[i : i + 4]) for i in range(0, len(bids) - 3, 4)]


def decode_bid(chunk: bytes) -> Plan:
    """Amounts relative to the next minimum keep most bids acceptable however high the price has climbed; small
    negative offsets exercise the refusals, large positive ones cross price bands and the reserve."""
    who, offset, mode, extra = chunk
    signed = (offset - 256 if offset >= 128 else offset) - 1
    maximum = (0, extra, extra * 150, TIE, AT_RESERVE)[mode % 5]
    return (ANA, BIA, CAIO)[who % 3], offset * 100 if who & 0x80 else signed, maximum


terms_and_bids = st.binary(min_size=2 + 4 * MIN_BIDS, max_size=2 + 4 * MAX_BIDS)
scenarios = st.tuples(st.integers(1, 300_000), terms_and_bids).map(decode_scenario)


def replay(start: AuctionState, plan: list[Plan]) -> list[Step]:
    """Fold the plan through `decide` as bidding.py decides bids, one after another; a refused bid changes nothing."""
    steps, state = [], start
    for bidder_id, offset, extra in plan:
        amount = max(1, state.next_minimum + offset)
        if extra == TIE:
            maximum = max(amount, state.leader_max or 0)
        elif extra == AT_RESERVE:
            maximum = max(amount, state.reserve_price or 0)
        else:
            maximum = amount + extra
        try:
            decision = decide(state, bidder_id, amount, maximum)
        except TooLow as refusal:
            steps.append(Step(state, bidder_id, amount, maximum, None, refusal))
            continue
        steps.append(Step(state, bidder_id, amount, maximum, decision, None))
        state = decision.state
    return steps


def accepted(steps: list[Step]) -> list[tuple[Step, Decision, list[Step]]]:
    """Each accepted step with its decision and the accepted history up to and including it."""
    history: list[Step] = []
    result = []
    for step in steps:
        if step.decision is not None:
            history.append(step)
            result.append((step, step.decision, list(history)))
    return result


def second_maximum(history: list[Step], leader_id: int | None) -> Cents | None:
    """The highest maximum anyone but the leader has offered: what the leader has to beat."""
    return max((step.maximum for step in history if step.bidder_id != leader_id), default=None)


def increment(auction: AuctionState, price: Cents) -> Cents:
    return auction.min_increment if auction.min_increment is not None else band_increment(price)


# -- properties over random bid sequences -----------------------------------------------------


@fast
@given(scenarios)
def test_leader_is_the_earliest_bidder_with_the_highest_maximum(scenario):
    start, plan = scenario
    for _, decision, history in accepted(replay(start, plan)):
        top = max(step.maximum for step in history)
        earliest = next(step.bidder_id for step in history if step.maximum == top)
        assert (decision.state.leader_id, decision.state.leader_max) == (earliest, top)
        assert decision.leading == (decision.state.leader_id == decision.own_bid.bidder_id)


@fast
@given(scenarios)
def test_price_stays_between_the_second_highest_maximum_and_the_leaders_and_only_rises(scenario):
    start, plan = scenario
    for step, decision, history in accepted(replay(start, plan)):
        after, before = decision.state, step.before
        second = second_maximum(history, after.leader_id)
        assert after.current_price is not None and after.leader_max is not None
        assert max(start.starting_price, second or 0) <= after.current_price <= after.leader_max
        if before.current_price is not None:
            # A challenge must beat the price; the leader raising their own maximum does not bid against themselves.
            assert after.current_price >= before.current_price
            assert decision.raised_own_max or after.current_price > before.current_price


@fast
@given(scenarios)
def test_price_is_one_increment_over_the_second_highest_maximum_capped_at_the_leaders(scenario):
    start, plan = scenario
    for step, decision, history in accepted(replay(start, plan)):
        after = decision.state
        assert after.current_price is not None and after.leader_max is not None
        if decision.raised_own_max:
            expected = step.before.current_price or 0
        else:
            second = second_maximum(history, after.leader_id)
            expected = 0 if second is None else min(after.leader_max, second + increment(start, second))
            if decision.leading:
                expected = max(expected, step.amount)  # a winner's own amount is a floor: they offered it openly
        if start.reserve_price is not None and start.reserve_price <= after.leader_max:
            expected = max(expected, start.reserve_price)
        assert after.current_price == expected


@fast
@given(scenarios)
def test_equal_maximum_loses_to_the_earlier_bid(scenario):
    start, plan = scenario
    states = [start] + [decision.state for _, decision, _ in accepted(replay(start, plan))]
    for state in states:
        if state.leader_id is None or state.leader_max is None or state.leader_max < state.next_minimum:
            continue
        decision = decide(state, DORA, state.next_minimum, state.leader_max)
        assert not decision.leading and decision.hold == 0 and decision.released is None
        assert (decision.state.leader_id, decision.state.current_price) == (state.leader_id, state.leader_max)


@fast
@given(scenarios)
def test_a_maximum_that_reaches_the_reserve_meets_it_at_once(scenario):
    start, plan = scenario
    assert not start.reserve_met
    reserve = start.reserve_price
    for _, decision, _ in accepted(replay(start, plan)):
        after = decision.state
        assert after.current_price is not None and after.leader_max is not None
        reached = reserve is None or after.leader_max >= reserve
        assert after.reserve_met == reached
        if reached and reserve is not None:
            assert after.current_price >= reserve


@fast
@given(scenarios)
def test_next_minimum_is_the_price_plus_one_increment_once_someone_leads(scenario):
    start, plan = scenario
    assert start.next_minimum == start.starting_price
    for _, decision, _ in accepted(replay(start, plan)):
        price = decision.state.current_price
        assert price is not None
        assert decision.state.next_minimum == price + increment(start, price)


@fast
@given(scenarios)
def test_holds_less_releases_leave_exactly_the_leaders_maximum_held(scenario):
    start, plan = scenario
    held: dict[int, Cents] = defaultdict(int)
    for step, decision, _ in accepted(replay(start, plan)):
        before, after = step.before, decision.state
        assert decision.raised_own_max == (before.leader_id == step.bidder_id)
        if decision.raised_own_max:
            assert decision.funds_needed == step.maximum - (before.leader_max or 0)
        else:
            assert decision.funds_needed == step.maximum  # even a bid the leader's proxy beats had to be payable
        assert 0 <= decision.hold <= decision.funds_needed
        if decision.released is not None:
            assert decision.released == before.leader_id != after.leader_id
            assert held[decision.released] == before.leader_max  # the whole hold goes back, and it was their maximum
            held[decision.released] = 0
        else:
            assert after.leader_id in {before.leader_id, step.bidder_id} and before.leader_id in {None, after.leader_id}
        held[step.bidder_id] += decision.hold
        assert {user: amount for user, amount in held.items() if amount} == {after.leader_id: after.leader_max}


@fast
@given(scenarios)
def test_recorded_bids_show_the_bidder_then_proxies_and_end_at_the_new_price(scenario):
    start, plan = scenario
    history: list[RecordedBid] = []
    for step, decision, _ in accepted(replay(start, plan)):
        before, after = step.before, decision.state
        own = decision.own_bid
        assert own == RecordedBid(step.bidder_id, own.amount, step.maximum, is_proxy=False)
        assert own.max_amount is not None and own.amount <= own.max_amount
        if not decision.raised_own_max:
            assert own.amount >= step.amount
        proxies = [row for index, row in enumerate(decision.bids) if index != decision.own_index]
        assert len(proxies) <= 1
        for row in proxies:
            assert row.is_proxy and row.max_amount is None
            assert row.bidder_id == before.leader_id != step.bidder_id
            assert row.bidder_id == after.leader_id or row.bidder_id == decision.released
        if decision.released is not None:
            # The outbid leader's proxy is shown going up to their maximum, unless the price was already there.
            went_up = before.leader_max != before.current_price
            assert proxies == ([RecordedBid(decision.released, before.leader_max, None, True)] if went_up else [])
        # What watchers see last is the new price and who holds it.
        assert (decision.bids[-1].bidder_id, decision.bids[-1].amount) == (after.leader_id, after.current_price)
        history.extend(decision.bids)
    amounts = [row.amount for row in history]
    assert amounts == sorted(amounts) and all(amount >= start.starting_price for amount in amounts)


@fast
@given(scenarios)
def test_refused_bids_are_exactly_those_below_the_next_minimum_they_name(scenario):
    start, plan = scenario
    for step in replay(start, plan):
        before = step.before
        if before.leader_id == step.bidder_id:
            floor = max((before.leader_max or 0) + 1, before.next_minimum)
            too_low = step.maximum < floor
        else:
            floor = before.next_minimum
            too_low = step.amount < floor
        assert (step.refusal is not None) == too_low
        if step.refusal is not None:
            assert step.refusal.code == "too_low" and step.refusal.details == {"next_min": floor}


# -- examples: the scenarios and numbers of tests/test_bidding.py ------------------------------

CAMERA = AuctionState(starting_price=1_000, min_increment=None, reserve_price=None)  # as new_auction() makes it


def bid_all(state: AuctionState, *offers: tuple[int, Cents] | tuple[int, Cents, Cents]) -> list[Decision]:
    """Decide (bidder, amount[, maximum]) offers one after another; a missing maximum is the amount, as in bidding."""
    decisions = []
    for bidder_id, amount, *maximum in offers:
        decision = decide(state, bidder_id, amount, maximum[0] if maximum else amount)
        decisions.append(decision)
        state = decision.state
    return decisions


def row(bidder_id: int, amount: Cents, max_amount: Cents | None = None) -> RecordedBid:
    """A bid row; without max_amount it is a proxy's automatic answer."""
    return RecordedBid(bidder_id, amount, max_amount, is_proxy=max_amount is None)


@pytest.mark.parametrize(
    ("price", "expected"),
    [(50, 5), (499, 25), (2_000, 50), (9_999, 100), (10_000, 250), (60_000, 1_000), (600_000, 10_000)],
)
def test_increment_comes_from_price_band(price, expected):
    assert band_increment(price) == expected


def test_first_bid_leads_at_its_amount_and_holds_it():
    [first] = bid_all(CAMERA, (ANA, 1_000))
    assert first.leading and first.state.current_price == 1_000 and first.state.next_minimum == 1_050
    assert first.bids == (row(ANA, 1_000, 1_000),) and first.hold == first.funds_needed == 1_000
    assert first.released is None and first.state.reserve_met


def test_outbid_leader_gets_whole_hold_released():
    _, second = bid_all(CAMERA, (ANA, 1_000), (BIA, 1_200))
    assert second.leading and second.state.current_price == 1_200
    assert second.released == ANA and second.hold == 1_200
    assert second.bids == (row(BIA, 1_200, 1_200),)  # ana's maximum was the price: no proxy row for her


def test_bid_below_the_minimum_is_refused_with_the_minimum():
    with pytest.raises(TooLow) as low:
        decide(CAMERA, ANA, 999, 999)
    assert low.value.code == "too_low" and low.value.message == "the minimum bid is R$ 10,00"
    assert low.value.details == {"next_min": 1_000}
    [first] = bid_all(CAMERA, (ANA, 1_000))
    with pytest.raises(TooLow) as low:
        decide(first.state, BIA, 1_049, 1_049)
    assert low.value.message == "the minimum bid is R$ 10,50" and low.value.details == {"next_min": 1_050}


def test_proxy_maximum_answers_a_lower_challenger_who_holds_nothing():
    first, second = bid_all(CAMERA, (ANA, 1_000, 5_000), (BIA, 2_000))
    assert first.hold == 5_000
    assert not second.leading and second.state.current_price == 2_050 and second.state.leader_id == ANA
    assert second.bids == (row(BIA, 2_000, 2_000), row(ANA, 2_050)) and second.own_index == 0
    assert second.hold == 0 and second.funds_needed == 2_000 and second.released is None


def test_equal_maximum_ties_go_to_the_earlier_bidder():
    _, tie = bid_all(CAMERA, (ANA, 1_000, 3_000), (BIA, 3_000))
    assert not tie.leading and tie.state.current_price == 3_000 and tie.state.leader_id == ANA
    assert tie.bids == (row(BIA, 3_000, 3_000), row(ANA, 3_000))


def test_higher_maximum_wins_at_second_maximum_plus_increment():
    _, bia, caio = bid_all(CAMERA, (ANA, 1_000, 3_000), (BIA, 1_100, 10_000), (CAIO, 10_050, 10_060))
    assert bia.leading and bia.state.current_price == 3_100 and bia.state.leader_max == 10_000
    assert bia.bids == (row(ANA, 3_000), row(BIA, 3_100, 10_000)) and bia.own_index == 1
    assert bia.hold == 10_000 and bia.released == ANA
    assert caio.leading and caio.state.current_price == 10_060 and caio.released == BIA
    assert caio.bids == (row(BIA, 10_000), row(CAIO, 10_060, 10_060))


def test_second_maximum_sets_the_price_the_winner_will_pay():
    _, bia = bid_all(CAMERA, (ANA, 1_000, 4_000), (BIA, 2_000, 3_000))
    assert bia.state.leader_id == ANA and bia.state.current_price == 3_100 and bia.state.reserve_met


def test_leader_raising_own_maximum_holds_only_the_difference():
    _, raised = bid_all(CAMERA, (ANA, 1_000, 2_000), (ANA, 1_050, 5_000))
    assert raised.leading and raised.raised_own_max and raised.state.current_price == 1_000
    assert raised.hold == raised.funds_needed == 3_000 and raised.state.leader_max == 5_000
    assert raised.bids == (row(ANA, 1_000, 5_000),)  # recorded at the unchanged price, not at the amount sent
    with pytest.raises(TooLow) as low:
        decide(raised.state, ANA, 1_050, 5_000)
    assert low.value.message == "you are already leading; a new maximum must be at least R$ 50,01"
    assert low.value.details == {"next_min": 5_001}


def test_leader_raise_must_also_reach_the_next_minimum():
    [first] = bid_all(CAMERA, (ANA, 1_000))
    with pytest.raises(TooLow) as low:
        decide(first.state, ANA, 1_010, 1_010)
    assert low.value.message == "you are already leading; a new maximum must be at least R$ 10,50"
    assert low.value.details == {"next_min": 1_050}


def test_maximum_reaching_the_reserve_lifts_the_price_to_it():
    reserved = AuctionState(starting_price=1_000, min_increment=None, reserve_price=5_000)
    low, high = bid_all(reserved, (ANA, 1_000, 2_000), (BIA, 1_100, 8_000))
    assert low.state.current_price == 1_000 and not low.state.reserve_met
    assert high.state.current_price == 5_000 and high.state.reserve_met
    assert high.bids == (row(ANA, 2_000), row(BIA, 5_000, 8_000))


def test_maximum_exactly_at_the_reserve_meets_it():
    reserved = AuctionState(starting_price=1_000, min_increment=None, reserve_price=5_000)
    [first] = bid_all(reserved, (ANA, 1_000, 5_000))
    assert first.state.current_price == 5_000 and first.state.reserve_met


def test_leader_raising_past_the_reserve_lifts_the_price_without_a_challenger():
    reserved = AuctionState(starting_price=1_000, min_increment=None, reserve_price=5_000)
    _, raised = bid_all(reserved, (ANA, 1_000, 2_000), (ANA, 1_050, 6_000))
    assert raised.state.current_price == 5_000 and raised.state.reserve_met and raised.hold == 4_000


def test_fixed_increment_replaces_the_price_bands():
    fixed = AuctionState(starting_price=1_000, min_increment=300, reserve_price=None)
    _, answered = bid_all(fixed, (ANA, 1_000, 5_000), (BIA, 2_000))
    assert answered.state.current_price == 2_300 and answered.state.next_minimum == 2_600


ENDS = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds_left", "window", "extended"),
    [(100, 30, None), (10, 30, timedelta(seconds=30)), (30, 30, None), (29, 30, timedelta(seconds=30)), (1, 0, None)],
)
def test_bid_in_the_last_seconds_extends_the_end_to_a_full_window(seconds_left, window, extended):
    now = ENDS - timedelta(seconds=seconds_left)
    assert extended_end(ENDS, now, window) == (None if extended is None else now + extended)

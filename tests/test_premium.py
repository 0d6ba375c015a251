"""The buyer's premium arithmetic (money.premium_of) and the holds it adds to the bid rules and to a batch of bids,
without a database."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from auction import wallet
from auction.auctions import batch, rules
from auction.money import MAX_CENTS, premium_of, with_premium
from tests import test_bid_batches as batches

hammers = st.integers(min_value=0, max_value=MAX_CENTS // 10_000)
rates = st.integers(min_value=0, max_value=5_000)


def test_the_premium_rounds_to_the_nearest_centavo_half_up():
    assert premium_of(10_000, 1_000) == 1_000  # 10 % of R$ 100,00
    assert premium_of(1_005, 500) == 50  # R$ 0,5025 -> R$ 0,50
    assert premium_of(10, 500) == 1  # R$ 0,005 (half a centavo) -> R$ 0,01
    assert premium_of(9, 500) == 0  # R$ 0,0045 -> R$ 0,00
    assert premium_of(123_456, 0) == 0
    assert with_premium(10_000, 250) == 10_250


@given(hammers, rates)
def test_the_premium_is_the_exact_share_rounded_half_up(hammer, bps):
    exact_times_two = 2 * hammer * bps  # twice the premium in units of 1/10,000 centavo, to compare halves exactly
    premium = premium_of(hammer, bps)
    assert 2 * premium * 10_000 - 10_000 <= exact_times_two < 2 * premium * 10_000 + 10_000
    assert premium * 10_000 <= hammer * bps + 5_000 < (premium + 1) * 10_000


@given(hammers, hammers, rates)
def test_what_the_buyer_pays_grows_with_the_hammer_price(a, b, bps):
    low, high = sorted((a, b))
    assert with_premium(low, bps) <= with_premium(high, bps)
    assert with_premium(low, bps) - low <= with_premium(high, bps) - high


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 50_000)), min_size=1, max_size=30), rates)
def test_the_leaders_hold_is_always_their_maximum_plus_its_premium(bids, bps):
    """Folding random bids (plain and raises) over a lot with a premium: the leader's hold, counted from the
    decisions' holds and releases, always equals hold_for(their maximum); a winner's hold covers hammer + premium."""
    state = rules.AuctionState(starting_price=100, min_increment=None, reserve_price=None, premium_bps=bps)
    holds: dict[int, int] = {}
    for bidder, amount in bids:
        try:
            decision = rules.decide(state, bidder, max(amount, state.next_minimum), max(amount, state.next_minimum))
        except rules.TooLow:
            continue
        if decision.released is not None:
            holds[decision.released] = 0
        holds[bidder] = holds.get(bidder, 0) + decision.hold
        state = decision.state
        assert decision.funds_needed >= decision.hold
        leader = state.leader_id
        assert holds[leader] == with_premium(state.leader_max, bps) == state.leader_hold
        assert holds[leader] >= with_premium(state.current_price, bps)
        assert all(amount == 0 for user, amount in holds.items() if user != leader)


@settings(max_examples=200, deadline=None, database=None)
@given(batches.offers, batches.cash, st.sampled_from([250, 1_000, 1_250, 5_000]))
def test_a_batch_on_a_lot_with_a_premium_decides_like_one_by_one_and_holds_maximum_plus_premium(plan, cash, bps):
    """The group commit on a lot with a premium: the same outcomes as bid after bid (bids refused for the money
    the premium adds included), and at the end only the leader holds, exactly hold_for(their maximum)."""
    start = replace(batches.START, premium_bps=bps)
    together = batch.decide_batch(start, [batch.Offer(*offer) for offer in plan], cash, {}, wallet.check_funds)
    state, outcomes, rows, holds = batches._fold_one_by_one(start, plan, cash)
    assert (together.state, [type(o).__name__ for o in together.outcomes], together.rows) == (state, outcomes, rows)
    assert {user: held for user, held in together.holds.items() if held} == holds
    if state.leader_id is not None:
        assert holds == {state.leader_id: with_premium(state.leader_max, bps)}
        assert cash[state.leader_id] >= with_premium(state.leader_max, bps)

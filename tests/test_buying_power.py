"""The buying-power rule (auction/auctions/buying_power.py) with Hypothesis: pure, no database."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from auction.auctions import batch, rules
from auction.auctions.buying_power import (
    BuyingPowerExceeded,
    Commitments,
    committed,
    deposit_for,
    require_within,
)
from auction.errors import ServiceError
from auction.money import with_premium

amounts = st.integers(min_value=1, max_value=10**9)
premiums = st.integers(min_value=0, max_value=5_000)


@given(st.lists(amounts, max_size=8), premiums, st.integers(min_value=0, max_value=10**10))
def test_refused_exactly_when_the_lots_with_premium_exceed_the_buying_power(lots, bps, power):
    total = sum(with_premium(amount, bps) for amount in lots)
    try:
        assert require_within(power, lots, bps) == total <= power
    except BuyingPowerExceeded as refusal:
        assert total > power
        assert refusal.details == {"committed": total, "buying_power": power}


@given(
    amounts,
    st.integers(min_value=1, max_value=10_000) | st.none(),
    st.integers(min_value=1, max_value=10**6) | st.none(),
)
def test_the_deposit_is_the_share_rounded_up_never_below_the_minimum(power, bps, minimum):
    deposit = deposit_for(power, bps, minimum)
    assert deposit >= (minimum or 0)
    if bps:
        assert deposit * 10_000 >= power * bps


# A bid: (bidder, lot, amount, extra maximum above it).
bids = st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(1, 400), st.integers(0, 300))


@settings(max_examples=300)
@given(st.lists(bids, max_size=40), st.lists(st.integers(0, 1500), min_size=3, max_size=3), premiums)
def test_no_sequence_of_bids_on_several_lots_commits_a_bidder_beyond_their_buying_power(offers, powers, bps):
    """Bids folded lot after lot the way `bids.place_batch` does (decide_batch with the lead check, then the lot's
    new leader recorded): after every batch each bidder's commitment (leading maxima with premium) is within their
    buying power, and a bid is refused for buying power only when leading with it would exceed it."""
    event = 1
    limits = Commitments({(event, user): power * 100 for user, power in enumerate(powers)}, {event: bps})
    states = {lot: rules.AuctionState(starting_price=100, min_increment=None, reserve_price=None) for lot in range(4)}
    held: dict[int, dict[int, int]] = {lot: {} for lot in range(4)}
    for user, lot, amount, extra in offers:
        offer = batch.Offer(user, amount * 100, (amount + extra) * 100)
        before = states[lot]
        result = batch.decide_batch(
            before,
            [offer],
            {0: 10**12, 1: 10**12, 2: 10**12},
            held[lot],
            lambda available, needed: None,
            lambda bidder, maximum, lot=lot: limits.check(event, lot, bidder, maximum),
        )
        [outcome] = result.outcomes
        if isinstance(outcome, BuyingPowerExceeded):
            others = [a for other, (who, a) in limits.lots.get(event, {}).items() if who == user and other != lot]
            assert committed([*others, offer.maximum], bps) > limits.power[(event, user)]
            assert result.state == before
        elif not isinstance(outcome, ServiceError):
            states[lot] = result.state
            held[lot] = {result.state.leader_id: result.state.leader_max} if result.state.leader_id is not None else {}
            limits.record(event, lot, result.state.leader_id, result.state.leader_max)
        for bidder in range(3):
            assert limits.of(event, bidder) <= limits.power[(event, bidder)]

"""Group commit: a batch of bids decided in one transaction ends exactly where the same bids one by one end.

Pure (no database): `batch.decide_batch` over a sequence equals folding it over one-bid batches.
On SQLite and MariaDB: `bids.place_batch` of a whole sequence leaves the same auction row, the same bid
rows, the same holds and balances as `bids.place` called once per bid, with holds netted (fewer ledger
movements), one `new_bid` per batch, one `outbid` per outbid user, and a clean audit. A batch over
several auctions equals their bids one by one, auction by auction, with each bidder's money shared
between them. A leader raising their own maximum is private: acked and held, never broadcast nor shown
in the public history.
"""

from __future__ import annotations

import gc
import weakref
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from auction import wallet
from auction.auctions import batch, bids, queries, rules
from auction.auctions.privacy import pseudonym
from auction.errors import ServiceError
from auction.models import Auction, Bid, LedgerTransaction
from auction.outbox import Outbox
from tests.support.auctions import audit, balance, fund, held, new_auction, open_holds, place

BIDDERS = (1, 2, 3, 4)
START = rules.AuctionState(starting_price=1_000, min_increment=None, reserve_price=2_500)

offers = st.lists(
    st.tuples(st.sampled_from(BIDDERS), st.integers(0, 40), st.integers(0, 60)).map(
        lambda t: (t[0], 1_000 + t[1] * 50, 1_000 + t[1] * 50 + t[2] * 50)
    ),
    min_size=1,
    max_size=12,
)
cash = st.fixed_dictionaries({bidder: st.integers(0, 6_000) for bidder in BIDDERS})


def _fold_one_by_one(state, plan, available):
    """Each offer as its own batch, carrying the wallets forward as the database would."""
    cash_left, holding, outcomes, rows = dict(available), {}, [], []
    for bidder, amount, maximum in plan:
        result = batch.decide_batch(
            state, [batch.Offer(bidder, amount, maximum)], cash_left, holding, wallet.check_funds
        )
        outcomes.append(type(result.outcomes[0]).__name__)
        rows.extend(result.rows)
        for user, final in result.holds.items():
            cash_left[user] = cash_left.get(user, 0) - (final - holding.get(user, 0))
            holding[user] = final
        state = result.state
    return state, outcomes, rows, {u: h for u, h in holding.items() if h}


@settings(max_examples=400, deadline=None, database=None)
@given(offers, cash)
def test_a_batch_decides_like_the_same_bids_one_by_one(plan, available):
    together = batch.decide_batch(START, [batch.Offer(*offer) for offer in plan], available, {}, wallet.check_funds)
    state, outcomes, rows, holds = _fold_one_by_one(START, plan, available)
    assert together.state == state
    assert [type(o).__name__ for o in together.outcomes] == outcomes
    assert together.rows == rows
    assert {u: h for u, h in together.holds.items() if h} == holds
    # Only the leader holds money at the end, and exactly their maximum.
    if state.leader_id is not None:
        assert holds == {state.leader_id: state.leader_max}
    # Everyone told they were outbid led at some point and does not lead now.
    assert state.leader_id not in together.outbid


@pytest.fixture
def bidders(make_user, db):
    ids = {name: make_user(name) for name in ("seller", "ana", "bia", "caio", "dora")}
    for name in ("ana", "bia", "caio", "dora"):
        fund(db, ids[name], 10_000)
    return ids


def _snapshot(db, auction_id, people):
    def read(session):
        auction = session.get(Auction, auction_id)
        rows = session.execute(
            select(Bid.bidder_id, Bid.amount, Bid.max_amount, Bid.is_proxy, Bid.is_raise)
            .where(Bid.auction_id == auction_id)
            .order_by(Bid.id)
        ).all()
        return (
            (auction.current_price, auction.leader_id, auction.leader_max, auction.bid_count),
            [tuple(row) for row in rows],
        )

    row, rows = db.transaction(read)
    money = {name: balance(db, user) for name, user in people.items()}
    return row, rows, open_holds(db, auction_id), money


BATCH_PLAN = st.lists(
    st.tuples(st.sampled_from(["ana", "bia", "caio", "dora"]), st.integers(0, 30), st.integers(0, 40)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=BATCH_PLAN)
def test_place_batch_ends_where_placing_the_bids_one_by_one_ends(db, bidders, plan):
    commands = lambda auction_id: [  # noqa: E731 - built per auction below
        bids.PlaceBid(
            auction_id, bidders[name], 1_000 + step * 50, 1_000 + step * 50 + extra * 50, soft_close_seconds=0
        )
        for name, step, extra in plan
    ]
    one_by_one = new_auction(db, bidders["seller"], reserve_price=1_800)
    singles = []
    for command in commands(one_by_one):
        try:
            singles.append(type(db.run(bids.place, command)).__name__)
        except ServiceError as refusal:
            singles.append(type(refusal).__name__)
    sequential = _snapshot(db, one_by_one, bidders)
    # Undo the first auction's holds so the second starts from the same balances.
    db.run(
        lambda uow: [
            wallet.release(uow.session, user_id=u, auction_id=one_by_one, key=f"undo:{one_by_one}:{u}")
            for u in bidders.values()
        ]
    )

    together = new_auction(db, bidders["seller"], reserve_price=1_800)
    outcomes = db.run(bids.place_batch, commands(together))
    batched = _snapshot(db, together, bidders)
    assert [type(o).__name__ for o in outcomes] == singles
    assert batched == sequential
    assert audit(db) == []


def test_a_batch_nets_holds_and_tells_each_outbid_user_once(db, bidders):
    auction_id = new_auction(db, bidders["seller"])
    place(db, auction_id, bidders["dora"], 1_000)
    outbox = Outbox()
    plan = [("ana", 1_100, 1_500), ("bia", 1_600, 2_000), ("ana", 2_100, 2_600), ("caio", 1_200, None)]
    commands = [bids.PlaceBid(auction_id, bidders[n], a, m, soft_close_seconds=0) for n, a, m in plan]
    movements_before = db.transaction(lambda s: s.scalar(select(func.count(LedgerTransaction.id))))
    outcomes = db.run(bids.place_batch, commands, outbox=outbox)

    assert [type(o).__name__ for o in outcomes] == ["BidOutcome", "BidOutcome", "BidOutcome", "TooLow"]
    assert all(outcome.leading for outcome in outcomes[:3])  # each ack tells the state right after that bid
    assert open_holds(db, auction_id) == {bidders["ana"]: 2_600}
    # dora's release and ana's one hold: bia's hold made and released inside the batch never reached the ledger.
    movements = db.transaction(lambda s: s.scalar(select(func.count(LedgerTransaction.id)))) - movements_before
    assert movements == 2
    events = Counter(message.event for message in outbox)
    assert events["new_bid"] == 1
    outbid_to = sorted(m.room for m in outbox if m.event == "outbid")
    assert outbid_to == sorted([f"user:{bidders['dora']}", f"user:{bidders['bia']}"])
    new_bid = next(m.payload for m in outbox if m.event == "new_bid")
    # ana 1.100; ana's proxy 1.500, bia 1.600; bia's proxy 2.000, ana 2.100 (her amount is the floor).
    assert new_bid["amount"] == 2_100 and new_bid["leader"] == pseudonym(auction_id, bidders["ana"])
    assert len(new_bid["bids"]) == 5
    assert balance(db, bidders["bia"]) == wallet.Balance(10_000, 0)
    assert audit(db) == []


def test_a_leader_raising_the_maximum_is_private(db, bidders):
    auction_id = new_auction(db, bidders["seller"])
    place(db, auction_id, bidders["ana"], 1_000, max_amount=2_000)
    place(db, auction_id, bidders["bia"], 1_100)  # ana's proxy answers: price 1_150
    outcome, outbox = place(db, auction_id, bidders["ana"], 1_200, max_amount=5_000)

    assert outcome.leading and outcome.price == 1_150 and outcome.max_amount == 5_000
    assert held(db, bidders["ana"], auction_id) == 5_000
    assert [m.event for m in outbox] == ["wallet"]  # only ana's own balance: the room hears nothing
    state = db.transaction(queries.auction_state, auction_id)
    assert state["bid_count"] == 3 and state["current_price"] == 1_150
    ana, bia = pseudonym(auction_id, bidders["ana"]), pseudonym(auction_id, bidders["bia"])
    assert [bid["bidder"] for bid in state["bids"]] == [ana, bia, ana]  # newest first; no raise row
    own = db.transaction(queries.auction_state, auction_id, viewer_id=bidders["ana"])
    assert own["you_lead"] and own["your_max"] == 5_000
    assert audit(db) == []


def test_a_raise_that_reaches_the_reserve_moves_the_price_publicly(db, bidders):
    auction_id = new_auction(db, bidders["seller"], reserve_price=3_000)
    place(db, auction_id, bidders["ana"], 1_000)
    _, outbox = place(db, auction_id, bidders["ana"], 1_000, max_amount=4_000)
    new_bid = next(m.payload for m in outbox if m.event == "new_bid")
    assert new_bid["amount"] == 3_000 and new_bid["reserve_met"] and new_bid["bids"] == []
    assert audit(db) == []


def _undo(db, auction_ids, people):
    """Give back every hold on these auctions, so the next world starts from the same balances."""
    db.run(
        lambda uow: [
            wallet.release(uow.session, user_id=user, auction_id=auction_id, key=f"undo:{auction_id}:{user}")
            for auction_id in auction_ids
            for user in people.values()
        ]
    )


SPREAD_PLAN = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["ana", "bia", "caio"]), st.integers(0, 40), st.integers(0, 100)),
    min_size=1,
    max_size=10,
)


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=SPREAD_PLAN)
def test_a_batch_over_several_auctions_ends_where_their_bids_one_by_one_end(db, bidders, plan):
    """One transaction for bids on three auctions equals placing them one by one, auction by auction (the
    order the batch locks them in), with every bidder's money shared between the auctions: a maximum of
    up to R$ 71,50 on each of three auctions can be more than a wallet of R$ 100,00 pays for."""

    def commands(auction_ids):
        return [
            bids.PlaceBid(auction_ids[lot], bidders[name], 1_000 + step * 50, 1_000 + (step + extra) * 50, 0)
            for lot, name, step, extra in plan
        ]

    people = {name: bidders[name] for name in ("ana", "bia", "caio")}
    one_by_one = [new_auction(db, bidders["seller"]) for _ in range(3)]
    singles = {}
    for position, command in sorted(enumerate(commands(one_by_one)), key=lambda item: item[1].auction_id):
        try:
            singles[position] = type(db.run(bids.place, command)).__name__
        except ServiceError as refusal:
            singles[position] = type(refusal).__name__
    sequential = [_snapshot(db, auction_id, people) for auction_id in one_by_one]
    _undo(db, one_by_one, people)

    together = [new_auction(db, bidders["seller"]) for _ in range(3)]
    outbox = Outbox()
    outcomes = db.run(bids.place_batch, commands(together), outbox=outbox)
    batched = [_snapshot(db, auction_id, people) for auction_id in together]
    _undo(db, together, people)
    assert [type(o).__name__ for o in outcomes] == [singles[i] for i in range(len(plan))]
    assert batched == sequential
    # One balance message per user the batch touched, with what the wallet holds at its end.
    wallets = [m for m in outbox if m.event == "wallet"]
    assert len(wallets) == len({m.room for m in wallets})
    money_after = batched[-1][3]
    for message in wallets:
        [name] = [n for n, user in people.items() if message.room == f"user:{user}"]
        assert message.payload == money_after[name].as_dict()
    assert audit(db) == []


def test_a_release_on_one_auction_pays_for_a_bid_on_another_in_the_same_batch(db, bidders):
    first, second = new_auction(db, bidders["seller"]), new_auction(db, bidders["seller"])
    place(db, first, bidders["dora"], 9_000)  # dora: 1.000 left
    outbox = Outbox()
    commands = [
        bids.PlaceBid(second, bidders["dora"], 8_000, None, soft_close_seconds=0),  # paid by the release below
        bids.PlaceBid(first, bidders["bia"], 9_500, None, soft_close_seconds=0),
        bids.PlaceBid(second, bidders["ana"], 6_000, None, soft_close_seconds=0),  # too low: 8.000 leads
        bids.PlaceBid(first + second + 1_000, bidders["ana"], 6_000, None, soft_close_seconds=0),
    ]
    outcomes = db.run(bids.place_batch, commands, outbox=outbox)

    assert [type(o).__name__ for o in outcomes] == ["BidOutcome", "BidOutcome", "TooLow", "NotFound"]
    assert open_holds(db, first) == {bidders["bia"]: 9_500}
    assert open_holds(db, second) == {bidders["dora"]: 8_000}
    assert balance(db, bidders["dora"]) == wallet.Balance(2_000, 8_000)
    assert [m.room for m in outbox if m.event == "outbid"] == [f"user:{bidders['dora']}"]
    assert sorted(m.payload["auction_id"] for m in outbox if m.event == "new_bid") == [first, second]
    dora_wallet = [m.payload for m in outbox if m.event == "wallet" and m.room == f"user:{bidders['dora']}"]
    assert dora_wallet == [wallet.Balance(2_000, 8_000).as_dict()]
    assert audit(db) == []


def test_one_bidder_cannot_spend_the_same_money_on_two_auctions_in_one_batch(db, bidders):
    first, second = new_auction(db, bidders["seller"]), new_auction(db, bidders["seller"])
    commands = [
        bids.PlaceBid(second, bidders["ana"], 6_000, None, soft_close_seconds=0),
        bids.PlaceBid(first, bidders["ana"], 6_000, None, soft_close_seconds=0),
    ]
    outcomes = db.run(bids.place_batch, commands)
    # The batch decides the lower auction id first: it gets the money, the other bid is refused.
    assert [type(o).__name__ for o in outcomes] == ["InsufficientFunds", "BidOutcome"]
    assert open_holds(db, first) == {bidders["ana"]: 6_000} and open_holds(db, second) == {}
    assert balance(db, bidders["ana"]) == wallet.Balance(4_000, 6_000)
    assert audit(db) == []


def test_a_refused_bid_is_freed_at_once_not_left_for_the_garbage_collector(db, bidders):
    """Refusals are values in a batch's outcomes: none keeps the traceback of its raise (which held the
    deciding frame, which held the outcomes: a reference cycle per refused bid, and on a hot auction most
    bids are refused; docs/performance.md). With the collector off, dropping the outcomes frees them."""
    auction_id = new_auction(db, bidders["seller"])
    commands = [
        bids.PlaceBid(auction_id, bidders["ana"], 1_000),
        bids.PlaceBid(auction_id, bidders["bia"], 1_000),  # too low
        bids.PlaceBid(auction_id, bidders["caio"], 50_000),  # more than the wallet holds
        bids.PlaceBid(auction_id, bidders["seller"], 2_000),  # the seller's own auction
        bids.PlaceBid(auction_id + 1_000, bidders["dora"], 2_000),  # no such auction
    ]
    gc.collect()
    gc.disable()
    try:
        outcomes = db.run(bids.place_batch, commands)
        refusals = [o for o in outcomes if isinstance(o, ServiceError)]
        assert [r.code for r in refusals] == ["too_low", "insufficient_funds", "own_auction", "not_found"]
        assert all(r.__traceback__ is None for r in refusals)
        freed = [weakref.ref(r) for r in refusals]
        del outcomes, refusals
        assert [ref() for ref in freed] == [None] * 4
    finally:
        gc.enable()
    assert audit(db) == []

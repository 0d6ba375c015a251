"""The level mapping on its own: the docs table, and merging facts in any order gives one level."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from auction.payments.events import (
    CHARGEBACK_OPEN,
    CHARGEBACK_WON,
    EVENTS,
    RECEIVED,
    RULES,
    CreditPolicy,
    Facts,
    State,
    facts_of,
    frozen,
    level,
    markdown_table,
)

ROOT = Path(__file__).resolve().parents[1]


def test_docs_show_the_same_table_the_tests_walk():
    assert markdown_table() in (ROOT / "docs" / "payments.md").read_text()


def test_the_shared_example_payloads_read_as_expected():
    received = json.loads((ROOT / "docs" / "asaas-examples" / "payment_received.json").read_text())
    facts = facts_of(received["event"], received["payment"])
    assert (facts.status, facts.value, facts.paid, facts.refunded) == ("RECEIVED", 15_000, RECEIVED, 0)
    partial = json.loads((ROOT / "docs" / "asaas-examples" / "payment_partially_refunded.json").read_text())
    state = State(value=0).merge(facts).merge(facts_of(partial["event"], partial["payment"]))
    assert level(state) == 11_000


def test_refunds_not_done_do_not_count():
    payment = {"value": 100, "status": "RECEIVED", "refunds": [{"value": 30, "status": "PENDING"}, {"value": 10}]}
    assert facts_of("PAYMENT_PARTIALLY_REFUNDED", payment).refunded == 1_000


def test_confirmed_counts_only_when_configured():
    state = State(value=5_000).merge(facts_of("PAYMENT_CONFIRMED", {"value": 50, "status": "CONFIRMED"}))
    assert level(state, CreditPolicy("RECEIVED")) == 0
    assert level(state, CreditPolicy("CONFIRMED")) == 5_000


def test_an_unpaid_update_changes_the_value_but_a_late_one_does_not():
    state = State(value=5_000).merge(facts_of("PAYMENT_UPDATED", {"value": 60, "status": "PENDING"}))
    assert state.value == 6_000
    state = state.merge(facts_of("PAYMENT_RECEIVED", {"value": 60, "status": "RECEIVED"}))
    state = state.merge(facts_of("PAYMENT_UPDATED", {"value": 10, "status": "PENDING"}))
    assert level(state) == 6_000


def test_every_rule_is_one_of_the_29_payment_events():
    assert len(EVENTS) == 29 and all(rule.event.startswith("PAYMENT_") for rule in RULES)


facts = st.builds(
    Facts,
    status=st.none(),
    value=st.just(10_000),
    paid=st.integers(0, 2),
    chargeback=st.integers(0, 4),
    removal=st.integers(0, 2),
    refunded=st.integers(0, 10_000),
    cash=st.integers(0, 1),
    net_value=st.sampled_from([None, 9_500]),
    refund=st.integers(0, 2),
    refund_requested=st.integers(0, 10_000),
)
policies = st.builds(
    CreditPolicy,
    st.sampled_from(["RECEIVED", "CONFIRMED"]),
    st.sampled_from(["gross", "net"]),
    st.sampled_from(["review", "credit"]),
)


@given(st.lists(facts, min_size=1, max_size=8), st.randoms(), policies)
def test_merging_facts_in_any_order_with_repeats_gives_the_same_level(items, rnd, policy):
    def final(seq: list[Facts]) -> State:
        state = State(value=10_000)
        for item in seq:
            state = state.merge(item)
        return state

    shuffled = items + rnd.sample(items, k=len(items) // 2)
    rnd.shuffle(shuffled)
    assert final(items) == final(shuffled)
    assert level(final(items), policy) == level(final(shuffled), policy)
    assert frozen(final(items), policy) == frozen(final(shuffled), policy)
    assert 0 <= frozen(final(items), policy) <= level(final(items), policy)
    if final(items).chargeback in (CHARGEBACK_OPEN, CHARGEBACK_WON):
        assert frozen(final(items), policy) == level(final(items), policy)


def test_an_anticipated_charge_is_not_a_paid_one():
    """PAYMENT_ANTICIPATED: Asaas advanced money against the charge; an anticipated boleto is not a paid boleto."""
    pending = facts_of("PAYMENT_ANTICIPATED", {"status": "PENDING", "value": 100.0, "billingType": "BOLETO"})
    assert level(State(value=10_000).merge(pending)) == 0
    received = facts_of("PAYMENT_ANTICIPATED", {"status": "RECEIVED", "value": 100.0})
    assert level(State(value=10_000).merge(received)) == 10_000

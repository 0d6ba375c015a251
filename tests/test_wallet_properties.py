"""Random sequences of wallet movements keep the ledger's invariants (Hypothesis stateful test).

The machine drives credit / reverse / hold / release / capture (and replays of
earlier calls with their keys) over several wallets and auctions, keeps a plain
Python model of what every balance should be, and after every step checks:
conservation (all entries and all wallet columns sum to zero), each balance =
the sum of its entries, held = the sum of open holds, no negative available
without a recorded debt, and that the database agrees with the model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from auction import wallet
from auction.db import Database
from auction.errors import Invalid
from auction.models import Base, LedgerTransaction, Wallet
from auction.wallet import InsufficientFunds, WalletInDebt
from tests.support.ledger import add_users, empty_tables, ledger_violations, make_auction

USERS = 3
AUCTIONS = 2
amounts = st.integers(min_value=1, max_value=3_000)
credits = st.integers(min_value=1, max_value=10_000)
users = st.integers(min_value=0, max_value=USERS - 1)
auctions = st.integers(min_value=0, max_value=AUCTIONS - 1)


@dataclass
class Model:
    """What the balances must be, computed without the database."""

    available: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    held: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    fees: int = 0

    def held_by(self, user: int) -> int:
        return sum(amount for (owner, _), amount in self.held.items() if owner == user)


@dataclass
class Call:
    fn: Callable[..., wallet.Movement]
    kwargs: dict
    result: wallet.Movement


class LedgerMachine(RuleBasedStateMachine):
    db: Database  # set by the test before running

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.calls: list[Call] = []
        self.keys = 0

    @initialize()
    def fresh_ledger(self) -> None:
        empty_tables(self.db)
        self.users = add_users(self.db, USERS)
        self.auctions = [make_auction(self.db, self.users[0], f"lot {n}") for n in range(AUCTIONS)]

    # -- helpers -------------------------------------------------------------

    def call(self, fn: Callable[..., wallet.Movement], **kwargs: object) -> wallet.Movement:
        self.keys += 1
        kwargs["key"] = f"k{self.keys}"
        result = self.db.transaction(lambda s: fn(s, **kwargs))
        assert result.replayed is False
        if result.transaction_id is not None:
            self.calls.append(Call(fn, kwargs, result))
        return result

    @staticmethod
    def near(data: st.DataObject, edge: int) -> int:
        """An amount up to the limit (`edge`), or at it, a cent below it or a cent past it."""
        edges = st.sampled_from([max(edge + delta, 1) for delta in (-1, 0, 1)])
        return data.draw(st.one_of(st.integers(min_value=1, max_value=max(edge, 1)), edges))

    @staticmethod
    def likely(data: st.DataObject, useful: list, anything: st.SearchStrategy) -> object:
        """Usually one of the `useful` choices (so the step does something), sometimes `anything`."""
        return data.draw(st.one_of(st.sampled_from(useful), anything) if useful else anything)

    def pick_hold(self, data: st.DataObject) -> tuple[int, int]:
        """(user, auction), usually with money held for it."""
        open_holds = [pair for pair, amount in self.model.held.items() if amount > 0]
        return self.likely(data, open_holds, st.tuples(users, auctions))

    def snapshot(self) -> tuple:
        def read(session):
            balances = session.execute(select(Wallet.id, Wallet.available, Wallet.held).order_by(Wallet.id)).all()
            return tuple(balances), session.scalar(select(func.count(LedgerTransaction.id)))

        return self.db.transaction(read)

    # -- rules ---------------------------------------------------------------

    @rule(user=users, amount=credits)
    def credit(self, user: int, amount: int) -> None:
        self.call(wallet.credit, user_id=self.users[user], amount=amount)
        self.model.available[user] += amount

    @rule(user=users, amount=amounts, chargeback=st.booleans())
    def reverse(self, user: int, amount: int, chargeback: bool) -> None:
        reason = "chargeback" if chargeback else "refund"
        result = self.call(wallet.reverse, user_id=self.users[user], amount=amount, reason=reason)
        self.model.available[user] -= amount
        assert result.created_debt == (self.model.available[user] < 0)

    @rule(auction=auctions, data=st.data())
    def hold(self, auction: int, data: st.DataObject) -> None:
        user = self.likely(data, [u for u, amount in self.model.available.items() if amount > 0], users)
        available = self.model.available[user]
        amount = self.near(data, available)
        kwargs = dict(user_id=self.users[user], auction_id=self.auctions[auction], amount=amount)
        if available < 0:
            with pytest.raises(WalletInDebt):
                self.call(wallet.hold, **kwargs)
        elif amount > available:
            with pytest.raises(InsufficientFunds):
                self.call(wallet.hold, **kwargs)
        else:
            self.call(wallet.hold, **kwargs)
            self.model.available[user] -= amount
            self.model.held[user, auction] += amount

    @rule(whole=st.booleans(), data=st.data())
    def release(self, whole: bool, data: st.DataObject) -> None:
        user, auction = self.pick_hold(data)
        held = self.model.held[user, auction]
        part = None if whole else self.near(data, held)
        kwargs = dict(user_id=self.users[user], auction_id=self.auctions[auction], amount=part)
        if part is not None and part > held:
            with pytest.raises(Invalid):
                self.call(wallet.release, **kwargs)
            return
        moved = held if part is None else part
        assert self.call(wallet.release, **kwargs).amount == moved
        self.model.held[user, auction] -= moved
        self.model.available[user] += moved

    @precondition(lambda self: any(self.model.held.values()))
    @rule(
        seller=users,
        fee_bps=st.sampled_from([0, 250, 1_000, 10_000]),
        data=st.data(),
    )
    def capture(self, seller: int, fee_bps: int, data: st.DataObject) -> None:
        winner, auction = self.pick_hold(data)
        held = self.model.held[winner, auction]
        amount = self.near(data, held)
        kwargs = dict(
            user_id=self.users[winner],
            auction_id=self.auctions[auction],
            seller_id=self.users[seller],
            amount=amount,
            fee_bps=fee_bps,
        )
        if amount > held:
            with pytest.raises(InsufficientFunds):
                self.call(wallet.capture, **kwargs)
            return
        self.call(wallet.capture, **kwargs)
        fee = amount * fee_bps // 10_000
        self.model.held[winner, auction] = 0
        self.model.available[winner] += held - amount
        self.model.available[seller] += amount - fee
        self.model.fees += fee

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """An earlier call again, with its key: the first result, and nothing changes."""
        if not self.calls:
            return
        earlier = data.draw(st.sampled_from(self.calls))
        before = self.snapshot()
        again = self.db.transaction(lambda s: earlier.fn(s, **earlier.kwargs))
        assert again.replayed is True
        assert (again.transaction_id, again.kind, again.amount) == (
            earlier.result.transaction_id,
            earlier.result.kind,
            earlier.result.amount,
        )
        assert self.snapshot() == before

    # -- invariants ----------------------------------------------------------

    @invariant()
    def ledger_is_consistent(self) -> None:
        assert self.db.transaction(ledger_violations) == []

    @invariant()
    def balances_match_the_model(self) -> None:
        def read(session):
            return [wallet.balance(session, user_id) for user_id in self.users], session.scalar(
                select(Wallet.available).where(Wallet.code == wallet.FEES)
            )

        balances, fees = self.db.transaction(read)
        for index, balance in enumerate(balances):
            assert (balance.available, balance.held) == (self.model.available[index], self.model.held_by(index))
        assert (fees or 0) == self.model.fees


def run_machine(db: Database, max_examples: int, steps: int, shrink: bool = True) -> None:
    LedgerMachine.db = db
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            phases=list(Phase) if shrink else [phase for phase in Phase if phase is not Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# Passing takes seconds; a failure is shrunk to a short sequence, which can take minutes.
@pytest.mark.timeout(900)
def test_random_movements_keep_the_ledger_invariants_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'ledger.db'}", pool_size=2)
    Base.metadata.create_all(db.engine)
    try:
        run_machine(db, max_examples=40, steps=30)
    finally:
        db.dispose()


def test_random_movements_keep_the_ledger_invariants_on_mariadb(mariadb_schema_url: str) -> None:
    db = Database(mariadb_schema_url, pool_size=2)
    try:
        run_machine(db, max_examples=8, steps=25, shrink=False)  # the SQLite run shrinks
    finally:
        empty_tables(db)
        db.dispose()

"""The wallet ledger's operations and rules, on SQLite and MariaDB."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auction import clock, wallet
from auction.db import MAX_DUPLICATE_RETRIES, Database
from auction.errors import Invalid
from auction.models import LedgerEntry, LedgerTransaction, Payment, Wallet
from auction.money import InvalidAmount
from auction.wallet import Balance, InsufficientFunds, WalletInDebt
from tests.support.ledger import add_users, ledger_violations, make_auction

FEE_BPS = 250  # 2.5 %


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "PLATFORM_FEE_BPS": FEE_BPS}


@dataclass
class Scene:
    db: Database
    buyer: int
    seller: int
    auction: int

    def transaction(self, fn: Callable, **kwargs: object) -> wallet.Movement:
        return self.db.transaction(lambda s: fn(s, **kwargs))

    def balance(self, user_id: int) -> Balance:
        return self.db.transaction(wallet.balance, user_id)

    def history_reasons(self, user_id: int) -> list[str]:
        return [item.reason for item in reversed(self.db.transaction(wallet.history, user_id))]

    def violations(self) -> list[str]:
        return self.db.transaction(ledger_violations)


@pytest.fixture
def scene(db: Database) -> Scene:
    """A buyer, a seller and an open auction (users made without password hashing, for speed)."""
    buyer, seller = add_users(db, 2, prefix="scene")
    return Scene(db, buyer, seller, make_auction(db, seller))


def fund_and_hold(scene: Scene, credit: int, held: int) -> None:
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=credit, key="top-up-1")
    scene.transaction(wallet.hold, user_id=scene.buyer, auction_id=scene.auction, amount=held, key="hold-1")


def test_new_user_has_an_empty_wallet(scene: Scene) -> None:
    assert scene.balance(scene.buyer) == Balance(0, 0)
    assert scene.db.transaction(wallet.history, scene.buyer) == []


def test_credit_moves_money_from_settlement_into_available(scene: Scene) -> None:
    movement = scene.transaction(wallet.credit, user_id=scene.buyer, amount=5_000, key="pay-1")
    assert (movement.kind, movement.reason, movement.amount, movement.replayed) == ("credit", "top_up", 5_000, False)
    assert scene.balance(scene.buyer) == Balance(5_000, 0)
    with scene.db.session() as session:
        settlement = session.get(Wallet, wallet.system_wallet_id(session, wallet.SETTLEMENT))
        # Derived: its entries say -5.000; its row keeps no cached balance (no hot row for money coming in).
        assert wallet.derived_balance(session, wallet.SETTLEMENT) == -5_000
        assert (settlement.available, settlement.held) == (0, 0)
    assert scene.violations() == []


def test_settlement_entries_are_written_before_and_after_the_settlement_account_exists(scene: Scene) -> None:
    """The first credit ever creates the settlement account; later ones find it in the statement that writes
    both entries. Either way each transaction is two entries that sum to zero."""
    with scene.db.session() as session:
        assert session.scalar(select(Wallet.id).where(Wallet.code == wallet.SETTLEMENT)) is None
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=5_000, key="pay-1")
    scene.transaction(wallet.credit, user_id=scene.seller, amount=700, key="pay-2", fresh_key=True)
    scene.transaction(wallet.reverse, user_id=scene.buyer, amount=2_000, key="refund-1", fresh_key=True)
    with scene.db.session() as session:
        settlement = wallet.system_wallet_id(session, wallet.SETTLEMENT)
        rows = session.execute(
            select(LedgerTransaction.idempotency_key, LedgerEntry.wallet_id, LedgerEntry.amount)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .order_by(LedgerEntry.id)
        ).all()
        buyer, seller = (wallet.ensure_wallet(session, user).id for user in (scene.buyer, scene.seller))
    assert sorted(rows) == sorted(
        [
            ("pay-1", settlement, -5_000),
            ("pay-1", buyer, 5_000),
            ("pay-2", settlement, -700),
            ("pay-2", seller, 700),
            ("refund-1", settlement, 2_000),
            ("refund-1", buyer, -2_000),
        ]
    )
    assert (scene.balance(scene.buyer), scene.balance(scene.seller)) == (Balance(3_000, 0), Balance(700, 0))
    assert scene.violations() == []


def test_a_fresh_key_used_before_is_refused_by_the_unique_index_and_moves_nothing(scene: Scene) -> None:
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=5_000, key="pay-1")
    with pytest.raises(IntegrityError):
        scene.transaction(wallet.credit, user_id=scene.buyer, amount=5_000, key="pay-1", fresh_key=True)
    assert scene.balance(scene.buyer) == Balance(5_000, 0)
    assert scene.violations() == []


def test_audit_finds_a_payment_whose_movement_count_is_not_its_ledger_transactions(scene: Scene) -> None:
    now = clock.now()
    payment = Payment(user_id=scene.buyer, value=5_000, status="RECEIVED", created_at=now, updated_at=now)
    scene.db.transaction(lambda s: (s.add(payment), s.flush()))
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=5_000, key="p-1", payment_id=payment.id)
    assert scene.db.transaction(wallet.audit) == [f"payment {payment.id}: 0 movements recorded but 1 made"]
    scene.db.transaction(lambda s: s.execute(update(Payment).where(Payment.id == payment.id).values(movements=1)))
    assert scene.db.transaction(wallet.audit) == []


def test_reverse_takes_money_back_out_to_settlement(scene: Scene) -> None:
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=5_000, key="pay-1")
    movement = scene.transaction(wallet.reverse, user_id=scene.buyer, amount=2_000, key="refund-1")
    assert (movement.kind, movement.reason, movement.created_debt) == ("reverse", "refund", False)
    assert scene.balance(scene.buyer) == Balance(3_000, 0)
    assert scene.violations() == []


def test_hold_moves_available_into_held_for_the_auction(scene: Scene) -> None:
    fund_and_hold(scene, credit=5_000, held=1_200)
    scene.transaction(wallet.hold, user_id=scene.buyer, auction_id=scene.auction, amount=300, key="hold-2")
    assert scene.balance(scene.buyer) == Balance(3_500, 1_500)
    assert scene.db.transaction(lambda s: wallet.held_for(s, user_id=scene.buyer, auction_id=scene.auction)) == 1_500
    assert scene.violations() == []


def test_hold_beyond_available_is_refused_with_a_clear_message(scene: Scene) -> None:
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=1_000, key="pay-1")
    with pytest.raises(InsufficientFunds) as refused:
        scene.transaction(wallet.hold, user_id=scene.buyer, auction_id=scene.auction, amount=1_001, key="hold-1")
    assert refused.value.code == "insufficient_funds"
    assert refused.value.message == "not enough funds: R$ 10,01 needed, R$ 10,00 available"
    assert refused.value.details == {"available": 1_000, "needed": 1_001}
    assert scene.balance(scene.buyer) == Balance(1_000, 0)
    scene.transaction(wallet.hold, user_id=scene.buyer, auction_id=scene.auction, amount=1_000, key="hold-1")
    assert scene.balance(scene.buyer) == Balance(0, 1_000)


def test_release_without_amount_gives_back_the_whole_hold(scene: Scene) -> None:
    fund_and_hold(scene, credit=5_000, held=1_200)
    movement = scene.transaction(wallet.release, user_id=scene.buyer, auction_id=scene.auction, key="outbid-1")
    assert (movement.kind, movement.reason, movement.amount) == ("release", "released", 1_200)
    assert scene.balance(scene.buyer) == Balance(5_000, 0)
    assert scene.db.transaction(lambda s: wallet.held_for(s, user_id=scene.buyer, auction_id=scene.auction)) == 0
    assert scene.violations() == []


def test_release_of_part_keeps_the_rest_held(scene: Scene) -> None:
    fund_and_hold(scene, credit=5_000, held=1_200)
    scene.transaction(wallet.release, user_id=scene.buyer, auction_id=scene.auction, amount=200, key="lower-max")
    assert scene.balance(scene.buyer) == Balance(4_000, 1_000)
    with pytest.raises(Invalid, match="cannot release R\\$ 10,01: only R\\$ 10,00 held"):
        scene.transaction(wallet.release, user_id=scene.buyer, auction_id=scene.auction, amount=1_001, key="too-much")
    assert scene.violations() == []


def test_release_with_nothing_held_records_nothing(scene: Scene) -> None:
    movement = scene.transaction(wallet.release, user_id=scene.buyer, auction_id=scene.auction, key="nothing")
    assert (movement.transaction_id, movement.amount) == (None, 0)
    assert scene.db.transaction(wallet.history, scene.buyer) == []


def test_capture_pays_the_seller_takes_the_fee_and_releases_the_rest(scene: Scene, app) -> None:
    fund_and_hold(scene, credit=50_000, held=30_000)
    fee_bps = app.config["PLATFORM_FEE_BPS"]
    movement = scene.transaction(
        wallet.capture,
        user_id=scene.buyer,
        auction_id=scene.auction,
        seller_id=scene.seller,
        amount=20_000,
        key="won-1",
        fee_bps=fee_bps,
    )
    assert (movement.kind, movement.reason, movement.amount) == ("capture", "won", 20_000)
    assert scene.balance(scene.buyer) == Balance(30_000, 0)  # 50,000 - 20,000 paid; the 10,000 rest released
    assert scene.balance(scene.seller) == Balance(19_500, 0)  # 20,000 minus 2.5 %
    with scene.db.session() as session:
        fees = session.get(Wallet, wallet.system_wallet_id(session, wallet.FEES))
        assert fees.available == 500
    assert scene.history_reasons(scene.buyer) == ["top_up", "bid_hold", "won", "released"]
    assert scene.history_reasons(scene.seller) == ["sale", "fee"]
    assert scene.violations() == []
    assert scene.db.transaction(wallet.audit) == []


def test_capture_without_fee_pays_the_whole_amount(scene: Scene) -> None:
    fund_and_hold(scene, credit=1_000, held=1_000)
    capture = dict(user_id=scene.buyer, auction_id=scene.auction, seller_id=scene.seller, amount=1_000, key="won-1")
    scene.transaction(wallet.capture, **capture)
    assert scene.balance(scene.buyer) == Balance(0, 0)
    assert scene.balance(scene.seller) == Balance(1_000, 0)
    assert scene.history_reasons(scene.seller) == ["sale"]


def test_capture_of_more_than_is_held_is_refused(scene: Scene) -> None:
    fund_and_hold(scene, credit=5_000, held=1_000)
    capture = dict(user_id=scene.buyer, auction_id=scene.auction, seller_id=scene.seller, key="won-1")
    with pytest.raises(InsufficientFunds, match="cannot capture R\\$ 10,01: only R\\$ 10,00 held"):
        scene.transaction(wallet.capture, amount=1_001, **capture)
    with pytest.raises(Invalid, match="basis points"):
        scene.transaction(wallet.capture, amount=1_000, fee_bps=10_001, **capture)
    assert scene.balance(scene.buyer) == Balance(4_000, 1_000)
    assert scene.balance(scene.seller) == Balance(0, 0)


def test_a_captured_hold_cannot_be_captured_or_released_again(scene: Scene) -> None:
    fund_and_hold(scene, credit=5_000, held=1_000)
    capture = dict(user_id=scene.buyer, auction_id=scene.auction, seller_id=scene.seller, amount=1_000)
    scene.transaction(wallet.capture, key="won-1", **capture)
    with pytest.raises(InsufficientFunds):
        scene.transaction(wallet.capture, key="won-2", **capture)
    assert scene.transaction(wallet.release, user_id=scene.buyer, auction_id=scene.auction, key="late").amount == 0
    assert scene.balance(scene.seller) == Balance(1_000, 0)


OPERATIONS: dict[str, Callable[[Scene], dict]] = {
    "credit": lambda sc: dict(fn=wallet.credit, user_id=sc.buyer, amount=700),
    "reverse": lambda sc: dict(fn=wallet.reverse, user_id=sc.buyer, amount=700),
    "hold": lambda sc: dict(fn=wallet.hold, user_id=sc.buyer, auction_id=sc.auction, amount=700),
    "release": lambda sc: dict(fn=wallet.release, user_id=sc.buyer, auction_id=sc.auction, amount=700),
    "capture": lambda sc: dict(
        fn=wallet.capture, user_id=sc.buyer, auction_id=sc.auction, seller_id=sc.seller, amount=700, fee_bps=FEE_BPS
    ),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_same_key_twice_has_one_effect_and_returns_the_first_result(scene: Scene, operation: str) -> None:
    fund_and_hold(scene, credit=5_000, held=2_000)
    call = OPERATIONS[operation](scene)
    fn = call.pop("fn")
    first = scene.transaction(fn, key="op-1", **call)
    after_first = (
        scene.balance(scene.buyer),
        scene.balance(scene.seller),
        scene.db.transaction(wallet.history, scene.buyer),
    )
    second = scene.transaction(fn, key="op-1", **call)
    assert (first.replayed, second.replayed) == (False, True)
    assert second.transaction_id == first.transaction_id is not None
    assert (second.kind, second.reason, second.amount) == (first.kind, first.reason, first.amount)
    assert (
        scene.balance(scene.buyer),
        scene.balance(scene.seller),
        scene.db.transaction(wallet.history, scene.buyer),
    ) == (after_first)
    assert scene.violations() == []


def test_a_key_used_for_another_movement_is_refused(scene: Scene, make_user: Callable[..., int]) -> None:
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=1_000, key="pay-1")
    with pytest.raises(Invalid, match="already used for a different movement"):
        scene.transaction(wallet.reverse, user_id=scene.buyer, amount=1_000, key="pay-1")
    with pytest.raises(Invalid, match="already used for a different movement"):
        scene.transaction(wallet.credit, user_id=make_user("other"), amount=1_000, key="pay-1")
    assert scene.balance(scene.buyer) == Balance(1_000, 0)


def test_a_reversal_of_spent_money_records_debt_without_clamping(scene: Scene) -> None:
    fund_and_hold(scene, credit=1_000, held=800)
    movement = scene.transaction(
        wallet.reverse, user_id=scene.buyer, amount=1_000, key="chargeback-1", reason="chargeback"
    )
    assert movement.created_debt is True
    balance = scene.balance(scene.buyer)
    assert balance == Balance(-800, 800)  # the hold stays; available is honestly negative
    assert balance.in_debt and balance.as_dict() == {"available": -800, "held": 800, "frozen": 0, "in_debt": True}
    newest = scene.db.transaction(wallet.history, scene.buyer)[0]
    assert (newest.reason, newest.available_change, newest.created_debt) == ("chargeback", -1_000, True)
    assert scene.violations() == []
    assert scene.db.transaction(wallet.audit) == []


def test_a_wallet_in_debt_cannot_hold_until_it_is_back_at_zero(scene: Scene, db: Database) -> None:
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=500, key="pay-1")
    scene.transaction(wallet.hold, user_id=scene.buyer, auction_id=scene.auction, amount=500, key="hold-1")
    scene.transaction(wallet.reverse, user_id=scene.buyer, amount=500, key="chargeback-1", reason="chargeback")
    scene.transaction(wallet.release, user_id=scene.buyer, auction_id=scene.auction, key="outbid-1")
    assert scene.balance(scene.buyer) == Balance(0, 0)
    scene.transaction(wallet.reverse, user_id=scene.buyer, amount=300, key="chargeback-2", reason="chargeback")
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=200, key="pay-2")
    assert scene.balance(scene.buyer) == Balance(-100, 0)
    with pytest.raises(WalletInDebt) as refused:
        scene.transaction(wallet.hold, user_id=scene.buyer, auction_id=scene.auction, amount=1, key="hold-2")
    assert refused.value.code == "wallet_in_debt"
    assert "in debt (-R$ 1,00)" in refused.value.message
    scene.transaction(wallet.credit, user_id=scene.buyer, amount=150, key="pay-3")
    scene.transaction(wallet.hold, user_id=scene.buyer, auction_id=scene.auction, amount=50, key="hold-2")
    assert scene.balance(scene.buyer) == Balance(0, 50)


def test_history_names_every_reason_with_its_reference(scene: Scene) -> None:
    other = make_auction(scene.db, scene.seller, "Second radio")
    buyer, auction = scene.buyer, scene.auction
    scene.transaction(wallet.credit, user_id=buyer, amount=10_000, key="pay-1")
    scene.transaction(wallet.hold, user_id=buyer, auction_id=auction, amount=4_000, key="hold-1", bid_id=None)
    scene.transaction(wallet.hold, user_id=buyer, auction_id=other, amount=1_000, key="hold-2")
    scene.transaction(wallet.release, user_id=buyer, auction_id=other, key="outbid-2")
    capture = dict(user_id=buyer, auction_id=auction, seller_id=scene.seller, amount=3_000, fee_bps=FEE_BPS)
    scene.transaction(wallet.capture, key="won-1", **capture)
    scene.transaction(wallet.reverse, user_id=buyer, amount=1_000, key="refund-1")
    scene.transaction(wallet.reverse, user_id=buyer, amount=500, key="chargeback-1", reason="chargeback")
    assert scene.history_reasons(buyer) == [
        "top_up",
        "bid_hold",
        "bid_hold",
        "released",
        "won",
        "released",
        "refund",
        "chargeback",
    ]
    items = scene.db.transaction(wallet.history, buyer)
    by_reason = {(item.reason, item.auction_id): item for item in items}
    assert by_reason[("won", auction)].held_change == -3_000
    assert by_reason[("released", other)].available_change == 1_000
    assert by_reason[("bid_hold", auction)].available_change == -4_000
    assert [item.transaction_id for item in items] == sorted((item.transaction_id for item in items), reverse=True)
    seller_items = scene.db.transaction(wallet.history, scene.seller)
    assert [(i.reason, i.available_change, i.auction_id) for i in seller_items] == [
        ("fee", -75, auction),
        ("sale", 3_000, auction),
    ]
    assert len(scene.db.transaction(lambda s: wallet.history(s, buyer, limit=3))) == 3


def test_amounts_must_be_positive_whole_cents_and_keys_are_required(scene: Scene) -> None:
    for amount in (0, -5, 1.5, "100", True):
        with pytest.raises(InvalidAmount):
            scene.transaction(wallet.credit, user_id=scene.buyer, amount=amount, key="pay-1")
        with pytest.raises(InvalidAmount):
            scene.transaction(wallet.hold, user_id=scene.buyer, auction_id=scene.auction, amount=amount, key="hold-1")
    for key in ("", "k" * 192):
        with pytest.raises(Invalid, match="idempotency key"):
            scene.transaction(wallet.credit, user_id=scene.buyer, amount=100, key=key)
    assert scene.db.transaction(wallet.history, scene.buyer) == []


def tamper(db: Database, user_id: int, available: int) -> None:
    db.transaction(lambda s: s.execute(update(Wallet).where(Wallet.user_id == user_id).values(available=available)))


def test_audit_finds_a_tampered_balance(scene: Scene) -> None:
    fund_and_hold(scene, credit=5_000, held=1_000)
    assert scene.db.transaction(wallet.audit) == []
    tamper(scene.db, scene.buyer, 4_100)
    wallet_id = scene.db.transaction(lambda s: wallet.ensure_wallet(s, scene.buyer).id)
    assert scene.db.transaction(wallet.audit) == [
        f"wallet {wallet_id} (user {scene.buyer}): available is 4100 but its ledger entries sum to 4000"
    ]


def test_audit_command_exits_zero_when_clean_and_one_with_mismatch_lines(scene: Scene, app) -> None:
    fund_and_hold(scene, credit=5_000, held=1_000)
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["wallet", "audit"])
    assert clean.exit_code == 0, clean.output
    assert "ledger OK" in clean.output
    tamper(scene.db, scene.buyer, 1)
    tamper(scene.db, scene.seller, 7)
    broken = runner.invoke(args=["wallet", "audit"])
    assert broken.exit_code == 1
    mismatches = [line for line in broken.output.splitlines() if line.startswith("MISMATCH ")]
    assert len(mismatches) == 2
    assert any(f"(user {scene.buyer}): available is 1 but its ledger entries sum to 4000" in m for m in mismatches)
    assert any(f"(user {scene.seller}): available is 7 but its ledger entries sum to 0" in m for m in mismatches)
    assert "2 mismatch(es)" in broken.output


def test_a_lost_race_to_create_a_platform_account_is_retried_and_finds_the_winner(db: Database) -> None:
    attempts: list[int] = []

    def create_fees_account(session: Session) -> int:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            winner = db.transaction(wallet.system_wallet_id, wallet.FEES)  # a concurrent request commits it first
            session.add(Wallet(kind=wallet.FEES, code=wallet.FEES, updated_at=clock.now()))
            session.flush()  # this one inserts it again: a duplicate key
            raise AssertionError(f"the duplicate of wallet {winner} was accepted")
        return wallet.system_wallet_id(session, wallet.FEES)

    fees_id = db.transaction(create_fees_account)
    assert attempts == [1, 2]
    with db.session() as session:
        assert session.scalars(select(Wallet.id).where(Wallet.code == wallet.FEES)).all() == [fees_id]


def test_a_genuine_duplicate_is_raised_after_a_bounded_retry(db: Database) -> None:
    attempts: list[int] = []

    def insert_settlement_twice(session: Session) -> None:
        attempts.append(1)
        session.add(Wallet(kind=wallet.SETTLEMENT, code=wallet.SETTLEMENT, updated_at=clock.now()))
        session.add(Wallet(kind=wallet.SETTLEMENT, code=wallet.SETTLEMENT, updated_at=clock.now()))
        session.flush()

    with pytest.raises(IntegrityError):
        db.transaction(insert_settlement_twice)
    assert len(attempts) == 1 + MAX_DUPLICATE_RETRIES


def test_a_retried_unit_of_work_keeps_only_the_last_attempts_messages(db: Database) -> None:
    from sqlalchemy.exc import OperationalError

    from auction.outbox import Outbox
    from auction.uow import UnitOfWork

    outbox = Outbox()
    outbox.to_user(1, "queued_before", {})
    attempts: list[int] = []

    def deadlocks_once(uow: UnitOfWork) -> None:
        attempts.append(1)
        uow.outbox.to_user(1, f"attempt_{len(attempts)}", {})
        if len(attempts) == 1:
            raise OperationalError("UPDATE wallets", {}, Exception("Deadlock found when trying to get lock"))

    db.run(deadlocks_once, outbox=outbox)
    assert [m.event for m in outbox] == ["queued_before", "attempt_2"]

"""Orders after a sale: escrow, shipping, receipt, automatic release, disputes both ways, buyer cancellation.

Every test ends with `wallet.audit(...) == []` (which also checks the escrow account against the orders).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from auction import clock, wallet
from auction.auctions import closing
from auction.errors import Forbidden, Invalid
from auction.models import LedgerTransaction, Notification, Order
from auction.orders import service as orders
from auction.orders.rules import OrderState
from auction.outbox import Outbox
from tests.support.auctions import audit, balance, fund, new_auction, place
from tests.support.server import ROOT

pytestmark = pytest.mark.usefixtures("fast_passwords")
FEE_BPS = 1_000  # 10 %
ADDRESS = {
    "recipient": "Ana Souza",
    "line1": "Rua Augusta, 1500, ap 12",
    "line2": "",
    "city": "São Paulo",
    "state": "sp",
    "postal_code": "01304001",
}


@pytest.fixture
def sale(db, make_user):
    """A finished auction: ana bought it for R$ 30,00 from sol (a R$ 40,00 maximum held until the close)."""
    seller, buyer, admin = make_user("sol"), make_user("ana"), make_user("root", is_admin=True)
    fund(db, buyer, 10_000)
    auction_id = new_auction(db, seller, seconds=60, starting_price=3_000)
    place(db, auction_id, buyer, 3_000, max_amount=4_000)
    clock.advance(timedelta(seconds=61))
    db.run(closing.finish_if_due, auction_id, fee_bps=FEE_BPS)
    order_id = db.transaction(lambda s: s.scalar(select(Order.id).where(Order.auction_id == auction_id)))
    return {"seller": seller, "buyer": buyer, "admin": admin, "auction": auction_id, "order": order_id}


def order_of(db, order_id: int) -> Order:
    return db.transaction(lambda s: s.get(Order, order_id))


def run(db, fn, cmd):
    outbox = Outbox()
    return db.run(fn, cmd, outbox=outbox), outbox


def address_and_ship(db, sale) -> None:
    db.run(orders.set_address, orders.SetAddress(sale["order"], sale["buyer"], ADDRESS))
    db.run(orders.ship, orders.Ship(sale["order"], sale["seller"], "Correios", "BR123456789BR", release_days=14))


def test_a_sale_keeps_the_price_in_escrow_and_gives_back_the_rest_of_the_hold(db, sale):
    order = order_of(db, sale["order"])
    assert (order.status, order.price, order.fee, order.escrowed) == ("paid", 3_000, 300, 3_000)
    assert balance(db, sale["buyer"]) == wallet.Balance(7_000, 0)
    assert balance(db, sale["seller"]) == wallet.Balance(0, 0)
    escrow = db.transaction(lambda s: s.get(wallet.ledger.Wallet, wallet.system_wallet_id(s, "escrow")).available)
    assert escrow == 3_000
    kinds = db.transaction(lambda s: {(n.user_id, n.kind) for n in s.scalars(select(Notification))})
    assert {(sale["buyer"], "order_opened"), (sale["seller"], "order_opened")} <= kinds
    assert audit(db) == []


def test_ship_then_confirm_pays_the_seller_minus_the_fee_and_tells_both_sides(db, sale):
    address_and_ship(db, sale)
    shipped = order_of(db, sale["order"])
    assert (shipped.status, shipped.carrier, shipped.tracking_code) == ("shipped", "Correios", "BR123456789BR")
    assert shipped.ship_state == "SP" and shipped.ship_postal_code == "01304-001"
    order, outbox = run(db, orders.confirm, orders.OrderAction(sale["order"], sale["buyer"]))
    assert (order.status, order.resolution, order.escrowed) == ("completed", "confirmed", 0)
    assert balance(db, sale["seller"]) == wallet.Balance(2_700, 0)
    assert balance(db, sale["buyer"]) == wallet.Balance(7_000, 0)
    rooms = {(m.event, m.room) for m in outbox}
    assert {("order", f"user:{sale['buyer']}"), ("order", f"user:{sale['seller']}")} <= rooms
    assert {("wallet", f"user:{sale['seller']}"), ("notification", f"user:{sale['seller']}")} <= rooms
    keys = db.transaction(
        lambda s: set(
            s.scalars(select(LedgerTransaction.idempotency_key).where(LedgerTransaction.auction_id == sale["auction"]))
        )
    )
    assert {f"order:{sale['order']}:release", f"order:{sale['order']}:release:fee"} <= keys
    with pytest.raises(OrderState):  # once only
        db.run(orders.confirm, orders.OrderAction(sale["order"], sale["buyer"]))
    assert audit(db) == []


def test_only_the_seller_ships_only_the_buyer_confirms_and_shipping_needs_an_address(db, sale):
    with pytest.raises(Invalid, match="delivery address"):
        db.run(orders.ship, orders.Ship(sale["order"], sale["seller"], "Correios", "BR1", release_days=14))
    with pytest.raises(Forbidden):
        db.run(orders.ship, orders.Ship(sale["order"], sale["buyer"], "Correios", "BR1", release_days=14))
    with pytest.raises(OrderState):  # not shipped yet
        db.run(orders.confirm, orders.OrderAction(sale["order"], sale["buyer"]))
    address_and_ship(db, sale)
    with pytest.raises(Forbidden):
        db.run(orders.confirm, orders.OrderAction(sale["order"], sale["seller"]))
    assert order_of(db, sale["order"]).status == "shipped"
    assert audit(db) == []


def test_a_bad_address_is_refused_and_changes_nothing(db, sale):
    with pytest.raises(Invalid) as refused:
        db.run(orders.set_address, orders.SetAddress(sale["order"], sale["buyer"], ADDRESS | {"postal_code": "123"}))
    assert refused.value.details["field"] == "postal_code"
    with pytest.raises(Invalid):
        db.run(orders.set_address, orders.SetAddress(sale["order"], sale["buyer"], ADDRESS | {"state": "XX"}))
    assert order_of(db, sale["order"]).ship_line1 is None
    assert audit(db) == []


def test_the_saved_address_is_used_for_the_next_order(db, sale, make_user):
    db.run(orders.set_address, orders.SetAddress(sale["order"], sale["buyer"], ADDRESS))
    auction_id = new_auction(db, sale["seller"], seconds=60, starting_price=1_000)
    place(db, auction_id, sale["buyer"], 1_000)
    clock.advance(timedelta(seconds=61))
    db.run(closing.finish_if_due, auction_id, fee_bps=0)
    second = db.transaction(lambda s: s.scalars(select(Order).where(Order.auction_id == auction_id)).one())
    assert (second.ship_recipient, second.ship_city) == ("Ana Souza", "São Paulo")
    db.run(orders.ship, orders.Ship(second.id, sale["seller"], "Jadlog", "JD1", release_days=14))
    db.run(orders.confirm, orders.OrderAction(second.id, sale["buyer"]))  # no fee on this one
    assert balance(db, sale["seller"]) == wallet.Balance(1_000, 0)
    assert audit(db) == []


def test_without_confirmation_the_escrow_is_released_after_the_release_days(db, sale):
    address_and_ship(db, sale)
    assert db.transaction(orders.due_order_ids) == []
    clock.advance(timedelta(days=14, seconds=1))
    assert db.transaction(orders.due_order_ids) == [sale["order"]]
    assert db.run(orders.release_if_due, sale["order"]) is True
    assert db.run(orders.release_if_due, sale["order"]) is False  # exactly once
    order = order_of(db, sale["order"])
    assert (order.status, order.resolution) == ("completed", "automatic")
    assert balance(db, sale["seller"]) == wallet.Balance(2_700, 0)
    assert audit(db) == []


def test_a_dispute_decided_for_the_buyer_refunds_the_buyers_wallet(db, sale):
    address_and_ship(db, sale)
    db.run(orders.dispute, orders.OpenDispute(sale["order"], sale["buyer"], "The box arrived empty."))
    clock.advance(timedelta(days=30))
    assert db.run(orders.release_if_due, sale["order"]) is False  # a dispute stops the automatic release
    with pytest.raises(Forbidden):
        db.run(orders.resolve, orders.Resolve(sale["order"], sale["seller"], "release"))
    order, _ = run(db, orders.resolve, orders.Resolve(sale["order"], sale["admin"], "refund"))
    assert (order.status, order.resolution, order.resolved_by_id) == ("refunded", "refund", sale["admin"])
    assert balance(db, sale["buyer"]) == wallet.Balance(10_000, 0)
    assert balance(db, sale["seller"]) == wallet.Balance(0, 0)
    assert audit(db) == []


def test_a_dispute_decided_for_the_seller_releases_the_escrow(db, sale):
    db.run(orders.dispute, orders.OpenDispute(sale["order"], sale["buyer"], "Never arrived"))
    with pytest.raises(Invalid):
        db.run(orders.resolve, orders.Resolve(sale["order"], sale["admin"], "maybe"))
    db.run(orders.resolve, orders.Resolve(sale["order"], sale["admin"], "release"))
    assert order_of(db, sale["order"]).status == "completed"
    assert balance(db, sale["seller"]) == wallet.Balance(2_700, 0)
    with pytest.raises(OrderState):
        db.run(orders.dispute, orders.OpenDispute(sale["order"], sale["buyer"], "again"))
    assert audit(db) == []


def test_the_buyer_cancels_an_order_never_shipped_in_time_and_gets_the_escrow_back(db, sale):
    cancel = orders.CancelOrder(sale["order"], sale["buyer"], ship_days=7)
    with pytest.raises(OrderState, match="still has time"):
        db.run(orders.cancel, cancel)
    clock.advance(timedelta(days=7, seconds=1))
    with pytest.raises(Forbidden):
        db.run(orders.cancel, orders.CancelOrder(sale["order"], sale["seller"], ship_days=7))
    db.run(orders.cancel, cancel)
    order = order_of(db, sale["order"])
    assert (order.status, order.escrowed) == ("cancelled", 0)
    assert balance(db, sale["buyer"]) == wallet.Balance(10_000, 0)
    with pytest.raises(OrderState):
        db.run(orders.ship, orders.Ship(sale["order"], sale["seller"], "Correios", "BR1", release_days=14))
    assert audit(db) == []


def test_a_shipped_order_cannot_be_cancelled(db, sale):
    address_and_ship(db, sale)
    clock.advance(timedelta(days=8))
    with pytest.raises(OrderState):
        db.run(orders.cancel, orders.CancelOrder(sale["order"], sale["buyer"], ship_days=7))
    assert audit(db) == []


def test_the_docs_say_what_finishing_does_with_the_money(db, sale):
    """docs/payments.md is the one description of the money after the sale (ledger kind and reason into escrow,
    the seller paid only on release); docs/socket-protocol.md's "Automatic finish" points there."""
    payments = (ROOT / "docs" / "payments.md").read_text()
    protocol = (ROOT / "docs" / "socket-protocol.md").read_text()
    finish = protocol.split("## Automatic finish", 1)[1].split("\n## ", 1)[0]
    assert "payments.md#after-the-sale-the-order-and-its-escrow" in finish and "escrow" in finish
    assert "seller is credited" not in finish and "### After the sale: the order and its escrow" in payments
    kind, reason = re.search(r"\*\*escrow\*\* account \(ledger kind `(\w+)`,\s+reason `(\w+)`", payments).groups()
    moved = db.transaction(
        lambda s: s.execute(
            select(LedgerTransaction.kind, LedgerTransaction.reason).where(
                LedgerTransaction.auction_id == sale["auction"]
            )
        ).all()
    )
    assert (kind, reason) in moved
    assert balance(db, sale["seller"]) == wallet.Balance(0, 0)  # nothing for the seller until the release
    assert audit(db) == []

"""After a sale event, through the use cases: the buyer's premium from the hold to escrow to its payee, the
invoice per buyer, relisting and second-chance offers (the money races on SQLite and MariaDB).

Every test ends with the wallet audit clean (it also checks the escrow account against the orders)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from auction import clock
from auction.auctions import closing, relisting, sale_events, second_chance
from auction.auctions.errors import NoSecondChance, NotRelistable, OfferClosed
from auction.errors import Forbidden
from auction.models import Auction, LedgerTransaction, Notification, Order, SaleEvent, SecondChanceOffer
from auction.orders import service as orders
from auction.wallet import InsufficientFunds
from tests.support.auctions import audit, balance, fund, held, new_auction, place
from tests.test_sale_events import new_event

pytestmark = pytest.mark.usefixtures("fast_passwords")
ADDRESS = {
    "recipient": "Ana Souza",
    "line1": "Rua Augusta, 1500",
    "line2": "",
    "city": "São Paulo",
    "state": "sp",
    "postal_code": "01304001",
}


@pytest.fixture
def people(make_user, db):
    ids = {name: make_user(name) for name in ("seller", "ana", "bia")}
    ids["admin"] = make_user("house", is_admin=True)
    for name in ("ana", "bia"):
        fund(db, ids[name], 100_000)
    return ids


def event_with_lots(db, people, organizer: str, lots: int = 1, premium_bps: int = 1_000, **auction) -> tuple:
    """An event of `organizer` closing in 10 minutes with `lots` lots of the seller; ana and bia registered.
    Returns (event id, lot ids)."""
    organizer, seller, bidders = people[organizer], people["seller"], (people["ana"], people["bia"])
    first_close_at = clock.now() + timedelta(minutes=10)
    event_id = new_event(db, organizer, first_close_at=first_close_at, soft_close_seconds=0, premium_bps=premium_bps)
    ids = []
    for _ in range(lots):
        auction_id = new_auction(db, seller, seconds=7200, **auction)
        db.run(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, organizer))
        ids.append(auction_id)
    for bidder in bidders:
        db.run(sale_events.register, sale_events.Register(event_id, bidder, 1))
    return event_id, ids


def finish_all(db) -> None:
    clock.advance(timedelta(hours=1))
    for auction_id in db.transaction(closing.due_auction_ids):
        db.run(closing.finish_if_due, auction_id, fee_bps=500)


def order_for(db, auction_id: int) -> Order:
    return db.transaction(
        lambda s: s.scalars(select(Order).where(Order.auction_id == auction_id).order_by(Order.id.desc())).first()
    )


def ship_and_confirm(db, order: Order) -> None:
    db.run(orders.set_address, orders.SetAddress(order.id, order.buyer_id, ADDRESS))
    db.run(orders.ship, orders.Ship(order.id, order.seller_id, "Correios", "BR1", release_days=14))
    db.run(orders.confirm, orders.OrderAction(order.id, order.buyer_id))


@pytest.mark.parametrize("backend", ["sqlite"])  # the arithmetic of one transaction: the database plays no part
def test_a_winning_bid_holds_the_premium_and_the_sale_pays_it_to_the_organizer(db, people):
    """10 % premium: ana's R$ 20,00 maximum holds R$ 22,00; bia's R$ 15,00 is answered by the proxy at R$ 15,50;
    the close puts R$ 17,05 (15,50 + 1,55) in escrow and gives ana back the rest; on receipt the seller gets the
    price minus the 5 % fee and, organizing their own event, the premium."""
    seller = people["seller"]
    _, [lot] = event_with_lots(db, people, "seller")
    place(db, lot, people["ana"], 1_000, max_amount=2_000)
    assert held(db, people["ana"], lot) == 2_200
    place(db, lot, people["bia"], 1_500)
    assert held(db, people["bia"], lot) == 0 and held(db, people["ana"], lot) == 2_200
    finish_all(db)
    order = order_for(db, lot)
    assert (order.price, order.premium, order.escrowed, order.fee) == (1_550, 155, 1_705, 77)
    assert balance(db, people["ana"]).available == 100_000 - 1_705
    ship_and_confirm(db, order)
    assert balance(db, seller).available == 1_550 - 77 + 155
    reasons = db.transaction(
        lambda s: s.scalars(select(LedgerTransaction.reason).where(LedgerTransaction.auction_id == lot)).all()
    )
    assert {"won", "sale", "fee", "premium"} <= set(reasons)
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_house_sales_premium_goes_to_the_platform_and_a_refund_returns_it(db, people):
    _, [sold, refunded] = event_with_lots(db, people, "admin", lots=2, premium_bps=250)
    place(db, sold, people["ana"], 10_000)
    place(db, refunded, people["bia"], 1_005)
    finish_all(db)
    ship_and_confirm(db, order_for(db, sold))
    assert balance(db, people["admin"]).available == 0  # the house's premium is the platform's, not the admin's
    premium_to = db.transaction(
        lambda s: s.scalar(
            select(LedgerTransaction.wallet_id).where(
                LedgerTransaction.auction_id == sold, LedgerTransaction.reason == "premium"
            )
        )
    )
    assert premium_to == db.transaction(lambda s: orders.escrow.system_wallet_id(s, "fees"))
    second = order_for(db, refunded)
    assert (second.price, second.premium) == (1_005, 25)  # R$ 0,25125 rounds to R$ 0,25
    clock.advance(timedelta(days=8))
    db.run(orders.cancel, orders.CancelOrder(second.id, people["bia"], ship_days=7))
    assert balance(db, people["bia"]).available == 100_000
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_hold_short_of_the_premium_takes_the_rest_from_the_balance_even_into_debt(db, people):
    """Bids placed before holds covered the premium (the event's premium set under them): the close takes what the
    hold lacks from the available balance (reason premium_due), into debt when even that lacks it."""
    _, [lot] = event_with_lots(db, people, "seller", premium_bps=0)
    place(db, lot, people["ana"], 100_000)  # all of ana's money held
    db.transaction(lambda s: s.execute(update(SaleEvent).values(premium_bps=1_000)))
    finish_all(db)
    order = order_for(db, lot)
    assert (order.price, order.premium, order.escrowed) == (100_000, 10_000, 110_000)
    ana = balance(db, people["ana"])
    assert (ana.available, ana.held, ana.in_debt) == (-10_000, 0, True)
    due = db.transaction(
        lambda s: s.scalar(select(LedgerTransaction.created_debt).where(LedgerTransaction.reason == "premium_due"))
    )
    assert due is True
    assert audit(db) == []


# -- relisting and second-chance offers ----------------------------------------------------------------------


def unsold_lot(db, people, reserve: int = 5_000) -> int:
    """A lot of the seller's event that ended below its reserve: ana bid R$ 20,00, bia R$ 30,00."""
    _, [lot] = event_with_lots(db, people, "seller", reserve_price=reserve)
    place(db, lot, people["ana"], 2_000)
    place(db, lot, people["bia"], 3_000)
    finish_all(db)
    assert order_for(db, lot) is None
    return lot


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_unsold_lot_is_relisted_once_as_a_single_auction_or_into_a_later_event(db, people):
    seller = people["seller"]
    lot = unsold_lot(db, people)
    with pytest.raises(Forbidden):
        db.run(relisting.relist, relisting.Relist(lot, people["ana"]))
    later, _ = event_with_lots(db, people, "seller", lots=0)
    new_id = db.run(relisting.relist, relisting.Relist(lot, seller, event_id=later))
    new = db.transaction(lambda s: s.get(Auction, new_id))
    old = db.transaction(lambda s: s.get(Auction, lot))
    assert (new.relisted_from_id, new.event_id, new.lot_number, new.status) == (lot, later, 1, "open")
    assert (new.title, new.reserve_price, new.bid_count) == (old.title, old.reserve_price, 0)
    assert (old.status, old.bid_count) == ("finished", 2)  # the old one stays as it ended
    with pytest.raises(NotRelistable):
        db.run(relisting.relist, relisting.Relist(lot, seller))
    with pytest.raises(NoSecondChance):  # relisted: the item is on sale again
        db.run(second_chance.make_offer, second_chance.MakeOffer(lot, seller, people["bia"]))

    sold_id = event_with_lots(db, people, "seller")[1][0]
    place(db, sold_id, people["ana"], 2_000)
    finish_all(db)
    with pytest.raises(NotRelistable):  # sold
        db.run(relisting.relist, relisting.Relist(sold_id, seller))
    assert audit(db) == []


def offer(db, people, lot: int, bidder: str) -> int:
    command = second_chance.MakeOffer(lot, people["seller"], people[bidder])
    return db.run(lambda uow: second_chance.make_offer(uow, command).id)


def answer(db, offer_id: int, user_id: int, accept: bool = True):
    return db.run(second_chance.answer, second_chance.AnswerOffer(offer_id, user_id, accept, fee_bps=500))


@pytest.mark.parametrize("backend", ["sqlite"])  # the race on MariaDB is the next test's
def test_a_second_chance_offer_below_the_reserve_is_accepted_once(db, people):
    """bia's highest bid was R$ 30,00: the offer is R$ 33,00 with the premium; accepting puts it in escrow and opens
    the order; the second accept, and one by ana, refuse and change nothing; relisting is refused while sold."""
    lot = unsold_lot(db, people)
    candidates = db.transaction(lambda s: second_chance.candidates(s, s.get(Auction, lot)))
    assert [(c.bidder_id, c.highest) for c in candidates] == [(people["bia"], 3_000), (people["ana"], 2_000)]
    offer_id = offer(db, people, lot, "bia")
    with pytest.raises(NoSecondChance):  # one open offer at a time
        offer(db, people, lot, "ana")
    kinds = db.transaction(
        lambda s: s.scalars(select(Notification.kind).where(Notification.user_id == people["bia"])).all()
    )
    assert "second_chance_offer" in kinds
    with pytest.raises(Forbidden):
        answer(db, offer_id, people["ana"])
    accepted = answer(db, offer_id, people["bia"])
    order = order_for(db, lot)
    assert (accepted.status, accepted.order_id) == ("accepted", order.id)
    assert (order.buyer_id, order.price, order.premium, order.escrowed) == (people["bia"], 3_000, 300, 3_300)
    assert balance(db, people["bia"]).available == 100_000 - 3_300
    with pytest.raises(OfferClosed):
        answer(db, offer_id, people["bia"])
    assert balance(db, people["bia"]).available == 100_000 - 3_300
    with pytest.raises(NotRelistable):
        db.run(relisting.relist, relisting.Relist(lot, people["seller"]))
    ship_and_confirm(db, order)
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_after_a_cancelled_order_the_underbidder_buys_it_in_a_second_sale(db, people):
    _, [lot] = event_with_lots(db, people, "seller")
    place(db, lot, people["ana"], 2_000)
    place(db, lot, people["bia"], 3_000)
    finish_all(db)
    first = order_for(db, lot)
    with pytest.raises(NoSecondChance):  # sold: no second chance while the sale stands
        offer(db, people, lot, "ana")
    clock.advance(timedelta(days=8))
    db.run(orders.cancel, orders.CancelOrder(first.id, people["bia"], ship_days=7))
    with pytest.raises(NoSecondChance):  # the buyer who cancelled is no underbidder
        offer(db, people, lot, "bia")
    answer(db, offer(db, people, lot, "ana"), people["ana"])
    second = order_for(db, lot)
    assert (second.id != first.id, second.sale_round, second.buyer_id) == (True, 1, people["ana"])
    assert (second.price, second.premium, second.escrowed) == (2_000, 200, 2_200)
    ship_and_confirm(db, second)
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_declined_or_accepted_without_the_money_or_after_the_expiry_writes_nothing(db, people):
    lot = unsold_lot(db, people)
    declined = offer(db, people, lot, "bia")
    assert answer(db, declined, people["bia"], accept=False).status == "declined"
    with pytest.raises(OfferClosed):
        answer(db, declined, people["bia"])
    with pytest.raises(NoSecondChance):  # offered before
        offer(db, people, lot, "bia")
    offer_id = offer(db, people, lot, "ana")  # R$ 20,00 + R$ 2,00
    elsewhere = new_auction(db, people["bia"])
    place(db, elsewhere, people["ana"], 98_000)  # ana's money is held elsewhere: R$ 20,00 left
    before = (balance(db, people["ana"]), db.transaction(lambda s: s.scalar(select(func.count(LedgerTransaction.id)))))
    with pytest.raises(InsufficientFunds):
        answer(db, offer_id, people["ana"])
    after = (balance(db, people["ana"]), db.transaction(lambda s: s.scalar(select(func.count(LedgerTransaction.id)))))
    assert after == before and order_for(db, lot) is None
    assert db.transaction(lambda s: s.get(SecondChanceOffer, offer_id).status) == "open"

    clock.advance(timedelta(hours=second_chance.OFFER_HOURS, seconds=1))
    fund(db, people["ana"], 10_000)
    with pytest.raises(OfferClosed):
        answer(db, offer_id, people["ana"])
    assert db.transaction(lambda s: s.get(SecondChanceOffer, offer_id).status) == "open" and order_for(db, lot) is None
    assert db.run(second_chance.expire_due) == [offer_id]
    assert db.transaction(lambda s: s.get(SecondChanceOffer, offer_id).status) == "expired"
    assert db.run(second_chance.expire_due) == []
    assert audit(db) == []


def test_two_accepts_at_once_open_one_order_and_hold_the_money_once(db, people):
    """The race on the real database: two requests accept the same offer at the same moment (threads, each its own
    transaction); one opens the order, the other is refused with offer_closed, and the money moved once."""
    lot = unsold_lot(db, people)
    offer_id = offer(db, people, lot, "bia")
    start = threading.Barrier(2)
    results: list[object] = []

    def accept() -> None:
        start.wait()
        try:
            results.append(answer(db, offer_id, people["bia"]).status)
        except OfferClosed as refused:
            results.append(refused.code)

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["accepted", "offer_closed"]
    orders_of_lot = db.transaction(lambda s: s.scalars(select(Order.id).where(Order.auction_id == lot)).all())
    assert len(orders_of_lot) == 1
    assert balance(db, people["bia"]).available == 100_000 - 3_300
    assert audit(db) == []

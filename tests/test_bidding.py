"""The auction rules, called directly through the service layer on SQLite and MariaDB."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auction import clock, wallet
from auction.auctions import closing, listing, messages, queries, rules, watching
from auction.auctions.errors import AuctionNotOpen, NotEnded, OwnAuction, TooLow
from auction.auctions.privacy import pseudonym
from auction.errors import Forbidden, Invalid, NotFound
from auction.models import Bid, Notification, Order
from auction.outbox import Outbox
from tests.support.auctions import audit, balance, fund, held, load_auction, new_auction, open_holds, place

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def people(make_user, db):
    """A seller and three funded bidders (R$ 1.000,00 each)."""
    ids = {name: make_user(name) for name in ("seller", "ana", "bia", "caio")}
    for name in ("ana", "bia", "caio"):
        fund(db, ids[name], 100_000)
    return ids


def events(outbox: Outbox) -> list[tuple[str, str]]:
    return [(m.event, m.room) for m in outbox]


def bids_of(db, auction_id: int) -> list[tuple[int, int, bool]]:
    from sqlalchemy import select

    rows = db.transaction(lambda s: s.scalars(select(Bid).where(Bid.auction_id == auction_id).order_by(Bid.id)).all())
    return [(b.bidder_id, b.amount, b.is_proxy) for b in rows]


def assert_leader_hold_is_max(db, auction_id: int) -> None:
    auction = load_auction(db, auction_id)
    expected = {auction.leader_id: auction.leader_max} if auction.leader_id else {}
    assert open_holds(db, auction_id) == expected
    assert audit(db) == []


# -- increments and creation ----------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "increment"),
    [(50, 5), (499, 25), (2_000, 50), (9_999, 100), (10_000, 250), (60_000, 1_000), (600_000, 10_000)],
)
def test_increment_comes_from_price_band(price, increment):
    assert rules.band_increment(price) == increment


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "ab"}, "title"),
        ({"starting_price": 0}, "starting_price"),
        ({"starting_price": 10.5}, "starting_price"),
        ({"starting_price": True}, "starting_price"),
        ({"min_increment": "5"}, "min_increment"),
        ({"reserve_price": 500}, "reserve_price"),
        ({"seconds": 0}, "ends_at"),
        ({"seconds": 31 * 86400}, "ends_at"),
    ],
)
def test_create_auction_names_the_invalid_field(db, people, fields, field):
    with pytest.raises(Invalid) as error:
        new_auction(db, people["seller"], **fields)
    assert error.value.details["field"] == field


def test_future_start_is_scheduled_and_opened_by_the_scheduler(db, people):
    auction_id = new_auction(db, people["seller"], starts_in=60)
    assert load_auction(db, auction_id).status == "scheduled"
    with pytest.raises(AuctionNotOpen):
        place(db, auction_id, people["ana"], 1_000)
    assert db.run(listing.open_due, outbox=Outbox()) == []
    clock.advance(timedelta(seconds=61))
    outbox = Outbox()
    assert db.run(listing.open_due, outbox=outbox) == [auction_id]
    assert events(outbox) == [("auction_opened", f"auction:{auction_id}")]
    assert db.run(listing.open_due, outbox=Outbox()) == []
    assert place(db, auction_id, people["ana"], 1_000)[0].leading


# -- bids -------------------------------------------------------------------------------


def test_first_bid_leads_and_holds_the_amount(db, people):
    auction_id = new_auction(db, people["seller"])
    outcome, outbox = place(db, auction_id, people["ana"], 1_000)
    assert outcome.leading and outcome.price == 1_000 and outcome.next_min == 1_050 and outcome.bid_count == 1
    assert held(db, people["ana"], auction_id) == 1_000
    assert balance(db, people["ana"]) == wallet.Balance(99_000, 1_000)
    assert ("new_bid", f"auction:{auction_id}") in events(outbox)
    new_bid = next(m.payload for m in outbox if m.event == "new_bid")
    assert (
        new_bid["leader"] == pseudonym(auction_id, people["ana"])
        and new_bid["amount"] == 1_000
        and new_bid["server_time"].endswith("Z")
    )
    assert_leader_hold_is_max(db, auction_id)


def test_outbid_leader_gets_hold_released_and_is_told(db, people):
    auction_id = new_auction(db, people["seller"])
    place(db, auction_id, people["ana"], 1_000)
    outcome, outbox = place(db, auction_id, people["bia"], 1_200)
    assert outcome.leading and outcome.price == 1_200
    assert held(db, people["ana"], auction_id) == 0 and balance(db, people["ana"]).available == 100_000
    sent = events(outbox)
    ana_room = f"user:{people['ana']}"
    assert ("outbid", ana_room) in sent and ("notification", ana_room) in sent and ("wallet", ana_room) in sent
    assert ("wallet", f"user:{people['bia']}") in sent
    assert_leader_hold_is_max(db, auction_id)


@pytest.mark.parametrize("amount", [True, 10.0, "1000", None, -5, 0])
def test_amount_must_be_whole_positive_cents(db, people, amount):
    auction_id = new_auction(db, people["seller"])
    with pytest.raises(Invalid):
        place(db, auction_id, people["ana"], amount)


def test_max_below_amount_is_invalid(db, people):
    auction_id = new_auction(db, people["seller"])
    with pytest.raises(Invalid):
        place(db, auction_id, people["ana"], 2_000, max_amount=1_500)


def test_refusals_have_stable_codes(db, people, make_user):
    auction_id = new_auction(db, people["seller"])
    with pytest.raises(TooLow) as low:
        place(db, auction_id, people["ana"], 999)
    assert low.value.code == "too_low" and low.value.details["next_min"] == 1_000
    with pytest.raises(OwnAuction):
        place(db, auction_id, people["seller"], 1_000)
    poor = make_user("poor")
    with pytest.raises(wallet.InsufficientFunds):
        place(db, auction_id, poor, 1_000)
    with pytest.raises(NotFound):
        place(db, 999_999, people["ana"], 1_000)
    place(db, auction_id, people["ana"], 1_000)
    with pytest.raises(TooLow):
        place(db, auction_id, people["bia"], 1_049)
    assert load_auction(db, auction_id).bid_count == 1


def test_wallet_in_debt_cannot_bid(db, people):
    auction_id = new_auction(db, people["seller"])
    db.transaction(lambda s: wallet.reverse(s, user_id=people["ana"], amount=100_001, key="chargeback-1"))
    with pytest.raises(wallet.InsufficientFunds, match="debt"):
        place(db, auction_id, people["ana"], 1_000)


def test_bid_after_end_time_is_refused(db, people):
    auction_id = new_auction(db, people["seller"], seconds=10)
    clock.advance(timedelta(seconds=11))
    with pytest.raises(AuctionNotOpen):
        place(db, auction_id, people["ana"], 1_000)


def test_proxy_maximum_answers_a_lower_challenger(db, people):
    auction_id = new_auction(db, people["seller"])
    place(db, auction_id, people["ana"], 1_000, max_amount=5_000)
    assert held(db, people["ana"], auction_id) == 5_000
    outcome, outbox = place(db, auction_id, people["bia"], 2_000)
    assert not outcome.leading and outcome.price == 2_050
    assert bids_of(db, auction_id)[-2:] == [(people["bia"], 2_000, False), (people["ana"], 2_050, True)]
    assert held(db, people["bia"], auction_id) == 0
    assert not [m for m in outbox if m.event == "outbid"]
    [new_bid] = [m.payload for m in outbox if m.event == "new_bid"]
    # Watchers see both bids this decision added: the challenger's and the automatic answer.
    assert [(b["bidder"], b["amount"], b["is_proxy"]) for b in new_bid["bids"]] == [
        (pseudonym(auction_id, people["bia"]), 2_000, False),
        (pseudonym(auction_id, people["ana"]), 2_050, True),
    ]
    state = db.transaction(queries.auction_state, auction_id)
    assert (
        state["leader"] == pseudonym(auction_id, people["ana"])
        and state["current_price"] == 2_050
        and state["bid_count"] == 3
    )
    assert_leader_hold_is_max(db, auction_id)


def test_equal_maximum_ties_go_to_the_earlier_bidder(db, people):
    auction_id = new_auction(db, people["seller"])
    place(db, auction_id, people["ana"], 1_000, max_amount=3_000)
    outcome, _ = place(db, auction_id, people["bia"], 3_000)
    assert not outcome.leading and outcome.price == 3_000
    assert load_auction(db, auction_id).leader_id == people["ana"]
    assert_leader_hold_is_max(db, auction_id)


def test_higher_maximum_wins_at_second_maximum_plus_increment(db, people):
    auction_id = new_auction(db, people["seller"])
    place(db, auction_id, people["ana"], 1_000, max_amount=3_000)
    outcome, outbox = place(db, auction_id, people["bia"], 1_100, max_amount=10_000)
    assert outcome.leading and outcome.price == 3_100 and outcome.max_amount == 10_000
    assert bids_of(db, auction_id)[-2:] == [(people["ana"], 3_000, True), (people["bia"], 3_100, False)]
    assert held(db, people["bia"], auction_id) == 10_000 and held(db, people["ana"], auction_id) == 0
    assert next(m.payload for m in outbox if m.event == "outbid")["amount"] == 3_100
    capped, _ = place(db, auction_id, people["caio"], 10_050, max_amount=10_060)
    assert capped.leading and capped.price == 10_060
    assert_leader_hold_is_max(db, auction_id)


def test_leader_raising_own_maximum_holds_only_the_difference(db, people):
    auction_id = new_auction(db, people["seller"])
    place(db, auction_id, people["ana"], 1_000, max_amount=2_000)
    outcome, _ = place(db, auction_id, people["ana"], 1_050, max_amount=5_000)
    assert outcome.leading and outcome.price == 1_000
    assert held(db, people["ana"], auction_id) == 5_000
    assert db.transaction(lambda s: wallet.history(s, people["ana"])[0].held_change) == 3_000
    with pytest.raises(TooLow):
        place(db, auction_id, people["ana"], 1_050, max_amount=5_000)
    assert_leader_hold_is_max(db, auction_id)


def test_bid_in_the_last_seconds_extends_the_end(db, people):
    auction_id = new_auction(db, people["seller"], seconds=100)
    first, _ = place(db, auction_id, people["ana"], 1_000, soft_close_seconds=30)
    assert not first.extended
    clock.advance(timedelta(seconds=90))
    outcome, outbox = place(db, auction_id, people["bia"], 1_100, soft_close_seconds=30)
    assert outcome.extended
    assert abs(load_auction(db, auction_id).ends_at - (clock.now() + timedelta(seconds=30))) < timedelta(seconds=1)
    new_bid = next(m.payload for m in outbox if m.event == "new_bid")
    assert new_bid["extended"] and new_bid["ends_at"] == clock.isoformat(outcome.ends_at)


def test_maximum_reaching_the_reserve_lifts_the_price_to_it(db, people):
    auction_id = new_auction(db, people["seller"], reserve_price=5_000)
    low, _ = place(db, auction_id, people["ana"], 1_000, max_amount=2_000)
    assert low.price == 1_000
    outcome, _ = place(db, auction_id, people["bia"], 1_100, max_amount=8_000)
    assert outcome.price == 5_000
    assert db.transaction(queries.auction_state, auction_id)["reserve_met"] is True


# -- finishing ---------------------------------------------------------------------------


def finish_due(db, auction_id: int, fee_bps: int = 0):
    outbox = Outbox()
    return db.run(closing.finish_if_due, auction_id, fee_bps=fee_bps, outbox=outbox), outbox


def test_finish_puts_the_winners_money_in_escrow_opens_the_order_and_releases_others(db, people):
    auction_id = new_auction(db, people["seller"], seconds=60)
    db.run(watching.watch, people["caio"], auction_id)
    place(db, auction_id, people["ana"], 1_000, max_amount=4_000)
    place(db, auction_id, people["bia"], 2_000, max_amount=3_000)
    assert finish_due(db, auction_id)[0] is None  # not due yet
    clock.advance(timedelta(seconds=61))
    outcome, outbox = finish_due(db, auction_id, fee_bps=1_000)
    assert outcome.winner_id == people["ana"] and outcome.amount == 3_100 and outcome.reserve_met
    assert finish_due(db, auction_id)[0] is None  # exactly once
    assert balance(db, people["ana"]) == wallet.Balance(100_000 - 3_100, 0)
    # The seller is paid when the buyer confirms receipt (tests/test_orders.py); until then it is in escrow.
    assert balance(db, people["seller"]) == wallet.Balance(0, 0)
    order = db.transaction(lambda s: s.query(Order).filter_by(auction_id=auction_id).one())
    assert (order.buyer_id, order.seller_id, order.price, order.fee, order.escrowed, order.status) == (
        people["ana"],
        people["seller"],
        3_100,
        310,
        3_100,
        "paid",
    )
    assert open_holds(db, auction_id) == {}
    sent = events(outbox)
    assert ("auction_finished", f"auction:{auction_id}") in sent and ("win", f"user:{people['ana']}") in sent
    finished = next(m.payload for m in outbox if m.event == "auction_finished")
    assert finished == {
        "auction_id": auction_id,
        "version": 3,  # two bids, then the finish
        "status": "finished",
        "ends_at": finished["ends_at"],
        "winner": pseudonym(auction_id, people["ana"]),
        "final_price": 3_100,
        "amount": 3_100,
        "reserve_met": True,
        "server_time": finished["server_time"],
    }
    kinds = db.transaction(lambda s: {(n.user_id, n.kind) for n in s.query(Notification).all()})
    assert {(people["ana"], "win"), (people["seller"], "sale"), (people["caio"], "auction_result")} <= kinds
    assert audit(db) == []


def test_reserve_not_met_means_no_sale_and_every_hold_released(db, people):
    auction_id = new_auction(db, people["seller"], seconds=60, reserve_price=50_000)
    place(db, auction_id, people["ana"], 1_000, max_amount=2_000)
    clock.advance(timedelta(seconds=61))
    outcome, outbox = finish_due(db, auction_id)
    assert outcome.winner_id is None and not outcome.reserve_met
    assert balance(db, people["ana"]) == wallet.Balance(100_000, 0)
    assert balance(db, people["seller"]) == wallet.Balance(0, 0)
    assert not [m for m in outbox if m.event == "win"]
    assert load_auction(db, auction_id).status == "finished"
    assert audit(db) == []


def test_who_may_finish_an_auction(db, people, make_user):
    admin = make_user("admin", is_admin=True)
    auction_id = new_auction(db, people["seller"], seconds=60)
    place(db, auction_id, people["ana"], 1_000)

    def finish(actor):
        return db.run(closing.finish, closing.FinishAuction(auction_id, actor), outbox=Outbox())

    with pytest.raises(Forbidden):
        finish(people["bia"])
    with pytest.raises(NotEnded):
        finish(people["seller"])
    assert finish(admin).winner_id == people["ana"]
    with pytest.raises(AuctionNotOpen):
        finish(people["seller"])


def test_admin_cancels_only_before_any_bid(db, people, make_user):
    admin = make_user("admin", is_admin=True)
    first, second = new_auction(db, people["seller"]), new_auction(db, people["seller"])
    with pytest.raises(Forbidden):
        db.run(listing.cancel, first, people["seller"], outbox=Outbox())
    assert db.run(listing.cancel, first, admin, outbox=Outbox()).status == "cancelled"
    place(db, second, people["ana"], 1_000)
    with pytest.raises(Invalid):
        db.run(listing.cancel, second, admin, outbox=Outbox())


def test_ending_soon_is_sent_once_to_watchers(db, people):
    auction_id = new_auction(db, people["seller"], seconds=300)
    db.run(watching.watch, people["ana"], auction_id)
    db.run(watching.watch, people["bia"], auction_id)
    db.run(watching.unwatch, people["bia"], auction_id)
    outbox = Outbox()
    assert db.run(closing.send_ending_soon, (600,), outbox=outbox) == [auction_id]
    assert events(outbox) == [("notification", f"user:{people['ana']}")]
    assert db.run(closing.send_ending_soon, (600,), outbox=Outbox()) == []


def test_ending_soon_reaches_watchers_and_bidders_once_per_threshold(db, people):
    auction_id = new_auction(db, people["seller"], seconds=5_430)
    db.run(watching.watch, people["ana"], auction_id)
    place(db, auction_id, people["bia"], 1_000)
    thresholds = (3_600, 600)
    assert db.run(closing.send_ending_soon, thresholds, outbox=Outbox()) == []  # 90 minutes left
    clock.advance(timedelta(minutes=31))
    outbox = Outbox()
    assert db.run(closing.send_ending_soon, thresholds, outbox=outbox) == [auction_id]
    assert sorted(room for _event, room in events(outbox)) == [f"user:{people['ana']}", f"user:{people['bia']}"]
    assert db.run(closing.send_ending_soon, thresholds, outbox=Outbox()) == []
    clock.advance(timedelta(minutes=51))
    outbox = Outbox()
    assert db.run(closing.send_ending_soon, thresholds, outbox=outbox) == [auction_id]
    assert {payload["message"] for payload in (m.payload for m in outbox)} == {"“Vintage camera” ends in 8 minutes."}
    assert db.run(closing.send_ending_soon, thresholds, outbox=Outbox()) == []


def test_scheduler_round_finishes_due_auctions(app, db, people):
    from auction.entrypoints.jobs import run_scheduler

    auction_id = new_auction(db, people["seller"], seconds=5)
    place(db, auction_id, people["ana"], 1_000)
    clock.advance(timedelta(seconds=6))
    with app.app_context():
        run_scheduler(app)
        run_scheduler(app)
    auction = load_auction(db, auction_id)
    assert auction.status == "finished" and auction.winner_id == people["ana"] and auction.final_price == 1_000
    assert balance(db, people["seller"]).available == 0  # in escrow until the order completes (tests/test_orders.py)


# -- reads for pages ---------------------------------------------------------------------


def test_lists_for_pages(db, people):
    camera = new_auction(db, people["seller"], title="Old Camera 100%")
    soon = new_auction(db, people["seller"], title="Bicycle", seconds=120)
    won = new_auction(db, people["seller"], title="Lamp", seconds=30)
    place(db, camera, people["ana"], 1_000)
    place(db, camera, people["bia"], 1_100)
    place(db, won, people["ana"], 1_000)
    clock.advance(timedelta(seconds=31))
    finish_due(db, won)

    def titles(**kw):
        return [a.title for a in db.transaction(queries.list_auctions, **kw)]

    assert titles() == ["Bicycle", "Old Camera 100%"]
    assert titles(status="ending_soon", ending_soon_seconds=600) == ["Bicycle"]
    assert titles(status="finished") == ["Lamp"]
    assert titles(status=None, search="camera 100%") == ["Old Camera 100%"]
    assert titles(status=None, search="%") == ["Old Camera 100%"]
    with pytest.raises(Invalid):
        titles(status="bogus")
    standing = {item["auction"].id: item["state"] for item in db.transaction(queries.my_bids, people["ana"])}
    assert standing == {camera: "outbid", won: "won"}
    selling = {item["auction"].id: item["state"] for item in db.transaction(queries.my_auctions, people["seller"])}
    assert selling == {camera: "selling", soon: "selling", won: "sold"}
    state = db.transaction(lambda s: queries.auction_state(s, camera, viewer_id=people["bia"], watchers=3))
    assert state["you_lead"] and state["your_max"] == 1_100 and state["watchers"] == 3
    assert [b["amount"] for b in state["bids"]] == [1_100, 1_000] and state["bids"][0]["bidder"] == pseudonym(
        camera, people["bia"]
    )


def test_a_bid_retried_after_a_deadlock_queues_its_messages_once(db, people, monkeypatch):
    from sqlalchemy.exc import OperationalError

    auction_id = new_auction(db, people["seller"])
    place(db, auction_id, people["ana"], 1_000)
    real_notify, calls = messages.notify_all, []

    def notify_deadlocking_once(*args, **kwargs):
        calls.append(1)  # the first attempt has queued `outbid` by now
        if len(calls) == 1:
            raise OperationalError("INSERT INTO notifications", {}, Exception("Deadlock found when trying to get lock"))
        return real_notify(*args, **kwargs)

    monkeypatch.setattr(messages, "notify_all", notify_deadlocking_once)
    outcome, outbox = place(db, auction_id, people["bia"], 1_100)
    assert len(calls) == 2 and outcome.leading
    assert [m.event for m in outbox].count("new_bid") == 1 and [m.event for m in outbox].count("outbid") == 1
    assert load_auction(db, auction_id).bid_count == 2
    assert_leader_hold_is_max(db, auction_id)

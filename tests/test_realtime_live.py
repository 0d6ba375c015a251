"""The real server (run.py in a subprocess, on the runtime SOCKETIO_ASYNC_MODE names) with real python-socketio
clients over websockets.

Auctions here last a few seconds, the scheduler ticks every 0.2 s and the soft-close
window is 2 s, so every scenario plays out in real time.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import socketio
from sqlalchemy import func, select

from auction import accounts, clock, wallet
from auction.auctions import listing
from auction.auctions.privacy import pseudonym
from auction.db import Database
from auction.models import Auction, Base, Bid, LedgerTransaction, Notification, Order
from tests.support.auctions import FACTS, audit, balance, fund, load_auction, open_holds
from tests.support.sockets import PASSWORD, SocketUser

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("fast_passwords")]
LIVE_ENV = {"SOFT_CLOSE_SECONDS": "2", "SCHEDULER_INTERVAL": "0.2", "LOG_LEVEL": "INFO"}
REDIS_URL = "redis://127.0.0.1:6379/0"


def alias(auction_id: int, user_id: int) -> str | None:
    """How the live servers (SECRET_KEY of live_server_factory) name a bidder in public."""
    return pseudonym(auction_id, user_id, secret="live-test-secret")


@pytest.fixture(params=["mariadb"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """The test's own connection to the server's database (users, money, checks)."""
    database = Database(db_url, pool_size=5)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def users(database: Database):
    """users(*names, money=100_000) -> {name: id}; everyone but 'seller' gets `money`."""

    def create(*names: str, money: int = 100_000) -> dict[str, int]:
        ids = {}
        for name in names:
            ids[name] = database.transaction(
                lambda s, n=name: (
                    accounts.register(
                        s, username=n, email=f"{n}@example.com", password=PASSWORD, cpf_cnpj="52998224725"
                    ).id
                )
            )
            if name != "seller":
                fund(database, ids[name], money)
        return ids

    return create


@pytest.fixture
def sockets() -> Iterator[list[SocketUser]]:
    opened: list[SocketUser] = []
    yield opened
    for user in opened:
        user.close()


def connect(opened: list[SocketUser], url: str, username: str | None = None) -> SocketUser:
    user = SocketUser(url, username)
    opened.append(user)
    return user


def auction_ending_in(database: Database, seller_id: int, seconds: float, **fields) -> int:
    values = {"title": "Live lot", "description": "", "starting_price": 1_000, "min_increment": None} | fields
    values.setdefault("reserve_price", None)
    values.setdefault("facts", FACTS)
    ends_at = clock.now() + timedelta(seconds=seconds)
    command = listing.NewAuction(seller_id=seller_id, ends_at=ends_at, **values)
    return database.run(lambda uow: listing.create(uow, command).id)


def count(database: Database, statement) -> int:
    return database.transaction(lambda s: s.scalar(statement))


def wait_until(condition, timeout: float = 10, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_two_bidders_and_a_watcher_bid_outbid_extend_finish_and_win(
    live_server_factory, db_url, database, users, sockets
):
    ids = users("seller", "ana", "bia")
    server = live_server_factory(db_url, **LIVE_ENV)
    auction_id = auction_ending_in(database, ids["seller"], 5)
    ana, bia = connect(sockets, server.url, "ana"), connect(sockets, server.url, "bia")
    seller, watcher = connect(sockets, server.url, "seller"), connect(sockets, server.url)
    for user in (ana, bia, seller):
        assert user.call("join_auction", {"auction_id": auction_id})["ok"]
    joined = watcher.call("join_auction", {"auction_id": auction_id})
    assert joined["watchers"] == 4 and joined["status"] == "open" and joined["next_min"] == 1_000
    assert ana.wait_for("watchers", lambda p: p["count"] == 4) == {"auction_id": auction_id, "count": 4}

    assert ana.call("bid", {"auction_id": auction_id, "amount": 1_000})["leading"]
    assert watcher.wait_for("new_bid")["leader"] == alias(auction_id, ids["ana"])
    second = bia.call("bid", {"auction_id": auction_id, "amount": 1_100})
    assert second["ok"] and second["leading"] and not second["extended"]
    assert ana.wait_for("outbid")["amount"] == 1_100
    assert ana.wait_for("notification")["kind"] == "outbid"
    assert ana.wait_for("wallet", lambda p: p["held"] == 0)["available"] == 100_000
    assert watcher.wait_for("new_bid", lambda p: p["leader"] == alias(auction_id, ids["bia"]))["bid_count"] == 2

    ends_at = load_auction(database, auction_id).ends_at
    time.sleep(max(0.0, (ends_at - clock.now()).total_seconds() - 1.2))
    last = ana.call("bid", {"auction_id": auction_id, "amount": 1_200})
    assert last["ok"] and last["extended"] and last["ends_at"] > clock.isoformat(ends_at)
    assert watcher.wait_for("new_bid", lambda p: p["extended"])["ends_at"] == last["ends_at"]

    finished = watcher.wait_for("auction_finished", timeout=8)
    assert {k: finished[k] for k in ("auction_id", "winner", "amount", "reserve_met")} == {
        "auction_id": auction_id,
        "winner": alias(auction_id, ids["ana"]),
        "amount": 1_200,
        "reserve_met": True,
    }
    assert ana.wait_for("win")["amount"] == 1_200
    assert seller.wait_for("notification", lambda p: p["kind"] == "sale")
    # The price waits in escrow: the seller hears of the order, and is paid when the buyer confirms receipt.
    assert seller.wait_for("order", lambda p: p["auction_id"] == auction_id and p["status"] == "paid")
    assert ana.call("bid", {"auction_id": auction_id, "amount": 5_000})["error"] == "auction_not_open"
    assert balance(database, ids["ana"]).available == 100_000 - 1_200
    assert balance(database, ids["bia"]).available == 100_000
    assert audit(database) == []


def test_proxy_bidding_and_reserve_not_met(live_server_factory, db_url, database, users, sockets):
    ids = users("seller", "ana", "bia")
    server = live_server_factory(db_url, **LIVE_ENV)
    proxy_lot = auction_ending_in(database, ids["seller"], 60)
    reserve_lot = auction_ending_in(database, ids["seller"], 4, reserve_price=50_000)
    ana, bia, watcher = (connect(sockets, server.url, name) for name in ("ana", "bia", None))
    for lot in (proxy_lot, reserve_lot):
        watcher.call("join_auction", {"auction_id": lot})

    assert ana.call("bid", {"auction_id": proxy_lot, "amount": 1_000, "max_amount": 5_000})["amount"] == 1_000
    answered = bia.call("bid", {"auction_id": proxy_lot, "amount": 2_000})
    assert answered["ok"] and not answered["leading"] and answered["amount"] == 2_050
    news = watcher.wait_for("new_bid", lambda p: p["auction_id"] == proxy_lot and p["bid_count"] == 3)
    assert news["leader"] == alias(proxy_lot, ids["ana"]) and news["amount"] == 2_050 and news["next_min"] == 2_100
    assert not ana.received("outbid")
    over = bia.call("bid", {"auction_id": proxy_lot, "amount": 2_100, "max_amount": 9_000})
    assert over["leading"] and over["amount"] == 5_100
    assert ana.wait_for("outbid")["amount"] == 5_100
    assert open_holds(database, proxy_lot) == {ids["bia"]: 9_000}

    assert ana.call("bid", {"auction_id": reserve_lot, "amount": 1_000, "max_amount": 3_000})["ok"]
    finished = watcher.wait_for("auction_finished", lambda p: p["auction_id"] == reserve_lot, timeout=8)
    assert finished["winner"] is None and finished["amount"] is None and finished["reserve_met"] is False
    assert ana.wait_for("wallet", lambda p: p["held"] == 0)["available"] == 100_000
    assert not ana.received("win")
    assert open_holds(database, reserve_lot) == {}
    assert audit(database) == []


def test_cross_origin_socket_is_refused(live_server_factory, db_url, database):
    server = live_server_factory(db_url, **LIVE_ENV)
    with pytest.raises(socketio.exceptions.ConnectionError):
        SocketUser(server.url, origin="http://evil.example")


def test_twenty_simultaneous_bids_are_decided_under_the_row_lock(live_server_factory, db_url, database, users, sockets):
    names = [f"racer{n:02d}" for n in range(20)]
    ids = users("seller", *names)
    auction_id = auction_ending_in(database, ids["seller"], 120)
    server = live_server_factory(db_url, **LIVE_ENV)
    racers = [connect(sockets, server.url, name) for name in names]
    for racer in racers:
        assert racer.call("join_auction", {"auction_id": auction_id})["ok"]

    def all_at_once(amounts: dict[int, int]) -> dict[int, dict]:
        """Racer index -> amount, all sent at the same moment; racer index -> ack."""
        barrier = threading.Barrier(len(amounts))
        acks: dict[int, dict] = {}

        def fire(index: int) -> None:
            barrier.wait()
            acks[index] = racers[index].call("bid", {"auction_id": auction_id, "amount": amounts[index]}, timeout=30)

        threads = [threading.Thread(target=fire, args=(i,)) for i in amounts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return acks

    same = all_at_once(dict.fromkeys(range(len(racers)), 1_000))
    accepted = [index for index, ack in same.items() if ack["ok"]]
    assert len(accepted) == 1, same
    assert {ack["error"] for ack in same.values() if not ack["ok"]} == {"too_low"}
    [first] = accepted
    assert open_holds(database, auction_id) == {ids[names[first]]: 1_000}

    # Everyone else challenges at once (the leader bidding again would only raise their own maximum).
    amounts = {index: 2_000 + 100 * index for index in range(len(racers)) if index != first}
    rising = all_at_once(amounts)
    assert {ack["error"] for ack in rising.values() if not ack["ok"]} <= {"too_low"}
    accepted_amounts = sorted(amounts[index] for index, ack in rising.items() if ack["ok"])
    recorded = database.transaction(
        lambda s: list(s.scalars(select(Bid.amount).where(Bid.auction_id == auction_id).order_by(Bid.id)))
    )
    assert recorded == [1_000, *accepted_amounts], "every accepted bid and only those are recorded, in price order"
    top = max(amounts)
    auction = load_auction(database, auction_id)
    assert auction.current_price == auction.leader_max == amounts[top] and auction.leader_id == ids[names[top]]
    assert auction.bid_count == len(recorded)
    assert open_holds(database, auction_id) == {ids[names[top]]: amounts[top]}
    for index, name in enumerate(names):
        if index != top:
            assert balance(database, ids[name]) == wallet.Balance(100_000, 0)
    assert audit(database) == []
    # Every client saw the room's messages in commit order: versions only grow, never repeat or go back.
    final = load_auction(database, auction_id).version
    for racer in racers:
        racer.wait_for("new_bid", lambda p: p["version"] == final, timeout=10)
        versions = [payload["version"] for payload in racer.received("new_bid")]
        assert versions == sorted(set(versions)), versions


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_simultaneous_bids_on_several_auctions_share_batches_and_each_wallet(
    live_server_factory, db_url, database, users, sockets
):
    """Twelve bidders bid at once on four auctions; a thirteenth, with money for one bid, bids on all four.
    Batches span auctions (BID_BATCH_MAX is large): every auction still ends as its bids decided under its
    lock say, the short bidder never holds more than they have, and each user's last `wallet` message is
    their balance in the database; every room hears its auction's versions in order."""
    names = [f"spread{n:02d}" for n in range(12)]
    ids = users("seller", *names)
    ids |= users("short", money=3_000)
    lots = [auction_ending_in(database, ids["seller"], 120) for _ in range(4)]
    server = live_server_factory(db_url, BID_BATCH_MAX="50", **LIVE_ENV)
    bidders = {name: connect(sockets, server.url, name) for name in [*names, "short"]}
    for user in bidders.values():
        for auction_id in lots:
            assert user.call("join_auction", {"auction_id": auction_id})["ok"]

    barrier = threading.Barrier(len(names) + 4)
    acks: dict[tuple[str, int], dict] = {}

    def fire(name: str, auction_id: int, amount: int) -> None:
        barrier.wait()
        acks[name, auction_id] = bidders[name].call("bid", {"auction_id": auction_id, "amount": amount}, timeout=30)

    plan = [(name, lots[i % 4], 1_000 + 100 * i) for i, name in enumerate(names)]
    plan += [("short", auction_id, 2_500) for auction_id in lots]
    threads = [threading.Thread(target=fire, args=bid) for bid in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(acks) == len(plan)
    assert {ack["error"] for ack in acks.values() if not ack["ok"]} <= {"too_low", "insufficient_funds"}
    short_won = [auction_id for auction_id in lots if acks["short", auction_id]["ok"]]
    short_holds = sum(open_holds(database, auction_id).get(ids["short"], 0) for auction_id in lots)
    assert short_holds <= 3_000 and len(short_won) <= 1
    for auction_id in lots:
        accepted = sorted(amount for name, lot, amount in plan if lot == auction_id and acks[name, auction_id]["ok"])
        recorded = database.transaction(
            lambda s, a=auction_id: list(s.scalars(select(Bid.amount).where(Bid.auction_id == a).order_by(Bid.id)))
        )
        assert sorted(recorded) == accepted
        auction = load_auction(database, auction_id)
        assert auction.bid_count == len(recorded)
        assert open_holds(database, auction_id) == {auction.leader_id: auction.current_price}
    assert audit(database) == []
    for name, user in bidders.items():
        expected = balance(database, ids[name])
        if expected.held:  # a bidder whose money moved hears of it; the last word is the database's balance
            user.wait_for("wallet", lambda p, e=expected: (p["available"], p["held"]) == (e.available, e.held))
        if user.received("wallet"):
            last = user.received("wallet")[-1]
            assert (last["available"], last["held"]) == (expected.available, expected.held), name
    for auction_id in lots:
        final = load_auction(database, auction_id).version
        for user in bidders.values():
            user.wait_for("new_bid", lambda p, a=auction_id, v=final: p["auction_id"] == a and p["version"] == v)
            versions = [p["version"] for p in user.received("new_bid") if p["auction_id"] == auction_id]
            assert versions == sorted(set(versions)), versions


def test_auction_that_ended_while_down_is_finished_once_on_start(live_server_factory, db_url, database, users):
    ids = users("seller", "ana")
    first = live_server_factory(db_url, **LIVE_ENV)
    auction_id = auction_ending_in(database, ids["seller"], 3)
    ana = SocketUser(first.url, "ana")
    try:
        assert ana.call("bid", {"auction_id": auction_id, "amount": 1_500, "max_amount": 4_000})["ok"]
    finally:
        ana.close()
    first.stop()
    wait_until(lambda: clock.now() > load_auction(database, auction_id).ends_at + timedelta(seconds=0.5))
    assert load_auction(database, auction_id).status == "open"

    # Two processes start at once after the end; the database lets exactly one finish it.
    live_server_factory(db_url, **LIVE_ENV)
    live_server_factory(db_url, **LIVE_ENV)
    wait_until(lambda: load_auction(database, auction_id).status == "finished")
    time.sleep(0.6)  # a few more scheduler rounds on both processes
    captures = select(func.count(LedgerTransaction.id)).where(
        LedgerTransaction.auction_id == auction_id, LedgerTransaction.kind == "capture"
    )
    assert count(database, captures) == 1
    wins = select(func.count(Notification.id)).where(Notification.auction_id == auction_id, Notification.kind == "win")
    assert count(database, wins) == 1
    assert balance(database, ids["ana"]) == wallet.Balance(100_000 - 1_500, 0)
    assert balance(database, ids["seller"]) == wallet.Balance(0, 0)  # in the order's escrow until receipt
    assert count(database, select(func.count(Order.id)).where(Order.auction_id == auction_id)) == 1
    assert load_auction(database, auction_id).winner_id == ids["ana"]
    assert audit(database) == []


def test_an_auction_closes_at_its_end_not_at_the_scheduler_s_next_poll(
    live_server_factory, db_url, database, users, sockets
):
    """The scheduler sleeps until the next open auction's end, so its room hears `auction_finished` within a
    fraction of a second of the end. The interval is 5 s here: a scheduler polling every interval (as it once did)
    finishes each of these auctions seconds late."""
    ids = users("seller")
    # Ends every half second from 1.5 s on, all known to the scheduler's first round (the server starts after them);
    # the one the test watches is the first ending at least 0.4 s after its watcher is in place.
    created = [auction_ending_in(database, ids["seller"], 1.5 + 0.5 * step) for step in range(18)]
    server = live_server_factory(db_url, **{**LIVE_ENV, "SCHEDULER_INTERVAL": "5"})
    watcher = connect(sockets, server.url)
    soon = clock.now() + timedelta(seconds=0.4)
    ends = {auction_id: load_auction(database, auction_id).ends_at for auction_id in created}
    auction_id = next((a for a in created if ends[a] >= soon), None)
    assert auction_id is not None, "the server took over 10 s to start"
    assert watcher.call("join_auction", {"auction_id": auction_id})["status"] == "open"

    finished = watcher.wait_for("auction_finished", lambda p: p["auction_id"] == auction_id, timeout=8)
    late = (clock.now() - ends[auction_id]).total_seconds()
    assert finished["winner"] is None
    assert 0 <= late <= 0.25, f"auction_finished heard {late:.3f} s after the end"
    assert load_auction(database, auction_id).finished_at >= ends[auction_id]


def test_bid_through_process_a_reaches_a_watcher_on_process_b(live_server_factory, db_url, database, users, sockets):
    ids = users("seller", "ana", "bia")
    auction_id = auction_ending_in(database, ids["seller"], 60)
    # A channel of its own: Redis pub/sub is server-wide, and other runs may share this Redis.
    env = {**LIVE_ENV, "SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "SOCKETIO_CHANNEL": f"auction-test-{uuid.uuid4().hex}"}
    process_a, process_b = live_server_factory(db_url, **env), live_server_factory(db_url, **env)
    bia_on_a = connect(sockets, process_a.url, "bia")
    ana_on_a, ana_on_b = connect(sockets, process_a.url, "ana"), connect(sockets, process_b.url, "ana")
    watcher_on_b = connect(sockets, process_b.url)
    assert watcher_on_b.call("join_auction", {"auction_id": auction_id})["watchers"] == 1
    watcher_on_a = connect(sockets, process_a.url)
    assert watcher_on_a.call("join_auction", {"auction_id": auction_id})["watchers"] == 2, "counted across processes"
    assert watcher_on_b.wait_for("watchers", lambda p: p["count"] == 2)
    watcher_on_a.close()
    assert watcher_on_b.wait_for("watchers", lambda p: p["count"] == 1 and watcher_on_b.received("watchers")[-1] is p)

    assert ana_on_a.call("bid", {"auction_id": auction_id, "amount": 1_000})["ok"]
    assert watcher_on_b.wait_for("new_bid")["leader"] == alias(auction_id, ids["ana"])
    assert ana_on_b.wait_for("wallet", lambda p: p["held"] == 1_000)
    assert bia_on_a.call("bid", {"auction_id": auction_id, "amount": 1_100})["ok"]
    bia_alias = alias(auction_id, ids["bia"])
    assert watcher_on_b.wait_for("new_bid", lambda p: p["leader"] == bia_alias)["amount"] == 1_100
    assert ana_on_b.wait_for("outbid")["amount"] == 1_100
    assert count(database, select(func.count(Auction.id)).where(Auction.bid_count == 2)) == 1


def test_process_b_answers_joins_from_its_cache_as_new_as_process_a_s_bids(
    live_server_factory, db_url, database, users, sockets
):
    """The join cache of each process follows the other's bids through Redis: a join on B right after a bid on
    A shows that bid, and the versions of the room's messages only grow at every client."""
    names = [f"bidder{n}" for n in range(6)]
    ids = users("seller", *names)
    auction_id = auction_ending_in(database, ids["seller"], 120)
    env = {**LIVE_ENV, "SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "SOCKETIO_CHANNEL": f"auction-test-{uuid.uuid4().hex}"}
    process_a, process_b = live_server_factory(db_url, **env), live_server_factory(db_url, **env)
    early_on_b = connect(sockets, process_b.url)
    assert early_on_b.call("join_auction", {"auction_id": auction_id})["version"] == 0  # B's cache holds it now
    bidders = [connect(sockets, (process_a if n % 2 else process_b).url, name) for n, name in enumerate(names)]
    amount = 1_000
    for round_ in range(3):
        for bidder in bidders:
            ack = bidder.call("bid", {"auction_id": auction_id, "amount": amount})
            assert ack["ok"], ack
            amount += 100
        fresh_on_b = connect(sockets, process_b.url)
        state = fresh_on_b.call("join_auction", {"auction_id": auction_id})
        truth = load_auction(database, auction_id)
        assert (state["bid_count"], state["current_price"], state["version"]) == (
            truth.bid_count,
            truth.current_price,
            truth.version,
        ), f"round {round_}"
    versions = [payload["version"] for payload in early_on_b.received("new_bid")]
    assert versions == sorted(versions) and len(versions) == len(set(versions))

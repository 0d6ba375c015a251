"""Faults: the database or Redis goes away, the server is killed. Nothing accepted is lost.

Database outages are made with a TCP proxy between one server and MariaDB (cut = every
connection drops mid-query and new ones are refused) and with `KILL CONNECTION` on the
server's own connections; Redis outages with a private redis-server. The shared MariaDB
and Redis are never restarted.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from auction import accounts, clock, create_app
from auction.db import Database, DatabaseUnavailable
from auction.models import Auction, Bid, LedgerTransaction, Notification, Order, Payment, WebhookDelivery
from tests.conftest import VALID_CPFS
from tests.support.auctions import audit, balance, fund, load_auction, new_auction, open_holds, place
from tests.support.faults import RedisServer, TcpProxy, kill_connections, wait_for
from tests.support.payments import TOKEN as WEBHOOK_TOKEN
from tests.support.payments import known_payment
from tests.support.server import free_port
from tests.support.sockets import PASSWORD, SocketUser
from tests.test_accounts import csrf_token
from tests.test_webhook import body_for

MARIADB = pytest.mark.parametrize("backend", ["mariadb"], indirect=True)


def select_one(session) -> int:
    return session.execute(text("SELECT 1")).scalar()


@MARIADB
def test_unit_of_work_fails_fast_as_unavailable_and_recovers_by_itself(db_url):
    proxy = TcpProxy("127.0.0.1", 3306).start()
    db = Database(proxy.url_for(db_url), pool_size=2)
    try:
        assert db.transaction(select_one) == 1
        proxy.cut()
        started = time.monotonic()
        for _ in range(3):
            with pytest.raises(DatabaseUnavailable):
                db.transaction(select_one)
        assert time.monotonic() - started < 2, "an outage must answer fast, not hang"
        proxy.restore()
        assert db.transaction(select_one) == 1
        # Connections killed on the server side: the pool notices and reconnects, no error.
        assert kill_connections(db_url) >= 1
        assert db.transaction(select_one) == 1
    finally:
        db.dispose()
        proxy.cut()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_pages_answer_503_when_the_database_is_down(app_config):
    app = create_app({**app_config, "DATABASE_URL": f"mariadb+mariadbconnector://root:@127.0.0.1:{free_port()}/x"})
    client = app.test_client()
    login_form = {"username": "someone", "password": "a long password", "csrf_token": csrf_token(client, "/login")}
    try:
        for method, path, data in (("GET", "/", None), ("GET", "/healthz", None), ("POST", "/login", login_form)):
            started = time.monotonic()
            response = client.open(path, method=method, data=data)
            assert response.status_code == 503, path
            assert time.monotonic() - started < 2
            assert response.headers["Retry-After"]
            body = response.get_data(as_text=True)
            assert "briefly unavailable" in body and "Traceback" not in body
    finally:
        app.extensions["auction.db"].dispose()


# -- the real server -------------------------------------------------------------------------

LIVE_ENV = {"SCHEDULER_INTERVAL": "0.2", "SOFT_CLOSE_SECONDS": "0", "LOG_LEVEL": "INFO"}
FUNDS = 10_000_000
CAPTURE = LedgerTransaction.kind == "capture"


@pytest.fixture
def database(db_url: str):
    """The test's own connection to the live server's database."""
    database = Database(db_url, pool_size=4)
    yield database
    database.dispose()


@pytest.fixture
def people(database, fast_passwords):
    """people(*names) -> {name: id}; everyone but 'seller...' gets FUNDS."""

    def create(*names: str) -> dict[str, int]:
        ids = {}
        for name in names:
            ids[name] = database.transaction(
                lambda s, n=name: (
                    accounts.register(
                        s, username=n, email=f"{n}@example.com", password=PASSWORD, cpf_cnpj=VALID_CPFS[0]
                    ).id
                )
            )
            if not name.startswith("seller"):
                fund(database, ids[name], FUNDS)
        return ids

    return create


@pytest.fixture
def sockets():
    opened: list[SocketUser] = []

    def connect(url: str, username: str | None = None) -> SocketUser:
        opened.append(SocketUser(url, username))
        return opened[-1]

    yield connect
    for user in opened:
        with contextlib.suppress(Exception):
            user.close()


def count(database: Database, model, *where) -> int:
    return database.transaction(lambda s: s.scalar(select(func.count()).select_from(model).where(*where)))


def assert_bids_whole(database: Database, auction_id: int) -> None:
    """No half-applied bid: counters, leader, holds and the ledger agree with the bid rows."""
    assert audit(database) == []
    auction = load_auction(database, auction_id)
    # Public bids are counted; a leader raising their own maximum is a private row (bids.is_raise).
    assert auction.bid_count == count(database, Bid, Bid.auction_id == auction_id, Bid.is_raise.is_(False))
    holds = open_holds(database, auction_id)
    if auction.status == "open":
        assert holds == ({auction.leader_id: auction.leader_max} if auction.leader_id else {})
        assert auction.current_price is None or auction.current_price <= auction.leader_max
    else:
        assert holds == {}


class BidStorm:
    """Bidders bid ever higher amounts from threads; acked bids are recorded, the rest are not."""

    def __init__(self, bidders: dict[int, SocketUser], auction_id: int) -> None:
        self.bidders = bidders
        self.auction_id = auction_id
        self.amounts = itertools.count(1)
        self.acked: list[tuple[int, int]] = []  # (user id, bid id)
        self.refusals: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=item, daemon=True) for item in bidders.items()]

    def _run(self, user_id: int, user: SocketUser) -> None:
        while not self.stop.is_set():
            with self.lock:
                amount = 1_000 + 1_000 * next(self.amounts)
            try:
                ack = user.call("bid", {"auction_id": self.auction_id, "amount": amount}, timeout=5)
            except Exception:
                return  # the server is gone: whatever was in flight was never acknowledged
            with self.lock:
                if ack.get("ok"):
                    self.acked.append((user_id, ack["bid_id"]))
                else:
                    self.refusals.append(ack["error"])

    def __enter__(self) -> BidStorm:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)


@MARIADB
@pytest.mark.live
def test_sigkill_during_a_bidding_storm_loses_no_acknowledged_bid(
    live_server_factory, db_url, database, people, sockets
):
    ids = people("seller", "bidder1", "bidder2", "bidder3", "bidder4")
    auction_id = new_auction(database, ids["seller"], seconds=3600)
    server = live_server_factory(db_url, **LIVE_ENV)
    bidders = {ids[name]: sockets(server.url, name) for name in ("bidder1", "bidder2", "bidder3", "bidder4")}
    with BidStorm(bidders, auction_id) as storm:
        wait_for(lambda: len(storm.acked) >= 25, timeout=30, what="25 acknowledged bids")
        server.kill()
    assert set(storm.refusals) <= {"too_low"}, storm.refusals

    server.start()
    stored = dict(database.transaction(lambda s: s.execute(select(Bid.id, Bid.bidder_id)).all()))
    assert all(stored.get(bid_id) == user_id for user_id, bid_id in storm.acked), "an acknowledged bid was lost"
    assert_bids_whole(database, auction_id)
    # The restarted server takes bids again.
    latecomer = sockets(server.url, "bidder1")
    state = latecomer.call("join_auction", {"auction_id": auction_id})
    late_bid = latecomer.call("bid", {"auction_id": auction_id, "amount": state["next_min"]})
    assert late_bid["ok"] is True, (late_bid, state)
    assert_bids_whole(database, auction_id)


@MARIADB
@pytest.mark.live
def test_sigkill_while_auctions_finish_finishes_each_exactly_once(live_server_factory, db_url, database, people):
    ids = people("seller", "winner")
    server = live_server_factory(db_url, **LIVE_ENV)
    auctions = []
    for n in range(8):
        auction_id = new_auction(database, ids["seller"], seconds=60)
        place(database, auction_id, ids["winner"], 1_000 + n)
        auctions.append(auction_id)
    # They end one after another, a quarter second apart, while the server runs.
    start = clock.now()
    database.transaction(
        lambda s: [
            s.get(Auction, a).__setattr__("ends_at", start + timedelta(seconds=1 + 0.25 * n))
            for n, a in enumerate(auctions)
        ]
    )

    def finished() -> int:
        return count(database, Auction, Auction.status == "finished")

    for kills, goal in enumerate((2, 5), start=1):
        wait_for(lambda goal=goal: finished() >= goal, timeout=30, what=f"{goal} finished auctions")
        server.kill()
        assert kills > 1 or finished() < len(auctions), "the kill came too late to interrupt the finishing"
        server.start()
    wait_for(lambda: finished() == len(auctions), timeout=30, what="every auction finished")

    for n, auction_id in enumerate(auctions):
        captures = count(database, LedgerTransaction, LedgerTransaction.auction_id == auction_id, CAPTURE)
        notices = count(database, Notification, Notification.auction_id == auction_id, Notification.kind == "sale")
        assert (captures, notices) == (1, 1), f"auction {auction_id} finished {captures} times"
        assert load_auction(database, auction_id).final_price == 1_000 + n
    total = sum(1_000 + n for n in range(len(auctions)))
    assert balance(database, ids["winner"]).available == FUNDS - total
    # Each sale's price waits in its order's escrow (tests/test_orders.py) until the buyer confirms receipt.
    assert balance(database, ids["seller"]).available == 0
    escrowed = database.transaction(
        lambda s: sorted(s.scalars(select(Order.escrowed).where(Order.auction_id.in_(auctions))))
    )
    assert escrowed == sorted(1_000 + n for n in range(len(auctions)))
    assert audit(database) == []


def start_together(start, count: int) -> list:
    """`count` servers started at once (each start waits for /healthz; together they wait once)."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: start(), range(count)))


def lines_with(server, event: str) -> list[str]:
    return [line for line in server.log().splitlines() if f"event={event}" in line]


# docs/deploy.md, "Several jobs processes": a follower leads within JOBS_LEASE_INTERVAL (1 s) of the leader's death;
# the margin is for a loaded 2-core machine.
TAKEOVER_LIMIT = 1.0 + 2.0
MANY = 20


@MARIADB
@pytest.mark.live
def test_a_follower_takes_over_the_jobs_when_the_leader_is_sigkilled_mid_round(
    live_server_factory, db_url, database, people
):
    ids = people("seller", "winner")
    auctions = [new_auction(database, ids["seller"], seconds=60) for _ in range(MANY)]
    for n, auction_id in enumerate(auctions):
        place(database, auction_id, ids["winner"], 1_000 + n)
    # Two jobs processes on one database (on two machines in production), both with the default lease timings.
    servers = start_together(lambda: live_server_factory(db_url, **LIVE_ENV, SCHEDULER_ENABLED="true"), 2)
    wait_for(lambda: sum(len(lines_with(s, "jobs_lease_acquired")) for s in servers) == 1, what="one leader")
    leader, follower = sorted(servers, key=lambda s: not lines_with(s, "jobs_lease_acquired"))
    # All end at once: the leader's next round finishes them one transaction after another.
    ends = clock.now() + timedelta(seconds=0.3)
    database.transaction(lambda s: [s.get(Auction, a).__setattr__("ends_at", ends) for a in auctions])

    def finished() -> int:
        return count(database, Auction, Auction.status == "finished")

    wait_for(lambda: finished() >= 3, timeout=15, interval=0.01, what="3 finished auctions")
    leader.kill()
    killed = time.monotonic()
    assert finished() < len(auctions), "the kill came after the round"
    wait_for(lambda: lines_with(follower, "jobs_lease_acquired"), timeout=10, interval=0.02, what="the takeover")
    took = time.monotonic() - killed
    assert took < TAKEOVER_LIMIT, f"the follower led {took:.2f}s after the leader's death"
    wait_for(lambda: finished() == len(auctions), timeout=15, what="every auction finished")

    # Exactly one process led at a time: the follower finished nothing before it took the lease.
    log = follower.log()
    assert "event=auction_finished" not in log.split("event=jobs_lease_acquired")[0]
    assert lines_with(follower, "auction_finished"), "the follower finished none of the remaining auctions"
    for n, auction_id in enumerate(auctions):
        captures = count(database, LedgerTransaction, LedgerTransaction.auction_id == auction_id, CAPTURE)
        notices = count(database, Notification, Notification.auction_id == auction_id, Notification.kind == "sale")
        assert (captures, notices) == (1, 1), f"auction {auction_id} finished {captures} times"
        assert load_auction(database, auction_id).final_price == 1_000 + n
    assert balance(database, ids["winner"]).available == FUNDS - sum(1_000 + n for n in range(len(auctions)))
    assert audit(database) == []


@pytest.fixture
def proxied(db_url):
    """A TCP proxy in front of MariaDB for one server; cut() is that server's database outage."""
    proxy = TcpProxy("127.0.0.1", make_url(db_url).port or 3306).start()
    yield proxy
    proxy.cut()


@MARIADB
@pytest.mark.live
def test_database_outage_answers_unavailable_fast_and_the_server_recovers_by_itself(
    live_server_factory, db_url, database, people, sockets, proxied
):
    ids = people("seller", "bidder1")
    auction_id = new_auction(database, ids["seller"], seconds=3600)
    server = live_server_factory(proxied.url_for(db_url), **LIVE_ENV)
    bidder = sockets(server.url, "bidder1")
    amounts = itertools.count(2_000, 1_000)

    def bid() -> tuple[dict, float]:
        started = time.monotonic()
        ack = bidder.call("bid", {"auction_id": auction_id, "amount": next(amounts)}, timeout=10)
        return ack, time.monotonic() - started

    assert bid()[0]["ok"] is True
    # 1. MariaDB kills the server's connections: the pool notices and reconnects.
    assert kill_connections(db_url) >= 1
    ack, _took = bid()
    assert ack["ok"] is True or ack["error"] == "unavailable"
    wait_for(lambda: bid()[0]["ok"], timeout=10, what="a bid after KILL CONNECTION")

    # 2. The database is gone: connections drop and new ones are refused.
    proxied.cut()
    for _ in range(3):
        ack, took = bid()
        assert ack["ok"] is False and ack["error"] == "unavailable", ack
        assert took < 5, f"an unavailable answer took {took:.1f}s"
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 503
    assert server.process.poll() is None

    # 3. It is back: no restart, the next bids are taken.
    proxied.restore()
    wait_for(lambda: bid()[0]["ok"], timeout=15, what="a bid after the database came back")
    assert "event=db_unavailable" in server.log()
    assert_bids_whole(database, auction_id)


@MARIADB
@pytest.mark.live
def test_webhook_storms_leave_each_wallet_where_the_payment_status_says(
    live_server_factory, db_url, database, people, proxied
):
    payer = people("payer")["payer"]
    server = live_server_factory(proxied.url_for(db_url), **LIVE_ENV)

    def deliver(body: dict) -> int:
        headers = {"asaas-access-token": WEBHOOK_TOKEN}
        return requests.post(f"{server.url}/payment/webhook", json=body, headers=headers, timeout=15).status_code

    def credited(asaas_id: str) -> int:
        return database.transaction(
            lambda s: s.scalar(select(Payment.credited).where(Payment.asaas_payment_id == asaas_id))
        )

    # The same event ten times at once: one credit.
    known_payment(database, payer, "pay_storm_same", value=10_000)
    same = body_for("PAYMENT_RECEIVED", "pay_storm_same")
    start = threading.Barrier(10)

    def at_once(_n: int) -> int:
        start.wait()
        return deliver(same)

    with ThreadPoolExecutor(10) as pool:
        assert list(pool.map(at_once, range(10))) == [200] * 10
    assert credited("pay_storm_same") == 10_000
    assert count(database, WebhookDelivery, WebhookDelivery.event_id == same["id"]) == 1

    # One payment's lifecycle delivered backwards ends where its last status says (100 paid, 40 refunded).
    known_payment(database, payer, "pay_storm_back", value=10_000)
    for event in ("PAYMENT_PARTIALLY_REFUNDED", "PAYMENT_RECEIVED", "PAYMENT_CONFIRMED", "PAYMENT_CREATED"):
        assert deliver(body_for(event, "pay_storm_back")) == 200
    assert credited("pay_storm_back") == 6_000

    # A payment nobody here knows: stored, kept for an admin, no money moves.
    assert deliver(body_for("PAYMENT_RECEIVED", "pay_storm_unknown")) == 200
    outcome = WebhookDelivery.asaas_payment_id == "pay_storm_unknown", WebhookDelivery.outcome == "unmatched"
    assert count(database, WebhookDelivery, *outcome) == 1
    assert count(database, Payment, Payment.asaas_payment_id == "pay_storm_unknown", Payment.credited != 0) == 0

    # During a database outage: a non-2xx answer (Asaas retries), then the retry succeeds once.
    known_payment(database, payer, "pay_storm_down", value=5_000)
    down = body_for("PAYMENT_RECEIVED", "pay_storm_down", value="50.00")
    proxied.cut()
    started = time.monotonic()
    assert deliver(down) >= 500
    assert time.monotonic() - started < 5
    proxied.restore()
    wait_for(lambda: deliver(down) == 200, timeout=15, what="the retried delivery")
    assert deliver(down) == 200
    assert credited("pay_storm_down") == 5_000

    assert balance(database, payer).available == FUNDS + 10_000 + 6_000 + 5_000
    assert audit(database) == []


@pytest.fixture
def private_redis():
    redis = RedisServer().start()
    yield redis
    redis.kill()


@MARIADB
@pytest.mark.live
def test_redis_down_each_process_serves_its_own_clients_and_cross_process_delivery_resumes(
    live_server_factory, db_url, database, people, sockets, private_redis
):
    ids = people("seller", "bidder1", "bidder2")
    auction_id = new_auction(database, ids["seller"], seconds=3600)
    env = {**LIVE_ENV, "SOCKETIO_MESSAGE_QUEUE": private_redis.url}
    server_a = live_server_factory(db_url, **env)
    server_b = live_server_factory(db_url, **env)
    watcher_a, watcher_b = sockets(server_a.url), sockets(server_b.url)
    for watcher in (watcher_a, watcher_b):
        assert watcher.call("join_auction", {"auction_id": auction_id})["ok"] is True
    bidder_a, bidder_b = sockets(server_a.url, "bidder1"), sockets(server_b.url, "bidder2")
    amounts = itertools.count(2_000, 1_000)

    def bid(bidder: SocketUser) -> int:
        ack = bidder.call("bid", {"auction_id": auction_id, "amount": next(amounts)})
        assert ack["ok"] is True, ack
        return ack["bid_count"]

    def sees(watcher: SocketUser, bid_count: int, timeout: float = 5) -> bool:
        try:
            watcher.wait_for("new_bid", lambda p: p["bid_count"] == bid_count, timeout=timeout)
        except AssertionError:
            return False
        return True

    assert sees(watcher_b, bid(bidder_a)), "no cross-process delivery with Redis up"

    private_redis.kill()
    # Each process keeps taking bids and telling its own watchers (bidders take turns: each bid outbids).
    assert sees(watcher_b, bid(bidder_b))
    assert sees(watcher_a, bid(bidder_a))
    wait_for(lambda: "redis" in server_a.log().lower() and "redis" in server_b.log().lower(), timeout=10)
    for server in (server_a, server_b):
        assert "Cannot publish to redis" in server.log() or "Cannot receive from redis" in server.log()
        assert server.process.poll() is None

    private_redis.start()

    def a_bid_on_a_reaches_b() -> bool:
        bid(bidder_b)  # so that bidder_a's bid outbids someone: a leader's raise is private, never broadcast
        return sees(watcher_b, bid(bidder_a), timeout=1)

    wait_for(a_bid_on_a_reaches_b, timeout=30, what="cross-process delivery again")
    assert sees(watcher_a, bid(bidder_b))
    assert_bids_whole(database, auction_id)


def test_rate_limits_are_shared_through_redis_and_fall_back_to_each_process_without_it(
    private_redis, monkeypatch, caplog
):
    from auction import ratelimit

    monkeypatch.setitem(ratelimit.LIMITS, "bid_user", ratelimit.Limit(3, 3600))
    monkeypatch.setattr("auction.ratelimit.time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    process_a = ratelimit.RateLimiter(True, private_redis.url)
    process_b = ratelimit.RateLimiter(True, private_redis.url)
    assert [process_a.hit("bid_user", 7), process_b.hit("bid_user", 7), process_a.hit("bid_user", 7)] == [True] * 3
    assert process_b.hit("bid_user", 7) is False  # the fourth, counted across both processes

    private_redis.kill()
    with caplog.at_level("WARNING"):
        assert [process_a.hit("bid_user", 8) for _ in range(4)] == [True, True, True, False]
    assert "event=ratelimit_redis_unavailable" in caplog.text


def test_a_burst_across_a_window_boundary_is_still_limited(monkeypatch):
    """Fixed windows would allow twice the limit around each boundary; the sliding window does not."""
    from auction import ratelimit

    limiter = ratelimit.RateLimiter(enabled=True)
    limit = ratelimit.LIMITS["login_user"]
    boundary = 1_800_000_000 // limit.seconds * limit.seconds + limit.seconds

    def at(moment: float) -> None:
        monkeypatch.setattr("auction.ratelimit.time", SimpleNamespace(time=lambda: moment))

    at(boundary - 0.5)
    assert all(limiter.hit("login_user", "maria") for _ in range(limit.count))
    at(boundary + 0.5)
    assert not limiter.hit("login_user", "maria")
    at(boundary + 2 * limit.seconds)
    assert limiter.hit("login_user", "maria")


@MARIADB
def test_a_pooled_connection_the_server_dropped_is_replaced_without_an_error(database, db_url, caplog):
    """No pre-ping on checkout: the first statement on a dead pooled connection fails, and the unit of work
    runs again once on a fresh connection, since nothing of it reached the database."""
    for _ in range(3):  # several pooled connections, all idle afterwards
        assert database.transaction(lambda s: s.execute(select(func.count(Bid.id))).scalar()) == 0
    assert kill_connections(db_url) >= 1
    with caplog.at_level("INFO", logger="auction.db"):
        assert database.transaction(lambda s: s.execute(select(func.count(Bid.id))).scalar()) == 0
    assert "event=db_reconnect" in caplog.text


@MARIADB
def test_a_connection_back_in_the_pool_is_rolled_back_only_if_its_transaction_is_open(db_url):
    """The pool's reset sends no ROLLBACK after a committed unit of work (a round trip each), but still ends
    a transaction left open, so no lock outlives its connection's checkout."""
    db = Database(db_url, pool_size=1)  # one pooled connection: every checkout below is the same session
    other = Database(db_url, pool_size=1)

    def rollbacks() -> int:
        with db.engine.begin() as conn:  # committed: adds no rollback of its own
            return int(conn.exec_driver_sql("SHOW SESSION STATUS LIKE 'Com_rollback'").one()[1])

    try:
        with other.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE pool_reset_probe (id INT PRIMARY KEY)")
            conn.exec_driver_sql("INSERT INTO pool_reset_probe VALUES (1)")
        start = rollbacks()
        assert database_count(db) == 0  # a unit of work, committed
        assert rollbacks() == start
        with db.engine.connect() as conn:  # a transaction left open: a row lock taken, never committed
            conn.exec_driver_sql("SELECT id FROM pool_reset_probe WHERE id = 1 FOR UPDATE").all()
        with other.engine.begin() as conn:  # the lock went with the rollback: no wait for it
            conn.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 1")
            assert conn.exec_driver_sql("SELECT id FROM pool_reset_probe WHERE id = 1 FOR UPDATE").all() == [(1,)]
        assert rollbacks() == start + 1
    finally:
        db.dispose()
        with other.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS pool_reset_probe")
        other.dispose()


def database_count(db: Database) -> int:
    return db.transaction(lambda s: s.execute(select(func.count(Bid.id))).scalar())


@MARIADB
def test_a_connection_lost_after_a_statement_ran_is_not_run_again(database, db_url):
    """Once a statement ran, the database may have done part of the work (or committed it): never retried."""
    from sqlalchemy import text

    attempts = []

    def work(session):
        attempts.append(1)
        session.execute(text("SELECT 1"))
        kill_connections(db_url)
        session.execute(text("SELECT 1"))

    with pytest.raises(DatabaseUnavailable):
        database.transaction(work)
    assert len(attempts) == 1

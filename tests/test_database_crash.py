"""The database itself crashes: a private mariadbd (its own datadir, port and socket, made here) is SIGKILLed in the
middle of a bidding war and started again on the same datadir. InnoDB's crash recovery must keep every bid that
was acked; a bid that was not acked is either wholly there (its row, the price, the holds) or not at all; and
the live server, never restarted, serves bids again as soon as the database is back.
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from sqlalchemy import case, func, select, text

from auction.db import Database, DatabaseUnavailable
from auction.models import Auction, Bid
from tests.conftest import IN_CI
from tests.support.auctions import audit, fund, load_auction, new_auction, open_holds
from tests.support.faults import PrivateMariaDB, TcpProxy, wait_for
from tests.support.sockets import SocketUser

pytestmark = [
    pytest.mark.parametrize("backend", ["mariadb"], indirect=True),
    pytest.mark.usefixtures("fast_passwords"),
    pytest.mark.skipif(
        not shutil.which("mariadb-install-db") and not IN_CI, reason="mariadb-install-db is not installed"
    ),
]
# A bid answers within this even while the database is dead (docs/reliability.md).
ANSWER_WITHIN = 10.0


@pytest.fixture(scope="module")
def private_mariadb(tmp_path_factory):
    server = PrivateMariaDB(tmp_path_factory.mktemp("mariadbd")).install().start()
    server.create_database("auction")
    yield server
    server.kill()


@pytest.fixture
def db_url(private_mariadb, backend) -> str:
    return private_mariadb.url


class War:
    """Two bidders outbidding each other as fast as the server answers, every answer recorded."""

    def __init__(self, tabs: list[SocketUser], auction_id: int) -> None:
        self.tabs, self.auction_id = tabs, auction_id
        self.acked: list[int] = []
        self.refused: list[str] = []
        self.slowest = 0.0
        self.next_min = 1_000
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._bid, args=(tab,), daemon=True) for tab in tabs]

    def __enter__(self) -> War:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _bid(self, tab: SocketUser) -> None:
        while not self.stop.is_set():
            with self.lock:
                amount = self.next_min
            started = time.monotonic()
            ack = tab.call("bid", {"auction_id": self.auction_id, "amount": amount}, timeout=30)
            with self.lock:
                self.slowest = max(self.slowest, time.monotonic() - started)
                if ack.get("next_min"):
                    self.next_min = max(self.next_min, ack["next_min"])
                if ack["ok"]:
                    self.acked.append(ack["bid_id"])
                elif ack["error"] != "too_low":
                    self.refused.append(ack["error"])
            if not ack["ok"] and ack["error"] == "unavailable":
                time.sleep(0.1)  # as the page does: retry shortly

    def acks(self) -> int:
        with self.lock:
            return len(self.acked)


def test_a_killed_database_keeps_every_acked_bid_and_the_site_reconnects(
    private_mariadb, db, make_user, live_server_factory
):
    seller, ana, bia = make_user("seller"), make_user("ana"), make_user("bia")
    fund(db, ana, 10_000_000)
    fund(db, bia, 10_000_000)
    auction_id = new_auction(db, seller, min_increment=100)
    server = live_server_factory(private_mariadb.url, DB_POOL_SIZE="4")
    tabs = [SocketUser(server.url, "ana"), SocketUser(server.url, "bia")]
    try:
        with War(tabs, auction_id) as war:
            wait_for(lambda: war.acks() >= 10, timeout=60, what="bids before the crash")
            private_mariadb.kill()
            before_restart = war.acks()
            wait_for(lambda: "unavailable" in war.refused, timeout=30, what="bids refused while the database is dead")
            private_mariadb.start()
            wait_for(lambda: war.acks() >= before_restart + 10, timeout=90, what="bids after the restart")
        assert server.process.poll() is None, "the site must reconnect by itself, not restart"
        assert war.slowest < ANSWER_WITHIN, war.slowest
        assert set(war.refused) <= {"unavailable"}, war.refused
    finally:
        for tab in tabs:
            tab.close()
    # The test's own pool still holds connections to the killed server: the first read must work anyway.
    in_db = db.transaction(lambda s: set(s.scalars(select(Bid.id).where(Bid.auction_id == auction_id))))
    assert set(war.acked) <= in_db, f"acked bids lost in the crash: {set(war.acked) - in_db}"
    # Whatever was not acked is whole or absent: the auction's counters, its price and the holds agree with the rows.
    auction = load_auction(db, auction_id)
    # bid_count counts public bids: a leader's raise of their own maximum is a private row (bids.is_raise).
    public = func.sum(case((Bid.is_raise.is_(False), 1), else_=0))
    rows, top = db.transaction(
        lambda s: s.execute(select(public, func.max(Bid.amount)).where(Bid.auction_id == auction_id)).one()
    )
    assert auction.bid_count == rows and auction.current_price == top
    assert open_holds(db, auction_id) == {auction.leader_id: auction.leader_max}
    assert audit(db) == []
    assert db.transaction(lambda s: s.get(Auction, auction_id)).status == "open"


def test_only_a_connection_dead_before_its_first_statement_is_retried(private_mariadb, backend):
    """The retry behind the reconnect above (auction/db/engine.py): a pooled connection found dead at the first
    statement runs the work again on a fresh one; one lost after a statement ran (it may have committed) is never
    rerun."""
    proxy = TcpProxy("127.0.0.1", private_mariadb.port).start()
    db = Database(proxy.url_for(private_mariadb.url), pool_size=2)
    calls: list[int] = []

    def select_one(session) -> int:
        calls.append(1)
        return session.execute(text("SELECT 1")).scalar()

    def lost_midway(session) -> None:
        calls.append(1)
        session.execute(text("SELECT 1"))
        proxy.cut()
        session.execute(text("SELECT 1"))

    try:
        assert db.transaction(select_one) == 1
        proxy.cut()
        proxy.restore()  # the pooled connection is now dead
        calls.clear()
        assert db.transaction(select_one) == 1
        assert len(calls) == 2, "dead at the first statement: run once more, invisibly"
        calls.clear()
        with pytest.raises(DatabaseUnavailable):
            db.transaction(lost_midway)
        assert len(calls) == 1, "lost after a statement: never run again"
    finally:
        db.dispose()
        proxy.cut()

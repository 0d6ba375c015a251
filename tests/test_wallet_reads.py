"""A user's money read in one piece: during a bidding war every read of the wallet page shows
available + held + frozen equal to what was paid in, never a hold counted twice or lost, and the top bar's
available balance is the page's own."""

from __future__ import annotations

import re
import threading

import pytest
import requests

from auction import wallet
from tests.support.auctions import audit, fund, new_auction
from tests.support.sockets import SocketUser, login_cookie

pytestmark = pytest.mark.usefixtures("fast_passwords")
FUNDING = 500_000
CENTS = {name: re.compile(rf'data-wallet-{name} data-cents="(-?\d+)"') for name in ("available", "held", "frozen")}


def wallet_read(http: requests.Session, url: str) -> dict[str, int]:
    """The page's amounts; `available` twice: the top bar's, then the balance card's."""
    page = http.get(f"{url}/wallet", timeout=20).text
    (top_bar, available), (held,), (frozen,) = (map(int, pattern.findall(page)) for pattern in CENTS.values())
    return {"top_bar": top_bar, "available": available, "held": held, "frozen": frozen}


# MariaDB only: there each statement of a page reads its own moment unless Database.snapshot asks for REPEATABLE
# READ, so a bid committed between two of them could tear the page; a SQLite transaction reads one moment anyway.
@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_every_wallet_page_read_during_a_bidding_war_adds_up_to_the_funding(db, db_url, make_user, live_server_factory):
    seller, ana, bia = make_user("seller"), make_user("ana"), make_user("bia")
    for user in (ana, bia):
        fund(db, user, FUNDING)
    auction_id = new_auction(db, seller, min_increment=50)
    server = live_server_factory(db_url)
    tabs = [SocketUser(server.url, name) for name in ("ana", "bia")]
    readers = []
    for name in ("ana", "bia"):
        http = requests.Session()
        http.cookies.set("auction_session", login_cookie(server.url, name))
        readers.append(http)
    war_over = threading.Event()
    reads: list[dict[str, int]] = []

    def poll(http: requests.Session) -> None:
        while not war_over.is_set():
            reads.append(wallet_read(http, server.url))

    pollers = [threading.Thread(target=poll, args=(http,)) for http in readers for _ in range(2)]
    for thread in pollers:
        thread.start()
    try:
        amount = 1_000
        for turn in range(20):
            ack = tabs[turn % 2].call("bid", {"auction_id": auction_id, "amount": amount})
            assert ack["ok"], ack
            amount = ack["next_min"]
    finally:
        war_over.set()
        for thread in pollers:
            thread.join()
        for tab in tabs:
            tab.close()
    torn = [
        read
        for read in reads
        if read["available"] + read["held"] + read["frozen"] != FUNDING or read["top_bar"] != read["available"]
    ]
    assert len(reads) > 20 and torn == [], (len(reads), torn[:5])
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_a_snapshot_reads_one_moment_while_other_transactions_commit(db, make_user):
    """Database.snapshot: MariaDB's READ COMMITTED would give the second read the credit committed between."""
    user = make_user("ana")
    fund(db, user, 1_000)

    def two_reads(session):
        first = wallet.balance(session, user)
        credit = threading.Thread(target=fund, args=(db, user, 500))
        credit.start()
        credit.join()
        return first, wallet.balance(session, user), wallet.history(session, user)

    first, second, history = db.snapshot(two_reads)
    assert first == second == wallet.Balance(1_000, 0) and len(history) == 1
    assert db.transaction(wallet.balance, user).available == 1_500

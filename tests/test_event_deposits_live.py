"""A sale event with a deposit end to end on the real server (run.py, MariaDB): register through the page's form
over HTTP (the deposit held), a bid beyond the buying power refused over a real Socket.IO client, the lots closed
by the server's scheduler, the deposit released, the audit clean."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from auction import clock, wallet
from auction.auctions import sale_events
from auction.models import EventRegistration
from tests.support.auctions import audit, fund, load_auction, new_auction
from tests.support.sockets import SocketUser, login_cookie
from tests.test_realtime_live import backend, database  # noqa: F401 - fixtures: MariaDB, the test's own connection
from tests.test_sale_events_live import register as new_user

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("fast_passwords")]


def deposit_of(db, event_id: int, user_id: int) -> int | None:
    return db.transaction(
        lambda s: s.scalar(
            select(EventRegistration.deposit).where(
                EventRegistration.event_id == event_id, EventRegistration.user_id == user_id
            )
        )
    )


def test_register_with_deposit_bid_beyond_buying_power_refused_deposit_released(
    live_server_factory,
    db_url,
    database,  # noqa: F811
):
    seller, ana = new_user(database, "seller"), new_user(database, "ana")
    fund(database, ana, 100_000)
    server = live_server_factory(db_url, LOG_LEVEL="INFO", SCHEDULER_INTERVAL="0.2")
    # Made once the server is up: its two lots close 4 s and 5 s from now.
    event = sale_events.CreateEvent(
        organizer_id=seller,
        title="Leilão de rádios",
        description="",
        terms="Edital: caução de 10 % do poder de compra.",
        first_close_at=clock.now() + timedelta(seconds=4),
        lot_interval_seconds=1,
        soft_close_seconds=0,
        premium_bps=1_000,
        deposit_bps=1_000,
    )
    event_id = database.run(lambda uow: sale_events.create_event(uow, event).id)
    lots = [new_auction(database, seller, seconds=3600, title="Rádio") for _ in range(2)]
    for auction_id in lots:
        database.run(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, seller))

    http = requests.Session()
    login_cookie(server.url, "ana", http=http)
    page = http.get(f"{server.url}/events/{event_id}", timeout=10).text
    assert "data-deposit-rule" in page and 'name="buying_power"' in page
    token = re.search(r'data-register>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page)
    assert token
    form = {"csrf_token": token.group(1), "terms_version": "1", "accept": "yes", "buying_power": "200,00"}
    answer = http.post(f"{server.url}/events/{event_id}/register", data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert deposit_of(database, event_id, ana) == 2_000  # 10 % of R$ 200,00
    assert 'data-buying-power="20000"' in http.get(f"{server.url}/events/{event_id}", timeout=10).text
    assert database.transaction(wallet.balance, ana).available == 98_000

    bidder = SocketUser(server.url, "ana")
    try:
        assert bidder.call("bid", {"auction_id": lots[0], "amount": 10_000})["ok"]  # 11,000 with the premium
        refused = bidder.call("bid", {"auction_id": lots[1], "amount": 10_000})  # 22,000 > 20,000
        assert refused["ok"] is False and refused["error"] == "buying_power_exceeded", refused
        assert bidder.call("bid", {"auction_id": lots[1], "amount": 8_000})["ok"]  # 19,800
    finally:
        bidder.close()

    deadline = time.monotonic() + 20
    while deposit_of(database, event_id, ana) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert deposit_of(database, event_id, ana) == 0
    assert [load_auction(database, lot).winner_id for lot in lots] == [ana, ana]
    assert database.transaction(wallet.balance, ana) == wallet.Balance(100_000 - 19_800, 0)  # lots and premium
    assert database.transaction(wallet.history, ana)[0].reason == "deposit_released"
    assert audit(database) == []

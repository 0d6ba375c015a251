"""A browser through nginx over https (the deploy/ site, a self-signed certificate): the auction page loads
its static files from nginx, connects its socket through nginx, and shows a bid placed on the other process."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import IN_CI
from tests.support.auctions import fund, new_auction
from tests.support.nginx import nginx_available
from tests.test_production_topology import Tab

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.parametrize("backend", ["mariadb"], indirect=True),
    pytest.mark.usefixtures("fast_passwords"),
    pytest.mark.skipif(not nginx_available() and not IN_CI, reason="nginx is not installed (apt-get install nginx)"),
]


def test_a_page_through_nginx_sees_a_live_bid(topology, db, make_user, chromium):
    nginx, _servers = topology
    seller, ana = make_user("seller"), make_user("ana")
    fund(db, ana, 100_000)
    auction_id = new_auction(db, seller)
    # The test's self-signed certificate is accepted for this context only (--ignore-certificate-errors).
    context = chromium.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{nginx.url}/auctions/{auction_id}")
        # The live count has arrived over the socket (the page renders 0 and English is asked below).
        expect(page.locator('[data-field="viewing"]')).not_to_have_text(re.compile(r"^0 "), timeout=20_000)
        bidder = Tab(nginx.url, str(nginx.cert), auction_id, username="ana")
        try:
            assert bidder.sio.call("bid", {"auction_id": auction_id, "amount": 1_500}, timeout=20)["ok"]
        finally:
            bidder.close()
        expect(page.locator('[data-field="price"]')).to_have_text("R$ 15,00", timeout=20_000)
        # Bidders are pseudonyms in public ("Bidder NNNN", auction/auctions/privacy.py).
        expect(page.locator('[data-field="leader"]')).to_have_text(re.compile(r"^Bidder \d{4}$"))
        assert errors == []
    finally:
        context.close()

"""Two bidders on one auction in two browsers, the seller's wallet in a third: live bids, outbid,
countdown, inline errors, and the finish seen by everyone without a reload."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from auction.auctions import bids
from auction.outbox import Outbox
from tests.browser.conftest import Site, bid, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]
# Other bidders appear as stable pseudonyms (auction/auctions/privacy.py).
PSEUDONYM = re.compile(r"^Bidder \d{4}$")


def countdown_seconds(page: object) -> int:
    return int(page.get_attribute("[data-main-countdown]", "data-remaining"))


def test_bidding_war_outbid_errors_and_finish_seen_live(site: Site) -> None:
    seller = site.user("sellerina")
    site.user("alice", funds=50_000)
    site.user("bob", funds=50_000)
    site.user("broke")
    auction_id = site.auction(seller, "Vintage film camera", price=10_000, seconds=120)
    path = f"/auctions/{auction_id}"

    alice = site.open_as("alice", path)
    bob = site.open_as("bob", path)
    seller_wallet = site.open_as("sellerina", "/wallet")
    for page in (alice, bob):
        expect(page.locator('[data-field="viewing"]')).not_to_have_text("0 viewing now")
        expect(page.locator("[data-bid-amount]")).to_have_value("100,00")

    first = countdown_seconds(alice)
    assert 110 < first <= 120
    alice.wait_for_timeout(1200)
    assert countdown_seconds(alice) < first

    bid(alice, "100,00")
    expect(alice.locator("[data-bid-ok]")).to_contain_text("You are the highest bidder at R$ 100,00")
    expect(bob.locator('[data-field="price"]')).to_have_text("R$ 100,00")
    expect(bob.locator('[data-field="leader"]')).to_have_text(PSEUDONYM)
    expect(alice.locator('[data-field="leader"]')).to_have_text("you")
    expect(bob.locator("[data-bid-amount]")).to_have_value("102,50")
    expect(bob.locator("[data-bid-history] tr td").first).to_have_text(PSEUDONYM)
    expect(alice.locator("nav [data-wallet-available]")).to_have_text("R$ 400,00")

    bid(bob, "102,50")
    expect(alice.locator("[data-outbid-banner]")).to_be_visible()
    expect(alice.locator("[data-outbid-banner]")).to_contain_text("R$ 102,50")
    expect(alice.locator('[data-field="leader"]')).to_have_text(PSEUDONYM)
    expect(alice.locator("nav [data-wallet-available]")).to_have_text("R$ 500,00")
    expect(alice.locator("[data-unread-count]")).to_have_text("1")

    bid(alice, "101,00")
    expect(alice.locator("[data-bid-error]")).to_have_attribute("data-code", "too_low")
    expect(alice.locator("[data-bid-error]")).to_contain_text("The minimum bid is R$ 105,00")

    broke = site.open_as("broke", path, width=390, height=844)
    bid(broke, "105,00")
    expect(broke.locator("[data-bid-error]")).to_have_attribute("data-code", "insufficient_funds")
    expect(broke.locator("[data-bid-error] a")).to_have_attribute("href", "/wallet")
    screenshot(broke, "auction-phone-unfunded")

    bid(alice, "105,00")
    expect(bob.locator("[data-outbid-banner]")).to_be_visible()
    bid(bob, "110,00", max_amount="150,00")
    expect(bob.locator("[data-bid-ok]")).to_contain_text("highest bidder")
    expect(alice.locator('[data-field="leader"]')).to_have_text(PSEUDONYM)
    screenshot(alice, "auction-outbid")

    # The end comes close while every page is open; the server finishes the auction on its own.
    site.end_in(auction_id, 1)
    expect(bob.locator("[data-result]")).to_contain_text("You won this auction for R$ 110,00", timeout=20_000)
    expect(alice.locator("[data-result]")).to_have_text(re.compile(r"Won by Bidder \d{4} for R\$\s110,00"))
    expect(alice.locator("[data-bid-form]")).to_be_hidden()
    expect(alice.locator('[data-field="status"]')).to_have_text("Finished")
    # The seller hears of the sale and its order live; the price waits in escrow until the buyer confirms receipt
    # (tests/browser/test_order_and_withdrawal.py).
    expect(seller_wallet.locator("[data-unread-count]")).not_to_have_text("0")
    expect(seller_wallet.locator("[data-wallet-available]").first).to_have_text("R$ 0,00")
    expect(bob.locator("nav [data-wallet-available]")).to_have_text("R$ 390,00")
    screenshot(bob, "auction-won")
    seller_wallet.goto(f"{site.url}/me/auctions")
    expect(seller_wallet.locator("[data-order-link]")).to_be_visible()
    screenshot(seller_wallet, "my-auctions-sold")

    bob.goto(f"{site.url}/me/bids")
    expect(bob.locator("tr[data-outcome=won]")).to_contain_text("Vintage film camera")
    screenshot(bob, "my-bids")
    alice.goto(f"{site.url}/notifications")
    expect(alice.locator("[data-kind=outbid]").first).to_be_visible()
    screenshot(alice, "notifications")
    assert re.search(r"auction_finished|auction_id", site.server.log())


def test_reconnect_rejoins_with_current_state_and_soft_close_extension_is_shown(site: Site) -> None:
    seller = site.user("sol")
    site.user("ana", funds=50_000)
    bo = site.user("boris", funds=50_000)
    auction_id = site.auction(seller, "Old radio", price=5_000, seconds=600)
    # Ana's computer clock is three hours slow: her countdown still follows the server's clock.
    ana = site.open_as("ana", f"/auctions/{auction_id}", clock_skew=-timedelta(hours=3))
    expect(ana.locator('[data-field="viewing"]')).to_have_text("1 viewing now")
    assert ana.evaluate("new Date().getUTCHours()") != datetime.now(UTC).hour
    assert 590 <= countdown_seconds(ana) <= 600
    ana.wait_for_timeout(1100)
    assert 588 <= countdown_seconds(ana) < 600

    # The server goes away; meanwhile a bid lands (straight in the database, so no live message).
    site.server.stop()
    expect(ana.locator("[data-connection-banner]")).to_be_visible()
    site.db.run(bids.place, bids.PlaceBid(auction_id, bo, 6_000, soft_close_seconds=0), outbox=Outbox())
    site.server.start()
    expect(ana.locator('[data-field="leader"]')).to_have_text(PSEUDONYM, timeout=20_000)
    expect(ana.locator('[data-field="price"]')).to_have_text("R$ 60,00")
    expect(ana.locator("[data-bid-history] tr td").first).to_have_text(PSEUDONYM)
    expect(ana.locator("[data-connection-banner]")).to_be_hidden()

    # A bid in the last seconds moves the end (SOFT_CLOSE_SECONDS=4 on this server) and says so.
    site.end_in(auction_id, 2)
    bid(ana, "61,00")
    expect(ana.locator("[data-extended-banner]")).to_contain_text("extended")
    assert countdown_seconds(ana) >= 2
    expect(ana.locator("[data-result]")).to_contain_text("You won this auction for R$ 61,00", timeout=20_000)

"""Screens that used to go stale, in Chromium against one live server: a returning outbid bidder is told on
reload, toasts give way to newer states and never cover the title or the bid field (desktop and 390x844), an
auction that ends live offers its order (and the buyer's toast leads to it), and the seller's order page follows
the buyer's address and receipt without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, bid, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]
PHONE = {"width": 390, "height": 844}


def overlaps(page: object, first: str, second: str) -> bool:
    a, b = page.locator(first).first.bounding_box(), page.locator(second).first.bounding_box()
    if a is None or b is None:
        return False
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def assert_toast_clear(page: object) -> None:
    toast = page.locator("[data-toasts] .toast").first
    expect(toast).to_be_visible()
    for covered in ("h1.auction-title", "#bid-amount", "[data-bid-submit]"):
        assert not overlaps(page, "[data-toasts] .toast", covered), covered


def test_live_states_replace_stale_ones_and_nothing_needs_a_reload(site: Site) -> None:
    seller = site.user("sella")
    site.user("ana", funds=50_000)
    site.user("bia", funds=50_000)
    auction_id = site.auction(seller, "Rolleiflex 2.8F", price=10_000, seconds=300)
    path = f"/auctions/{auction_id}"
    ana = site.open_as("ana", path, **PHONE)
    bia = site.open_as("bia", path)
    seller_page = site.open_as("sella", path)

    bid(ana, "100,00")
    expect(ana.locator("[data-leader-box]")).to_be_visible()
    bid(bia, "102,50")
    expect(ana.locator("[data-outbid-banner]")).to_contain_text("R$\u00a0102,50")
    assert_toast_clear(ana)  # the outbid toast, on the phone
    screenshot(ana, "stale-outbid-toast-phone")

    # Bidding again makes the toast's news old: it goes as soon as the box says ana leads.
    bid(ana, "105,00")
    expect(ana.locator("[data-leader-box]")).to_be_visible()
    expect(ana.locator('[data-toasts] [data-group^="outbid:"]')).to_have_count(0)
    assert_toast_clear(bia)  # bia's outbid toast, on a desktop
    bid(bia, "110,00")
    expect(ana.locator("[data-outbid-banner]")).to_contain_text("R$\u00a0110,00")

    # Back later (a reload): the page itself says ana was outbid, at the price now.
    ana.reload()
    expect(ana.locator("[data-outbid-banner]")).to_be_visible()
    expect(ana.locator("[data-outbid-text]")).to_contain_text("R$\u00a0110,00")
    bia.reload()
    expect(bia.locator("[data-leader-box]")).to_contain_text("R$\u00a0110,00")
    expect(bia.locator("[data-outbid-banner]")).to_be_hidden()

    # The end comes with every page open: the winner and the seller get the order at once.
    site.end_in(auction_id, 1)
    order_link = bia.locator("[data-order-link]")
    expect(order_link).to_be_visible(timeout=20_000)
    expect(order_link).to_have_attribute("href", re.compile(r"^/orders/\d+$"))
    order_path = order_link.get_attribute("href")
    expect(seller_page.locator("[data-order-link]")).to_have_attribute("href", order_path)
    expect(ana.locator("[data-order-link]")).to_be_hidden()
    expect(bia.locator(f'[data-toasts] a[href="{order_path}"]')).to_contain_text("delivery address")
    screenshot(bia, "stale-won-order-link")

    # The seller waits on the order page; the buyer's address and receipt appear there without a reload.
    seller_page.click("[data-order-link]")
    expect(seller_page.locator("[data-order-status]")).to_contain_text("waiting for shipping")
    seller_page.evaluate("window.notReloaded = true")
    bia.goto(f"{site.url}{order_path}")
    bia.fill("input[name=recipient]", "Bia Souza")
    bia.fill("input[name=line1]", "Rua Augusta, 1500")
    bia.fill("input[name=city]", "São Paulo")
    bia.fill("input[name=state]", "SP")
    bia.fill("input[name=postal_code]", "01304-001")
    bia.click("[data-address-form] button[type=submit]")
    expect(seller_page.locator("[data-order-address]")).to_contain_text("Rua Augusta, 1500")
    seller_page.fill("input[name=carrier]", "Correios")
    seller_page.fill("input[name=tracking_code]", "BR123456789BR")
    seller_page.click("[data-ship-form] button[type=submit]")
    expect(bia.locator("[data-order-status]")).to_contain_text("Shipped")
    seller_page.evaluate("window.notReloaded = true")
    bia.click("[data-confirm-receipt]")
    bia.locator("form button[type=submit].primary").last.click()
    expect(seller_page.locator("[data-order-status]")).to_contain_text("Completed")
    assert seller_page.evaluate("window.notReloaded === true")
    screenshot(seller_page, "stale-order-completed-live")

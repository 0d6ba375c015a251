"""Sell with photos through the form (errors first), then watch the list page update live."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, make_png, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_sell_with_photos_and_list_updates_live(site: Site, tmp_path: Path) -> None:
    site.user("carla")
    site.user("dan")
    site.user("erin", funds=100_000)
    site.auction(site.user("other"), "Mechanical keyboard", price=12_000, seconds=5400)
    fake = tmp_path / "photo.jpg"
    fake.write_text("<script>alert(1)</script>")
    photos = []
    for i in range(2):
        path = tmp_path / f"photo{i}.png"
        path.write_bytes(make_png(seed=i * 90))
        photos.append(str(path))

    seller = site.open_as("carla", "/sell")
    seller.fill("input[name=title]", "Road bicycle")
    seller.fill("textarea[name=description]", "Aluminium frame, 54 cm.\nNew tyres, serviced last month.")
    seller.fill("input[name=starting_price]", "abc")
    seller.set_input_files("input[name=photos]", [str(fake)])
    seller.click("[data-sell-form] button[type=submit]")
    expect(seller.locator("[data-error-for=starting_price]")).to_contain_text("amount")
    expect(seller.locator("[data-error-for=condition]")).to_be_visible()
    seller.fill("input[name=starting_price]", "600,00")
    seller.select_option("select[name=condition]", "used")
    seller.select_option("select[name=delivery]", "pickup")
    seller.fill("input[name=city]", "Curitiba")
    seller.select_option("select[name=uf]", "PR")
    seller.set_input_files("input[name=photos]", [str(fake)])
    seller.click("[data-sell-form] button[type=submit]")
    expect(seller.locator("[data-error-for=photos]")).to_contain_text("not a JPEG, PNG, WebP or GIF")
    screenshot(seller, "sell-errors")

    seller.fill("input[name=duration]", "2")
    seller.select_option("select[name=duration_unit]", "hours")
    seller.set_input_files("input[name=photos]", photos)
    seller.click("[data-sell-form] button[type=submit]")
    expect(seller.locator(".flash-success")).to_contain_text("listed")
    expect(seller.locator("h1")).to_have_text("Road bicycle")
    expect(seller.locator('[data-field="condition"]')).to_have_text("Used")
    expect(seller.locator('[data-field="delivery"]')).to_have_text("Pickup in Curitiba - PR")
    assert seller.locator(".gallery img").count() == 2
    assert seller.eval_on_selector(".gallery img", "img => img.complete && img.naturalWidth") == 320
    screenshot(seller, "auction-seller")
    auction_path = seller.url.removeprefix(site.url)

    watcher = site.open_as("dan", "/", width=390, height=844)
    card = watcher.locator("[data-auction-card]").filter(has_text="Road bicycle")
    expect(card.locator("img.thumb")).to_be_visible()
    expect(card.locator('[data-field="price"]')).to_have_text("R$ 600,00")

    bidder = site.open_as("erin", auction_path)
    bidder.fill("[data-bid-amount]", "650,00")
    bidder.click("[data-bid-submit]")
    bidder.click("[data-confirm-ok]")
    expect(bidder.locator("[data-bid-ok]")).to_be_visible()
    bidder.click("[data-watch-button]")
    expect(bidder.locator("[data-watch-button]")).to_have_text("Stop watching")
    expect(bidder.locator(".flash")).to_have_count(0)  # the socket did it: no form post, no flash
    expect(card.locator('[data-field="price"]')).to_have_text("R$ 650,00")
    expect(card.locator('[data-field="bid-count"]')).to_have_text("1 bid")
    screenshot(watcher, "auctions-phone")

    watcher.set_viewport_size({"width": 1280, "height": 900})
    watcher.goto(f"{site.url}/?q=bicy")
    expect(watcher.locator("[data-auction-card]")).to_have_count(1)
    watcher.goto(f"{site.url}/")
    screenshot(watcher, "auctions")

    seller.goto(f"{site.url}/me/auctions")
    expect(seller.locator("tr[data-outcome=selling]")).to_contain_text("Road bicycle")
    screenshot(seller, "my-auctions")

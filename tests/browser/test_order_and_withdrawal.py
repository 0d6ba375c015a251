"""Sale -> order -> shipped -> confirmed -> withdrawal -> done, in Chromium against the real server and its simulator.

The buyer gives an address and confirms receipt on the order page; the seller ships from the same page and then
withdraws the proceeds to their CPF key from the wallet page; the Asaas account holder validates nothing by hand
(the simulator calls the site's validation webhook) and makes the transfer done on the simulator's page; the
seller's wallet page shows each status live.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from auction import wallet
from auction.auctions import bids
from auction.orders import service as orders
from auction.outbox import Outbox
from tests.browser.conftest import PASSWORD, Site, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]
ADDRESS = {"recipient": "Ana Souza", "line1": "Rua Augusta, 1500", "line2": "", "city": "São Paulo", "state": "SP"}


def test_sale_order_shipped_confirmed_withdrawal_done(site: Site) -> None:
    site.user("root", is_admin=True)
    seller = site.user("sol")  # CPF 153.509.460-56 (tests/browser/conftest.py picks it by name length)
    buyer = site.user("ana", funds=50_000)
    auction_id = site.auction(seller, "Rolleiflex 2.8F", price=20_000)
    site.db.run(bids.place, bids.PlaceBid(auction_id, buyer, 20_000, None, soft_close_seconds=0), outbox=Outbox())
    site.end_in(auction_id, 1)

    # The buyer finds the order from the auction page once the scheduler has closed the sale.
    page = site.open_as("ana", f"/auctions/{auction_id}")
    for _ in range(40):
        if page.locator("[data-order-link]").is_visible():
            break
        time.sleep(0.25)
        page.reload()
    page.click("[data-order-link]")
    expect(page.locator("[data-order-status]")).to_contain_text("waiting for shipping")
    expect(page.locator("[data-order-escrow]")).to_have_text("R$ 200,00")
    page.fill("input[name=recipient]", "Ana Souza")
    page.fill("input[name=line1]", "Rua Augusta, 1500")
    page.fill("input[name=city]", "São Paulo")
    page.fill("input[name=state]", "SP")
    page.fill("input[name=postal_code]", "01304-001")
    page.click("[data-address-form] button[type=submit]")
    expect(page.locator("[data-order-address]")).to_contain_text("Rua Augusta, 1500")
    order_url = page.url

    # The seller ships; the buyer's open order page follows live.
    seller_page = site.open_as("sol", "/me/auctions")
    seller_page.click("[data-order-link]")
    expect(seller_page.locator("[data-order-address]")).to_contain_text("01304-001")
    seller_page.fill("input[name=carrier]", "Correios")
    seller_page.fill("input[name=tracking_code]", "BR123456789BR")
    seller_page.click("[data-ship-form] button[type=submit]")
    expect(seller_page.locator("[data-order-status]")).to_have_text("Shipped")
    expect(page.locator("[data-confirm-receipt]")).to_be_visible()
    screenshot(page, "order-shipped")
    page.click("[data-confirm-receipt]")
    # Receipt pays the seller and ends the right to dispute: the page asks first.
    expect(page.locator("[data-confirm-receipt-page]")).to_contain_text("R$")
    screenshot(page, "order-confirm-receipt")
    page.click("[data-confirm-receipt-yes]")
    expect(page.locator("[data-order-status]")).to_have_text("Completed")
    assert page.url == order_url
    # The seller's order page hears the `order` message too and reloads itself: let that reload finish
    # before navigating away, or the two navigations race.
    expect(seller_page.locator("[data-order-status]")).to_have_text("Completed")
    seller_page.wait_for_load_state("load")

    # The Asaas account holder sets up money out as docs/payments.md says: a new account has critical
    # authorisation on, so they turn on the transfer validation webhook (and the account holds the money).
    sim = site.open_as("root", "/asaas-sim/transfers")
    sim.locator("label:has(input[value=validation_webhook])").click()
    sim.click("text=Salvar · Save")
    sim.fill("input[name=value]", "200,00")
    sim.click("text=Depositar · Deposit")
    expect(sim.locator("[data-sim-balance]")).to_have_text("R$ 200.00")

    # The seller withdraws the proceeds to their own CPF key.
    seller_page.goto(f"{site.url}/wallet")
    expect(seller_page.locator("main [data-wallet-available]")).to_have_text("R$ 200,00")
    seller_page.fill("[data-withdraw-amount]", "150,00")
    seller_page.select_option("[data-withdraw-key-type]", "CPF")
    seller_page.fill("[data-withdraw-key]", "153.509.460-56")
    seller_page.fill("[data-withdraw-password]", PASSWORD)
    seller_page.click("[data-withdraw-submit]")
    status = seller_page.locator("[data-withdrawal-list] tbody tr").first.locator("[data-withdrawal-status]")
    expect(status).to_have_attribute("data-withdrawal-status", "pending")
    expect(seller_page.locator("main [data-wallet-available]")).to_have_text("R$ 50,00")
    # Back on the page later, it says what is on its way out, until the transfer is done (then live).
    seller_page.reload()
    expect(seller_page.locator("[data-in-withdrawal]")).to_have_text("R$ 150,00 is on its way out now.")

    # The Asaas account holder makes it done once the site has approved it through the validation webhook.
    sim.reload()
    for _ in range(60):
        if sim.locator("[data-transfer-done]").count():
            break
        time.sleep(0.25)
        sim.reload()
    screenshot(sim, "simulator-transfers")
    sim.click("[data-transfer-done]")
    expect(status).to_have_attribute("data-withdrawal-status", "done", timeout=15_000)
    expect(seller_page.locator("[data-in-withdrawal]")).to_be_hidden()
    screenshot(seller_page, "wallet-withdrawal-done")
    assert site.db.transaction(wallet.balance, seller).available == 5_000
    assert site.db.transaction(wallet.audit) == []


def test_what_the_seller_types_and_clicks_survives_a_slow_reread(site: Site) -> None:
    """The order page reads itself again once its socket connects (static/js/order.js); here that read is held
    back while the seller types the shipping and presses its button, and the buyer's address lands in it. The
    address appears, every key the seller typed (before and after the read landed) is in the form, the focus and
    the button press stay where they were, and the shipment is sent."""
    seller = site.user("sol")
    buyer = site.user("ana", funds=50_000)
    order_id = site.sold(seller, buyer, "Rolleiflex 2.8F")
    page = site.page()
    site.login(page, "sol")
    held: list = []
    page.route(
        f"**/orders/{order_id}",
        lambda route: held.append(route) if route.request.resource_type == "fetch" else route.continue_(),
    )

    def hold_reread() -> None:
        page.goto(f"{site.url}/orders/{order_id}")
        deadline = time.monotonic() + 10
        while not held and time.monotonic() < deadline:
            page.wait_for_timeout(20)
        assert held, "the order page did not read itself again once connected"

    def let_it_land(text: str) -> None:
        held.pop().continue_()
        expect(page.locator("[data-order-address]")).to_contain_text(text)

    carrier = page.locator("input[name=carrier]")
    hold_reread()
    carrier.click()
    page.keyboard.type("Corr")
    site.db.run(orders.set_address, orders.SetAddress(order_id, buyer, ADDRESS | {"postal_code": "01304-001"}))
    let_it_land("01304-001")
    page.keyboard.type("eios")
    expect(carrier).to_have_value("Correios")
    expect(carrier).to_be_focused()

    # Again, with the button pressed (not yet released) when the read lands.
    hold_reread()
    carrier.fill("Correios")
    page.fill("input[name=tracking_code]", "BR123456789BR")
    site.db.run(orders.set_address, orders.SetAddress(order_id, buyer, ADDRESS | {"postal_code": "01310-100"}))
    box = page.locator("[data-ship-form] button[type=submit]").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    let_it_land("01310-100")
    page.mouse.up()
    expect(page.locator("[data-order-status]")).to_have_text("Shipped")
    expect(page.locator("[data-tracking]")).to_have_text("BR123456789BR")

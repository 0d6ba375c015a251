"""Register through the form, top up by PIX on our own pay page (QR code and copy-paste code), pay it through
the simulator, see the pay page turn "paid" and the balance change live; an admin then finds the webhook delivery
and its raw body."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, Site, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]


def register(page: object, site: Site, username: str) -> None:
    page.goto(f"{site.url}/register")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=cpf_cnpj]", "529.982.247-25")
    page.check("input[name=accept]")
    page.click("button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Welcome")


def test_register_top_up_through_checkout_and_admin_sees_the_delivery(site: Site) -> None:
    site.user("root", is_admin=True)
    page = site.page()
    register(page, site, "newbie")
    screenshot(page, "auctions-empty")

    page.click("nav >> text=Wallet")
    expect(page.locator("main [data-wallet-available]")).to_have_text("R$ 0,00")
    # The form checks the amount with the page's script: a click while the page is still loading (a loaded CI
    # machine, seen once) posts before the script has run.
    page.wait_for_load_state("load")
    page.fill("[data-topup-amount]", "abc")
    page.click("[data-topup-submit]")
    expect(page.locator("[data-topup-error]")).to_contain_text("Enter an amount")
    page.fill("[data-topup-amount]", "250,00")
    page.check("[data-billing-type][value=PIX]")
    page.click("[data-topup-submit]")

    # Our own pay page: the PIX QR code and the copy-paste code, fetched from (simulated) Asaas.
    page.wait_for_url("**/wallet/payments/*")
    expect(page.locator("[data-pix-qr]")).to_be_visible()
    expect(page.locator("[data-pix-code]")).to_have_value(re.compile(r"^000201.*br\.gov\.bcb\.pix"))
    expect(page.locator("[data-pay-paid]")).to_be_hidden()
    screenshot(page, "pay-pix")

    # The payer's bank app pays the code; here the simulator's invoice page stands in for it.
    with page.context.expect_page() as opened:
        page.click("[data-invoice-link]")
    checkout = opened.value
    checkout.wait_for_load_state()
    expect(checkout.locator("[data-sim-payment] [data-billing-type]")).to_have_text("PIX")
    screenshot(checkout, "simulator-checkout")
    checkout.click("button[value=pay]")
    checkout.wait_for_url("**/wallet/payments/*")  # callback.successUrl: back to our pay page

    # The webhook credits the wallet; the open pay page turns "paid" without a reload.
    expect(page.locator("[data-pay-paid]")).to_be_visible()
    expect(page.locator("[data-pay-paid]")).to_contain_text("R$ 250,00")
    expect(page.locator("[data-pay-waiting]")).to_be_hidden()
    expect(page.locator("nav [data-wallet-available]")).to_have_text("R$ 250,00")
    expect(page.locator("[data-unread-count]")).not_to_have_text("0")
    page.click("nav >> text=Wallet")
    expect(page.locator("main [data-wallet-available]")).to_have_text("R$ 250,00")
    page.reload()
    expect(page.locator("table.ledger")).to_contain_text("Top-up")
    screenshot(page, "wallet")
    page.click("text=My payments")
    expect(page.locator("tr[data-status=RECEIVED]")).to_contain_text("Paid")
    screenshot(page, "payments")

    admin = site.open_as("root", "/admin/deliveries")
    row = admin.locator("tr[data-delivery-id]").filter(has_text="PAYMENT_RECEIVED")
    expect(row).to_contain_text("Applied")
    screenshot(admin, "admin-deliveries")
    row.locator("text=Raw body").click()
    expect(admin.locator("[data-raw-body]")).to_contain_text('"event"')
    assert "test-webhook-token" not in admin.content()
    admin.goto(f"{site.url}/admin/")
    screenshot(admin, "admin")

"""A 390x844 phone in Portuguese on pages full of data: unread alerts, an order in each step, withdrawals in
several states, errors shown. Each page is screenshotted (test-artifacts/phone-*.png), checked by axe (no
serious or critical violation: the unread badge's contrast included) and measured: a header of at most two
rows, "R$" never apart from its number, withdraw fields wide enough to read, wide tables that show they scroll,
and every time in the server's one pattern."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from auction import create_app
from auction.models import User
from auction.orders import service as orders
from auction.payouts import withdrawals as w
from tests.browser.conftest import Site, screenshot
from tests.browser.test_accessibility import SERIOUS

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE = {"width": 390, "height": 844, "locale": "pt-BR", "timezone_id": "America/Sao_Paulo"}
ADDRESS = {"recipient": "Ana Lima", "line1": "Rua Aurora, 12", "line2": "", "city": "Recife", "state": "PE"}
SERVER_TIME = re.compile(r"\d{1,2} [^\W\d]{3,4}\.? \d{4}, \d\d:\d\d(:\d\d)?")  # i18n.when: "7 dez. 2026, 18:50"
MEASURE = """() => {
  const header = document.querySelector(".topbar").getBoundingClientRect().height;
  const line = parseFloat(getComputedStyle(document.querySelector(".topbar nav a")).lineHeight) || 22;
  const text = document.body.textContent;
  const tables = [...document.querySelectorAll(".table-wrap")].map((el) => ({
    overflows: el.scrollWidth > el.clientWidth + 1,
    hinted: getComputedStyle(el).backgroundImage.includes("gradient") && getComputedStyle(el).overflowX === "auto",
  }));
  const fields = [...document.querySelectorAll("[data-withdraw-form] :is(input:not([type=hidden]), select)")]
    .map((el) => Math.round(el.getBoundingClientRect().width));
  const times = [...document.querySelectorAll("time")].map((el) => el.textContent.trim());
  const looseMoney = (text.match(/R\\$ \\d/g) || []).length;
  return { times, header, line, looseMoney, tables, fields };
}"""


def _world(site: Site) -> dict[str, int]:
    seller = site.user("sol", funds=300_000)
    buyer = site.user("ana", funds=300_000)
    admin = site.user("root", is_admin=True)
    ids = {step: site.sold(seller, buyer, f"Câmera Leica modelo {step}") for step in ("paid", "shipped", "done")}
    db = site.db
    for step in ("shipped", "done"):
        db.run(orders.set_address, orders.SetAddress(ids[step], buyer, ADDRESS | {"postal_code": "50000-000"}))
        db.run(orders.ship, orders.Ship(ids[step], seller, "Correios", "BR123456789BR", 14))
    db.run(orders.confirm, orders.OrderAction(ids["done"], buyer))
    cpf = db.transaction(lambda s: s.get(User, seller).cpf_cnpj)
    limits = w.WithdrawalLimits(min_cents=1_000, max_cents=100_000, daily_cents=500_000, approval_cents=30_000)
    for amount in (2_000, 40_000, 45_000):
        db.run(w.request_withdrawal, w.RequestWithdrawal(seller, amount, cpf, "CPF", limits))
    refused = db.transaction(lambda s: s.scalar(select(w.Withdrawal.id).where(w.Withdrawal.amount == 45_000)))
    db.run(w.refuse, w.AdminDecision(refused, admin, "Conta divergente"))
    return ids


def visit(site: Site, page: object, path: str, name: str) -> list[str]:
    page.goto(f"{site.url}{path}")
    page.wait_for_load_state("load")
    return inspect(site, page, path, name)


def inspect(site: Site, page: object, path: str, name: str) -> list[str]:
    page.add_script_tag(url=f"{site.url}/static/vendor/axe.min.js")
    screenshot(page, f"phone-{name}")
    problems = [f"{name}: axe {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}" for v in page.evaluate(SERIOUS)]
    seen = page.evaluate(MEASURE)
    if seen["header"] > 2 * seen["line"] + 40:
        problems.append(f"{name}: the header is {seen['header']:.0f}px high (more than two rows)")
    if seen["looseMoney"]:
        problems.append(f"{name}: {seen['looseMoney']} amounts whose 'R$' may wrap apart from the number")
    for table in seen["tables"]:
        if table["overflows"] and not table["hinted"]:
            problems.append(f"{name}: a wide table with no sign that it scrolls")
    problems += [f"{name}: a withdraw field {px}px wide" for px in seen["fields"] if px < 110]
    # One format per page: the script rewrites times in the reader's zone with the server's own pattern.
    problems += [f"{name}: a time written {text!r}" for text in seen["times"] if not SERVER_TIME.fullmatch(text)]
    return problems


def test_a_phone_in_portuguese_on_pages_full_of_data(site: Site, tmp_path: Path) -> None:
    # The use cases run here, beside the server, in an app of their own (a withdrawal queues its notice e-mail).
    app = create_app({"DATABASE_URL": site.server.env["DATABASE_URL"], "INSTANCE_PATH": str(tmp_path / "seed")})
    with app.app_context():
        ids = _world(site)
    app.extensions["auction.db"].dispose()
    problems: list[str] = []

    seller = site.page(**PHONE)
    site.login(seller, "sol")
    expect(seller.locator("[data-unread-count]")).to_be_visible()  # order and withdrawal alerts, unread
    for path, name in (
        ("/me/auctions", "my-auctions"),
        ("/wallet", "wallet-seller"),
        ("/notifications", "notifications"),
        (f"/orders/{ids['paid']}", "order-paid-seller"),
    ):
        problems += visit(site, seller, path, name)
    seller.goto(f"{site.url}/wallet")
    seller.fill("#withdraw-amount", "abc")
    seller.click("[data-withdraw-submit]")
    expect(seller.locator("[data-withdraw-error]")).to_be_visible()
    problems += inspect(site, seller, "/wallet", "wallet-withdraw-error")
    seller.goto(f"{site.url}/sell")
    seller.fill("input[name=title]", "Lente")
    seller.fill("input[name=starting_price]", "dez reais")
    seller.click("main form [type=submit]")
    expect(seller.locator(".error").first).to_be_visible()
    problems += inspect(site, seller, "/sell", "sell-error")

    buyer = site.page(**PHONE)
    site.login(buyer, "ana")
    for path, name in (
        ("/me/bids", "my-bids"),
        ("/wallet/payments", "payments"),
        (f"/orders/{ids['paid']}", "order-paid-buyer"),
        (f"/orders/{ids['shipped']}", "order-shipped-buyer"),
        (f"/orders/{ids['done']}", "order-done-buyer"),
    ):
        problems += visit(site, buyer, path, name)
    buyer.goto(f"{site.url}/orders/{ids['shipped']}")
    buyer.click("[data-confirm-receipt]")
    expect(buyer.locator("[data-confirm-receipt-page]")).to_contain_text(re.compile(r"R\$\s120,00"))
    problems += inspect(site, buyer, "confirm", "order-confirm-receipt")

    admin = site.page(**PHONE)
    site.login(admin, "root")
    for path, name in (("/admin/withdrawals?all=1", "admin-withdrawals"), ("/admin/orders", "admin-orders")):
        problems += visit(site, admin, path, name)
    assert problems == [], "\n".join(problems)

"""A sale event's catalogue in real Chromium, in pt-BR: two bidders on two lots (their bids sent by real Socket.IO
clients), each one's page showing the live prices and their own state, the lot closing now highlighted and moving
on when it closes, and a late bid that extends a lot and pushes the later lots, their order kept; one page at
phone size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from auction import clock
from auction.auctions import sale_events
from tests.browser.conftest import Site, screenshot
from tests.browser.test_accessibility import SERIOUS
from tests.support.sockets import SocketUser

pytestmark = [pytest.mark.browser, pytest.mark.live]

INTERVAL = 5
SOFT_CLOSE = 60  # every bid of this test is late: it extends its lot and pushes the later ones


def make_event(site: Site, seller: int, bidders: list[int]) -> tuple[int, list[int]]:
    command = sale_events.CreateEvent(
        organizer_id=seller,
        title="Leilão de discos",
        description="Discos de vinil.",
        terms="Edital: pagamento em 3 dias.",
        first_close_at=clock.now() + timedelta(seconds=30),
        lot_interval_seconds=INTERVAL,
        soft_close_seconds=SOFT_CLOSE,
    )
    event_id = site.db.run(lambda uow: sale_events.create_event(uow, command).id)
    lots = [site.auction(seller, f"Disco {n}", price=10_000, seconds=3600) for n in range(1, 5)]
    for auction_id in lots:
        site.db.run(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, seller))
    for user_id in bidders:
        site.db.run(sale_events.register, sale_events.Register(event_id, user_id, 1))
    return event_id, lots


def ends(page: object) -> list[float]:
    """Each listed lot's end as the page shows it (epoch ms; NaN once it has closed), in lot order."""
    return page.evaluate(
        "[...document.querySelectorAll('[data-lot]')].map((row) =>"
        " Date.parse(row.querySelector('[data-countdown]')?.dataset.endsAt || ''))"
    )


def test_two_bidders_see_prices_states_the_closing_lot_and_a_push_live_in_portuguese(site: Site) -> None:
    seller = site.user("vendedora")
    ana, bia = site.user("ana", funds=100_000), site.user("bia", funds=100_000)
    event_id, lots = make_event(site, seller, [ana, bia])
    path = f"/events/{event_id}"
    ana_page = site.open_as("ana", path, locale="pt-BR")
    bia_page = site.open_as("bia", path, locale="pt-BR", width=390, height=844)
    for page in (ana_page, bia_page):
        expect(page.locator("[data-event]")).to_have_attribute("data-joined", "true")
        expect(page.locator("#lots-heading")).to_have_text("Lotes")
        expect(page.locator("tr.closing-now")).to_have_attribute("data-auction-id", str(lots[0]))
    before = ends(ana_page)

    def row(page: object, n: int) -> object:
        return page.locator(f'[data-lot][data-auction-id="{lots[n - 1]}"]')

    ana_socket, bia_socket = SocketUser(site.url, "ana"), SocketUser(site.url, "bia")
    try:
        first = ana_socket.call("bid", {"auction_id": lots[1], "amount": 10_000})
        assert first["ok"] and first["extended"]
        assert bia_socket.call("bid", {"auction_id": lots[2], "amount": 10_000})["ok"]
        expect(row(ana_page, 2).locator('[data-field="state"]')).to_have_text("Liderando")
        expect(row(bia_page, 3).locator('[data-field="state"]')).to_have_text("Liderando")
        expect(row(bia_page, 2).locator('[data-field="price"]')).to_have_text("R$ 100,00")
        outbid = bia_socket.call("bid", {"auction_id": lots[1], "amount": first["next_min"]})
        assert outbid["ok"] and outbid["leading"]
        expect(row(ana_page, 2).locator('[data-field="state"]')).to_have_text("Superado")
        expect(row(bia_page, 2).locator('[data-field="state"]')).to_have_text("Liderando")
        expect(row(ana_page, 2).locator('[data-field="price"]')).to_have_text(
            "R$ " + f"{first['next_min'] / 100:.2f}".replace(".", ",")
        )
    finally:
        ana_socket.close()
        bia_socket.close()

    # Lot 2's late bids moved it to about a minute from now; lots 3 and 4 follow it an interval apart, lot 1 stays.
    def pushed() -> bool:
        now = ends(ana_page)
        return now[1] > before[1] and now[2] == now[1] + INTERVAL * 1000 and now[3] == now[2] + INTERVAL * 1000

    ana_page.wait_for_function(
        "([a, b]) => { const rows = [...document.querySelectorAll('[data-lot] [data-countdown]')];"
        " const t = rows.map((el) => Date.parse(el.dataset.endsAt)); return t[1] > a && t[2] - t[1] === b; }",
        arg=[before[1], INTERVAL * 1000],
    )
    assert pushed() and ends(ana_page)[0] == before[0]
    assert ends(bia_page) == ends(ana_page)

    # Lot 1 closes (the server's scheduler finishes it): it says so and the highlight moves to lot 2 on both pages.
    site.end_in(lots[0], 0.5)
    for page in (ana_page, bia_page):
        expect(row(page, 1).locator('[data-field="status"]')).to_have_text("Encerrado", timeout=15_000)
        expect(page.locator("tr.closing-now")).to_have_attribute("data-auction-id", str(lots[1]))
        expect(page.locator("[data-closing-link]")).to_have_text("Lote 2")
    assert bia_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for page in (ana_page, bia_page):  # no serious or critical axe-core violation, on the desktop and the phone
        page.add_script_tag(url=f"{site.url}/static/vendor/axe.min.js")
        assert page.evaluate(SERIOUS) == []
    screenshot(bia_page, "event-page-phone-pt")
    screenshot(ana_page, "event-page-pt")

"""axe-core (static/vendor/axe.min.js, vendored like the Socket.IO client) on every main page: logged out
and logged in, desktop and a 390x844 phone, pt-BR and English. No serious or critical violation is
allowed; every page's screenshot lands in test-artifacts/."""

from __future__ import annotations

import pytest

from auction.auctions import bids
from auction.outbox import Outbox
from tests.browser.conftest import Site, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = {"pt": "pt-BR", "en": "en-US"}
SERIOUS = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
}"""


def check(site: Site, page: object, path: str, name: str) -> list[str]:
    page.goto(f"{site.url}{path}")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # the socket's join ack fills in the live parts
    page.add_script_tag(url=f"{site.url}/static/vendor/axe.min.js")
    screenshot(page, name)
    return [f"{name} {path}: {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}" for v in page.evaluate(SERIOUS)]


# Each language once and each screen once (pt-BR on the phone, English on the desktop): the pairs left out would
# only repeat a check the others make (axe's rules read the markup, the language only changes the words), at
# ~14 s each in a suite held under 15 minutes.
@pytest.mark.parametrize(("lang", "device"), [("pt", "phone"), ("en", "desktop")])
def test_main_pages_have_no_serious_accessibility_violations(site: Site, lang: str, device: str) -> None:
    seller = site.user("seller")
    bidder = site.user("bidder", funds=100_000)
    site.user("other", funds=100_000)
    site.user("admin", is_admin=True)
    auction_id = site.auction(seller, "Record player", price=10_000, reserve_price=20_000)
    site.db.run(bids.place, bids.PlaceBid(auction_id, bidder, 10_000), outbox=Outbox())
    options = {**VIEWPORTS[device], "locale": LANGUAGES[lang]}
    problems: list[str] = []

    visitor = site.page(**options)
    for path, label in (
        ("/", "home"),
        ("/login", "login"),
        ("/register", "register"),
        ("/forgot-password", "forgot-password"),
        (f"/auctions/{auction_id}", "auction"),
        ("/auctions/424242", "not-found"),
    ):
        problems += check(site, visitor, path, f"{label}-{lang}-{device}-visitor")

    member = site.page(**options)
    site.login(member, "bidder")
    member_pages = (
        ("/", "home"),
        (f"/auctions/{auction_id}", "auction"),
        ("/sell", "sell"),
        ("/me/bids", "my-bids"),
        ("/me/auctions", "my-auctions"),
        ("/me/watchlist", "watchlist"),
        ("/notifications", "notifications"),
        ("/wallet", "wallet"),
        ("/account", "account"),
    )
    for path, label in member_pages:
        problems += check(site, member, path, f"{label}-{lang}-{device}-member")

    admin = site.page(**options)
    site.login(admin, "admin")
    problems += check(site, admin, "/admin/auctions", f"admin-auctions-{lang}-{device}")
    problems += check(site, admin, "/admin/mail", f"admin-mail-{lang}-{device}")
    assert problems == []

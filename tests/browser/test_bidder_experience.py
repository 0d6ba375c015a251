"""The bidder's experience (issue 17) in real Chromium: Portuguese first, local times, the leader's own
state, confirmation before money moves, grouped toasts, Buy It Now, pseudonyms, a phone screen, and the
site's own error pages. Each broken item of the issue has a test here that failed before its fix."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from auction import wallet
from auction.auctions import bids
from auction.models import Order
from auction.outbox import Outbox
from tests.browser.conftest import Site, bid, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]
PSEUDONYM = re.compile(r"^Bidder \d{4}$")


def test_portuguese_first_from_accept_language_and_the_switcher_remembers_english(site: Site) -> None:
    seller = site.user("vendedora")
    site.auction(seller, "Câmera antiga", price=12_345_67)
    page = site.page(locale="pt-BR")
    page.goto(site.url)
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    expect(page.locator("h1")).to_have_text("Leilões")
    expect(page.locator('[data-field="bid-count"]')).to_have_text("Sem lances")
    expect(page.locator('[data-field="price"]')).to_have_text("R$ 12.345,67")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Auctions")
    page.goto(f"{site.url}/login")
    expect(page.locator("h1")).to_have_text("Log in")
    page.get_by_role("link", name="Português").click()
    expect(page.locator("h1")).to_have_text("Entrar")
    assert page.url.endswith("/login")


def test_times_are_in_the_browsers_zone(site: Site) -> None:
    seller = site.user("sam")
    auction_id = site.auction(seller, "Tokyo lamp", price=5_000)
    site.user("yuki", funds=10_000)
    site.db.run(bids.place, bids.PlaceBid(auction_id, site.user("kenji", funds=10_000), 5_000), outbox=Outbox())
    page = site.open_as("yuki", f"/auctions/{auction_id}", timezone_id="Asia/Tokyo")
    time = page.locator("[data-bid-history] time").first
    iso = time.get_attribute("datetime")
    expected = page.evaluate(
        "iso => new Date(iso).toLocaleString('en-US', {hour: '2-digit', minute: '2-digit', hourCycle: 'h23',"
        " timeZone: 'Asia/Tokyo'})",
        iso,
    )
    expect(time).to_contain_text(expected)
    # The next page the server renders already uses the zone the browser told it.
    page.reload()
    expect(page.locator("footer")).to_contain_text("Japan Time")  # the zone in words, not its tz name


def test_leader_sees_their_maximum_raises_it_with_a_confirmation_and_no_duplicate_row(site: Site) -> None:
    seller = site.user("sel")
    site.user("alice", funds=50_000)
    site.user("bob", funds=50_000)
    auction_id = site.auction(seller, "Typewriter", price=10_000)
    path = f"/auctions/{auction_id}"
    alice, bob = site.open_as("alice", path), site.open_as("bob", path)

    bid(alice, "100,00")
    expect(alice.locator("[data-leader-box]")).to_contain_text("You are the highest bidder · your maximum R$ 100,00")
    expect(alice.locator("[data-bid-submit]")).to_have_text("Raise your maximum")
    expect(alice.locator("[data-bid-amount]")).to_have_value("")  # nothing more is held without the user typing it
    expect(alice.locator('[data-field="leader"]')).to_have_text("you")
    expect(bob.locator('[data-field="leader"]')).to_have_text(PSEUDONYM)

    alice.fill("[data-bid-amount]", "200,00")
    alice.click("[data-bid-submit]")
    dialog = alice.locator("[data-confirm]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("R$ 200,00")
    expect(dialog).to_contain_text("R$ 100,00 more will be held")
    alice.click("[data-confirm-ok]")
    expect(alice.locator("[data-bid-ok]")).to_contain_text("Your maximum is now R$ 200,00")
    expect(alice.locator('[data-field="your-max"]')).to_have_text("R$ 200,00")
    expect(alice.locator("nav [data-wallet-available]")).to_have_text("R$ 300,00")

    # A raise that is too small: the server's own message, not a generic minimum.
    alice.fill("[data-bid-amount]", "150,00")
    alice.click("[data-bid-submit]")
    alice.click("[data-confirm-ok]")
    expect(alice.locator("[data-bid-error]")).to_contain_text("You are already leading; a new maximum must be at least")
    for page in (alice, bob):
        page.reload()
        expect(page.locator("[data-bid-history] tr")).to_have_count(1)
    expect(bob.locator('[data-field="price"]')).to_have_text("R$ 100,00")
    screenshot(alice, "auction-leader-en")


def test_reserve_notice_buy_now_and_result_update_live(site: Site) -> None:
    seller = site.user("rita")
    site.user("ana", funds=100_000)
    site.user("bia", funds=100_000)
    auction_id = site.auction(seller, "Painting", price=10_000, reserve_price=30_000, buy_now_price=50_000)
    path = f"/auctions/{auction_id}"
    ana, bia = site.open_as("ana", path), site.open_as("bia", path)
    expect(ana.locator('[data-field="reserve"]')).to_have_text("Reserve price not met yet.")
    expect(ana.locator("[data-buy-now]")).to_be_visible()
    bid(ana, "100,00")
    expect(bia.locator('[data-field="reserve"]')).to_have_text("Reserve price not met yet.")
    expect(bia.locator("[data-buy-now]")).to_be_visible()
    bid(bia, "310,00")
    for page in (ana, bia):
        expect(page.locator('[data-field="reserve"]')).to_have_text("Reserve price met.")
        expect(page.locator("[data-buy-now]")).to_be_hidden()
    site.end_in(auction_id, 1)
    expect(bia.locator("[data-result]")).to_contain_text("You won this auction for R$ 310,00", timeout=20_000)
    expect(bia.locator('[data-field="reserve"]')).to_have_text("Reserve price met.")


def test_buy_it_now_ends_the_auction_for_the_buyer_through_hold_and_capture(site: Site) -> None:
    seller = site.user("paula")
    site.user("caio", funds=100_000)
    site.user("duda", funds=100_000)
    auction_id = site.auction(seller, "Guitar", price=10_000, buy_now_price=40_000)
    path = f"/auctions/{auction_id}"
    caio, duda = site.open_as("caio", path, locale="pt-BR"), site.open_as("duda", path)
    expect(caio.locator("[data-buy-now]")).to_have_text("Compre já por R$ 400,00")
    caio.click("[data-buy-now]")
    expect(caio.locator("[data-confirm]")).to_contain_text("R$ 400,00")
    screenshot(caio, "auction-buy-now-confirm-pt")
    caio.click("[data-confirm-ok]")
    expect(caio.locator("[data-result]")).to_contain_text("Você arrematou este lote por R$ 400,00")
    expect(duda.locator('[data-field="status"]')).to_have_text("Finished")
    expect(duda.locator("[data-bid-form]")).to_be_hidden()
    expect(caio.locator("nav [data-wallet-available]")).to_have_text("R$ 600,00")
    # The price waits in the order's escrow until the buyer confirms receipt (auction/orders).
    balance = site.db.transaction(lambda s: wallet.balance(s, seller))
    assert balance.available == 0 and balance.held == 0
    escrowed = site.db.transaction(lambda s: s.scalar(select(Order.escrowed).where(Order.auction_id == auction_id)))
    assert escrowed == 40_000
    assert site.db.transaction(wallet.audit) == []


def test_outbid_banner_follows_the_price_and_losing_to_a_maximum_is_not_green(site: Site) -> None:
    seller = site.user("sylvia")
    site.user("alice", funds=100_000)
    site.user("bob", funds=100_000)
    site.user("carol", funds=100_000)
    auction_id = site.auction(seller, "Lens", price=10_000)
    path = f"/auctions/{auction_id}"
    alice, bob, carol = (site.open_as(name, path) for name in ("alice", "bob", "carol"))
    bid(alice, "100,00")
    bid(bob, "105,00", max_amount="200,00")
    expect(alice.locator("[data-outbid-banner]")).to_be_visible()
    bid(carol, "150,00")
    expect(carol.locator("[data-bid-ok]")).to_contain_text("another bidder's automatic maximum is higher")
    expect(carol.locator("[data-bid-ok]")).to_have_class(re.compile(r"\bwarn\b"))
    expect(carol.locator("[data-bid-ok]")).not_to_have_class(re.compile(r"\bok\b"))
    expect(alice.locator('[data-field="price"]')).to_have_text("R$ 152,50")
    expect(alice.locator("[data-outbid-text]")).to_contain_text("R$ 152,50")


def test_an_outbid_toast_goes_when_the_bidder_leads_again_and_shows_the_latest_price(site: Site) -> None:
    seller = site.user("sasha")
    site.user("alice", funds=100_000)
    site.user("bob", funds=100_000)
    auction_id = site.auction(seller, "Watch", price=10_000)
    path = f"/auctions/{auction_id}"
    alice, bob = site.open_as("alice", path), site.open_as("bob", path)
    toasts = alice.locator("[data-toasts] .toast")
    for mine, theirs in (("100,00", "110,00"), ("120,00", "130,00"), ("140,00", "150,00")):
        bid(alice, mine)
        expect(alice.locator('[data-field="leader"]')).to_have_text("you")
        expect(toasts).to_have_count(0)  # leading again: the last outbid toast is old news
        bid(bob, theirs)
        expect(alice.locator("[data-outbid-text]")).to_contain_text(f"R$ {theirs}")
    expect(toasts).to_have_count(1)
    expect(toasts.first).to_contain_text("R$ 150,00")
    screenshot(alice, "auction-outbid-toast")


def test_keyboard_only_bidding_and_skipping_confirmation_under_a_chosen_amount(site: Site) -> None:
    seller = site.user("kay")
    site.user("keys", funds=100_000)
    auction_id = site.auction(seller, "Keyboard", price=10_000)
    page = site.open_as("keys", f"/auctions/{auction_id}")
    page.locator("body").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('[data-bid-amount]')"):
            break
    else:
        pytest.fail("the bid field is not reachable with Tab")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("100,00")
    page.keyboard.press("Enter")
    expect(page.locator("[data-confirm]")).to_be_visible()
    expect(page.locator("[data-confirm-ok]")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.locator("[data-confirm-skip]")).to_be_focused()
    page.keyboard.type("500,00")
    page.locator("[data-confirm-ok]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-bid-ok]")).to_contain_text("You are the highest bidder at R$ 100,00")
    # Under the chosen R$ 500,00 the next bid needs no confirmation.
    page.fill("[data-bid-amount]", "300,00")
    page.click("[data-bid-submit]")
    expect(page.locator("[data-bid-ok]")).to_contain_text("Your maximum is now R$ 300,00")
    expect(page.locator("[data-confirm]")).to_be_hidden()


def test_watchlist_lists_followed_auctions_ending_soonest_first(site: Site) -> None:
    seller = site.user("wes")
    site.user("wanda", funds=10_000)
    later = site.auction(seller, "Later lot", seconds=7200)
    sooner = site.auction(seller, "Sooner lot", seconds=1800)
    site.auction(seller, "Unwatched lot", seconds=600)
    page = site.open_as("wanda", f"/auctions/{later}")
    expect(page.locator('[data-field="viewing"]')).to_have_text("1 viewing now")
    page.click("[data-watch-button]")
    expect(page.locator("[data-watch-button]")).to_have_text("Stop watching")
    page.goto(f"{site.url}/auctions/{sooner}")
    page.click("[data-watch-button]")
    expect(page.locator("[data-watch-button]")).to_have_text("Stop watching")
    page.get_by_role("link", name="Watchlist").click()
    titles = page.locator("[data-watchlist] .card-title")
    expect(titles).to_have_text(["Sooner lot", "Later lot"])
    screenshot(page, "watchlist-en")


def test_public_history_uses_pseudonyms_and_admins_see_names(site: Site) -> None:
    seller = site.user("sella")
    alice = site.user("alice", funds=100_000)
    bob = site.user("bob", funds=100_000)
    site.user("root", is_admin=True)
    auction_id = site.auction(seller, "Vase", price=10_000)
    site.db.run(bids.place, bids.PlaceBid(auction_id, alice, 10_000), outbox=Outbox())
    site.db.run(bids.place, bids.PlaceBid(auction_id, bob, 12_000), outbox=Outbox())
    anonymous = site.page()
    anonymous.goto(f"{site.url}/auctions/{auction_id}")
    rows = anonymous.locator("[data-bid-history] tr td:first-child")
    expect(rows).to_have_count(2)
    names = rows.all_text_contents()
    assert all(PSEUDONYM.match(name.strip()) for name in names) and len(set(names)) == 2
    assert "alice" not in anonymous.content() and "bob" not in anonymous.content()
    anonymous.reload()
    assert rows.all_text_contents() == names, "pseudonyms are stable"
    as_alice = site.open_as("alice", f"/auctions/{auction_id}")
    expect(as_alice.locator("[data-bid-history] tr").last).to_contain_text("you")
    admin = site.open_as("root", f"/auctions/{auction_id}")
    expect(admin.locator("[data-bid-history]")).to_contain_text("(alice)")
    expect(admin.locator("[data-bid-history]")).to_contain_text("(bob)")


def test_phone_shows_price_countdown_and_bid_controls_on_the_first_screen(site: Site) -> None:
    seller = site.user("pho")
    site.user("phil", funds=100_000)
    auction_id = site.auction(seller, "A rather long title for a small screen, with words", price=10_000)
    page = site.open_as("phil", f"/auctions/{auction_id}", width=390, height=844, locale="pt-BR")
    for selector in ('[data-field="price"]', "[data-main-countdown]", "[data-bid-amount]", "[data-bid-submit]"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, f"{selector} is below the first screen"
    screenshot(page, "auction-phone-pt")


def test_site_error_pages_forms_and_login_details(site: Site) -> None:
    site.user("member", funds=10_000)
    page = site.page(locale="pt-BR")
    page.goto(f"{site.url}/auctions/999999")
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Página não encontrada")
    page.goto(f"{site.url}/wallet")
    assert page.url.endswith("/login?next=/wallet"), page.url
    page.goto(f"{site.url}/register")
    expect(page.locator("input[name=cpf_cnpj]")).to_have_attribute("autocomplete", "off")
    expect(page.locator("form")).to_contain_text("Pelo menos 10 caracteres")
    expect(page.locator("form")).to_contain_text("Asaas")
    page.fill("input[name=username]", "x")
    page.fill("input[name=email]", "not-an-email")
    page.fill("input[name=password]", "short")
    page.fill("input[name=cpf_cnpj]", "123")
    page.click("button[type=submit]")
    for name in ("username", "email", "password", "cpf_cnpj"):
        expect(page.locator(f"[data-error-for={name}]")).to_be_visible()
    expect(page.locator("[data-error-for=password]")).to_have_text("a senha deve ter pelo menos 10 caracteres")
    screenshot(page, "register-errors-pt")

    member = site.page()
    member.goto(f"{site.url}/login")
    member.fill("input[name=username]", "member@example.com")
    member.fill("input[name=password]", "correct horse battery")
    member.click("button[type=submit]")
    expect(member.locator(".who")).to_have_text("member")
    member.goto(f"{site.url}/admin")
    expect(member.locator("h1")).to_have_text("Not allowed")
    expect(member.locator("header.topbar")).to_be_visible()
    member.goto(f"{site.url}/sell")
    member.fill("input[name=title]", "Zero")
    member.fill("textarea[name=description]", "x")
    member.fill("input[name=starting_price]", "10")
    member.fill("input[name=duration]", "0")
    member.click("main button[type=submit]")
    expect(member.locator("[data-error-for=duration]")).to_have_text("at least 1")

    seller = site.user("seller2")
    auction_id = site.auction(seller, "One bid", price=1_000)
    site.db.run(bids.place, bids.PlaceBid(auction_id, site.user("bidder2", funds=10_000), 1_000), outbox=Outbox())
    member.goto(site.url)
    card = member.locator("[data-auction-card]").filter(has_text="One bid")
    expect(card.locator('[data-field="bid-count"]')).to_have_text("1 bid")
    member.goto(f"{site.url}/auctions/{auction_id}")
    expect(member.locator('[data-field="bid-count"]')).to_have_text("1 bid")
    member.fill("[data-bid-amount]", "0")
    member.click("[data-bid-submit]")
    expect(member.locator("[data-bid-error]")).to_contain_text("enter an amount like 150 or 150,00")
    bid(member, "20,00", max_amount="15,00")
    error = member.locator("[data-bid-error]")
    expect(error).to_have_attribute("data-code", "invalid")
    expect(error).to_have_text("Your maximum must not be below your bid.")


def test_admin_confirms_before_finish_now_and_cancel(site: Site) -> None:
    seller = site.user("sell3")
    site.user("boss", is_admin=True)
    bidder = site.user("bidder3", funds=50_000)
    to_finish = site.auction(seller, "Finish me", price=1_000)
    to_cancel = site.auction(seller, "Cancel me", price=1_000)
    site.db.run(bids.place, bids.PlaceBid(to_finish, bidder, 1_000), outbox=Outbox())
    admin = site.open_as("boss", "/admin/auctions")
    finish_row = admin.locator(f"tr[data-auction-id='{to_finish}']")
    cancel_row = admin.locator(f"tr[data-auction-id='{to_cancel}']")
    asked: list[str] = []

    def dismiss(dialog: object) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    admin.once("dialog", dismiss)
    finish_row.get_by_role("button", name="Finish now").click()
    expect(finish_row).to_contain_text("Open")
    assert "Finish “Finish me” now?" in asked[0]
    admin.once("dialog", lambda dialog: dialog.accept())
    finish_row.get_by_role("button", name="Finish now").click()
    expect(admin.locator(f"tr[data-auction-id='{to_finish}']")).to_contain_text("Finished")
    # The reloaded page asks through its script (confirm_forms.js): a click while it is still loading (a loaded
    # machine, seen once) would post before the script could ask.
    admin.wait_for_load_state("load")
    admin.once("dialog", dismiss)
    admin.locator(f"tr[data-auction-id='{to_cancel}']").get_by_role("button", name="Cancel").click()
    expect(cancel_row).to_contain_text("Open")
    assert "Cancel “Cancel me”?" in asked[1]
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.locator(f"tr[data-auction-id='{to_cancel}']").get_by_role("button", name="Cancel").click()
    expect(admin.locator(f"tr[data-auction-id='{to_cancel}']")).to_contain_text("Cancelled")
    assert site.db.transaction(wallet.audit) == []

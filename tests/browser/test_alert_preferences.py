"""The alerts section of the account: the page registers the site's service worker without asking anything,
shows every alert kind with its channels (pt-BR and English, phone-sized too), saves the choices, and asks the
browser's notification permission only when the person presses the button."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auction.models import AlertPreference
from tests.browser.conftest import Site, screenshot

pytestmark = pytest.mark.browser


def worker_script(page: object) -> str:
    """The active service worker's script, once registered (the page registers it on load)."""
    page.wait_for_selector("[data-push][data-worker=registered]", state="attached")
    return page.evaluate("navigator.serviceWorker.ready.then((reg) => reg.active.scriptURL)")


def test_the_alerts_page_registers_the_worker_shows_and_saves_preferences_in_both_languages(site: Site) -> None:
    ana = site.user("ana")
    page = site.page(width=390, height=844, locale="pt-BR")
    site.login(page, "ana")
    page.goto(f"{site.url}/account")
    page.click("[data-account-alerts] a")
    assert page.locator("h1").inner_text() == "Avisos"
    assert worker_script(page) == f"{site.url}/sw.js"
    # Loading the page asked nothing: the permission is still the browser's default.
    assert page.evaluate("Notification.permission") == "default"
    outbid_email = page.locator("input[name='outbid:email']")
    ending_email = page.locator("input[name='ending_soon:email']")
    assert outbid_email.is_checked() and page.locator("input[name='outbid:push']").is_checked()
    assert not ending_email.is_checked() and page.locator("input[name='ending_soon:push']").is_checked()
    assert page.locator("tr[data-alert-kind=security] input[name='security:email']").is_disabled()
    assert "Lance superado em um leilão" in page.locator("tr[data-alert-kind=outbid]").inner_text()
    screenshot(page, "alert-preferences-pt-390")

    outbid_email.uncheck()
    ending_email.check()
    page.click("[data-alert-preferences] button[type=submit]")
    page.wait_for_selector("text=Suas preferências de avisos foram salvas.")
    assert not page.locator("input[name='outbid:email']").is_checked()
    assert page.locator("input[name='ending_soon:email']").is_checked()
    stored = site.db.transaction(
        lambda s: {
            (p.kind, p.channel): p.enabled
            for p in s.scalars(select(AlertPreference).where(AlertPreference.user_id == ana))
        }
    )
    assert stored[("outbid", "email")] is False and stored[("ending_soon", "email")] is True

    english = site.page(locale="en-US")
    # Count the page's permission requests; the person then refuses (a real prompt cannot be answered here).
    english.add_init_script(
        "window.__asked = 0; Notification.requestPermission = async () => { window.__asked += 1; return 'denied'; };"
    )
    site.login(english, "ana")
    english.goto(f"{site.url}/account/alerts")
    assert english.locator("h1").inner_text() == "Alerts"
    assert "Outbid on an auction" in english.locator("tr[data-alert-kind=outbid]").inner_text()
    assert not english.locator("input[name='outbid:email']").is_checked()
    assert worker_script(english) == f"{site.url}/sw.js"
    assert english.evaluate("window.__asked") == 0  # nothing asked on load
    english.click("[data-push-enable]")
    status = english.locator("[data-push-status]")
    status.wait_for(state="visible")
    assert status.inner_text() == "Your browser blocks notifications from this site; allow them in its settings."
    assert english.evaluate("window.__asked") == 1

"""Language and time zone choice on pages: pt_BR by default, Accept-Language, the switcher's cookie, a
browser's zone cookie (a bad one is ignored), and a switcher that never redirects off the site."""

from __future__ import annotations

import pytest

from auction import create_app
from auction.models import Base


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def site_client(app_config: dict):
    app = create_app({**app_config, "DEFAULT_LOCALE": "pt_BR"})
    Base.metadata.create_all(app.extensions["auction.db"].engine)
    yield app.test_client()
    app.extensions["auction.db"].dispose()


def test_portuguese_is_the_default_and_accept_language_or_the_cookie_choose_english(site_client):
    assert "<h1>Leilões</h1>" in site_client.get("/").get_data(as_text=True)
    english = site_client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "<h1>Auctions</h1>" in english
    switched = site_client.get("/language?lang=en&next=/login")
    assert switched.status_code == 303 and switched.headers["Location"].endswith("/login")
    assert "<h1>Log in</h1>" in site_client.get("/login", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_the_switcher_goes_back_only_to_this_site(site_client, target):
    response = site_client.get("/language", query_string={"lang": "en", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_an_unknown_language_or_zone_changes_nothing_and_breaks_nothing(site_client):
    assert "lang=" not in site_client.get("/language?lang=xx").headers.get("Set-Cookie", "")
    site_client.set_cookie("tz", "Not/AZone")
    page = site_client.get("/")
    assert page.status_code == 200 and "America/Sao_Paulo" in page.get_data(as_text=True)
    site_client.set_cookie("tz", "Asia/Tokyo")
    assert "Asia/Tokyo" in site_client.get("/").get_data(as_text=True)


def test_a_missing_page_is_the_sites_own_page_in_portuguese(site_client):
    response = site_client.get("/auctions/424242", headers={"Accept": "text/html"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and 'class="topbar"' in html and "Página não encontrada" in html
    assert "Leilão não encontrado" in html or "leilão não encontrado" in html


@pytest.mark.parametrize("accept", [None, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_an_address_no_route_matches_is_the_sites_page_in_the_readers_language(site_client, accept):
    headers = {"Accept": accept} if accept else {}
    response = site_client.get("/no-such-page", headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and 'class="topbar"' in html and "Página não encontrada" in html
    assert "Not Found" not in html
    site_client.set_cookie("lang", "en")
    english = site_client.get("/no/such/page", headers=headers).get_data(as_text=True)
    assert "Page not found" in english and 'class="topbar"' in english


def test_a_method_the_route_does_not_take_is_the_sites_405_page(site_client):
    response = site_client.get("/wallet/withdraw")
    html = response.get_data(as_text=True)
    assert response.status_code == 405 and "Não é possível aqui" in html and "Method Not Allowed" not in html


def test_machine_endpoints_and_json_clients_keep_the_plain_answer(site_client):
    assert "topbar" not in site_client.get("/payment/no-such-hook").get_data(as_text=True)
    assert "topbar" not in site_client.get("/nothing", headers={"Accept": "application/json"}).get_data(as_text=True)


def test_the_footer_names_the_time_zone_in_words_and_links_the_sites_promises(site_client):
    html = site_client.get("/").get_data(as_text=True)
    footer = html[html.index('<footer class="footer">') :]
    assert "horário de Brasília" in footer and ">America/Sao_Paulo" not in footer and "Sao_Paulo." not in footer
    for path in ("/protecao-ao-comprador", "/termos", "/privacidade", "mailto:ajuda@"):
        assert path in footer
    site_client.set_cookie("lang", "en")
    assert "Dates and times in Brasilia Time." in site_client.get("/login").get_data(as_text=True)
    # Zones CLDR gives no name (a browser set to UTC, as headless ones are) read as their offset.
    site_client.set_cookie("tz", "Etc/UTC")
    assert "Dates and times in UTC." in site_client.get("/login").get_data(as_text=True)
    site_client.set_cookie("tz", "Etc/GMT+3")
    assert "Dates and times in UTC-03:00." in site_client.get("/login").get_data(as_text=True)


def test_buyer_protection_states_this_sites_deadlines_and_fee(app_config):
    app = create_app(app_config | {"ORDER_SHIP_DAYS": 5, "ORDER_RELEASE_DAYS": 10, "PLATFORM_FEE_BPS": 250})
    Base.metadata.create_all(app.extensions["auction.db"].engine)
    client = app.test_client()
    client.set_cookie("lang", "pt_BR")
    page = client.get("/protecao-ao-comprador").get_data(as_text=True)
    assert "O vendedor tem 5 dias para enviar" in page and "automaticamente 10 dias depois do envio" in page
    assert "2,5%" in page and "custódia" in page and "disputa" in page
    app.extensions["auction.db"].dispose()

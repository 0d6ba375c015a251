"""Alert e-mails on the mail outbox, received by a real SMTP server (aiosmtpd): the outbid e-mail, RFC 8058's
one-click unsubscribe without a login, links that lead a logged-out reader through the login and back, and
a watcher in the auction's room who gets no e-mail for what the page already showed."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from auction import accounts, clock, create_app
from auction.alerts import preferences
from auction.auctions import listing
from auction.db import Database
from auction.entrypoints import jobs
from auction.entrypoints.alerts import run_alerts
from auction.models import AlertDelivery, Base, User
from tests.support.auctions import FACTS, fund, new_auction, place
from tests.support.smtp import MailCatcher, links, parts
from tests.support.sockets import PASSWORD, SocketUser

pytestmark = pytest.mark.usefixtures("fast_passwords")
SITE = "http://leilao.test"


@pytest.fixture
def smtp_app(app_config, smtp_server):
    application = create_app({**app_config, **smtp_server.settings(), "PUBLIC_URL": SITE})
    Base.metadata.create_all(application.extensions["auction.db"].engine)
    yield application
    application.extensions["auction.db"].dispose()
    clock.reset()


def register(db: Database, name: str, *, verified: bool = True, locale: str | None = None) -> int:
    """An account whose owner opened the verification link (alert e-mails go only to proven addresses)."""

    def create(session) -> int:
        user = accounts.register(
            session, username=name, email=f"{name}@example.com", password=PASSWORD, cpf_cnpj="52998224725"
        )
        row = session.get(User, user.id)
        row.email_verified_at = clock.now() if verified else None
        row.locale = locale
        return user.id

    return db.transaction(create)


@pytest.fixture
def outbid(smtp_app):
    """bob outbids ana (who reads the site in `locale`); the alerts round and the mail round run."""
    db = smtp_app.extensions["auction.db"]
    seller, ana, bob = (register(db, name) for name in ("sol", "ana", "bob"))
    for user in (ana, bob):
        fund(db, user, 1_000_000)
    auction_id = new_auction(db, seller, title="Câmera antiga", starting_price=1_000)

    def run(locale: str | None = "pt_BR", price: int = 1_500) -> None:
        if locale is not None:
            db.transaction(preferences.save, ana, {}, locale=locale)
        place(db, auction_id, ana, price - 500)
        place(db, auction_id, bob, price)
        with smtp_app.app_context():
            run_alerts(smtp_app)
            jobs.run_mail_round(smtp_app)

    return {"db": db, "ana": ana, "bob": bob, "auction": auction_id, "run": run}


def path_of(url: str) -> str:
    parts_ = urlsplit(url)
    return parts_.path + (f"?{parts_.query}" if parts_.query else "")


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_the_outbid_email_arrives_with_one_click_unsubscribe_and_a_link_to_the_auction(outbid, smtp_server):
    outbid["run"]()
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ana@example.com"
    assert message["Subject"] == "Seu lance foi superado"
    text, html = (part.replace("\u00a0", " ") for part in parts(message))  # amounts keep R$ and digits together
    assert "R$ 15,00" in text and "Câmera antiga" in text and "Câmera antiga" in html
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{SITE}/alerts/unsubscribe/") and unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = links(message)
    assert f"{SITE}/auctions/{outbid['auction']}" in found
    assert unsubscribe[1:-1] in found and f"{SITE}/account/alerts" in found


@pytest.mark.parametrize("backend", ["sqlite"])
def test_english_readers_get_english_alerts_in_the_accounts_language_until_they_choose(outbid, smtp_server):
    outbid["db"].transaction(lambda s: setattr(s.get(User, outbid["ana"]), "locale", "en"))
    outbid["run"](locale=None)
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "You were outbid"
    assert "You were outbid on “Câmera antiga”: the price is now R$\u00a015,00." in parts(message)[0]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_alert_email_goes_to_an_address_its_owner_has_not_proven(outbid, smtp_server):
    outbid["db"].transaction(lambda s: setattr(s.get(User, outbid["ana"]), "email_verified_at", None))
    outbid["run"]()
    assert smtp_server.messages == []
    # Not even planned: an e-mail that cannot go costs the round no throttle read and no row.
    assert _deliveries(outbid, "email") == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_one_click_post_turns_that_alert_off_without_a_login(outbid, smtp_server, smtp_app):
    outbid["run"]()
    [message] = smtp_server.wait_for(1)
    client = smtp_app.test_client()  # no cookie, no CSRF token: what a mail client sends (RFC 8058)
    response = client.post(path_of(message["List-Unsubscribe"][1:-1]), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    prefs = outbid["db"].transaction(preferences.of, outbid["ana"])
    assert prefs.choices == {("outbid", "email"): False}
    outbid["run"](price=3_000)
    assert [d.status for d in _deliveries(outbid, "email")] == ["sent"]  # only the first one
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_opened_unsubscribe_link_asks_first_and_a_forged_one_changes_nothing(outbid, smtp_server, smtp_app):
    outbid["run"]()
    [message] = smtp_server.wait_for(1)
    client = smtp_app.test_client()
    link = path_of(message["List-Unsubscribe"][1:-1])
    page = client.get(link, headers={"Accept-Language": "pt-BR"})
    assert page.status_code == 200 and "Parar de receber “Lance superado em um leilão” por e-mail?" in page.text
    assert outbid["db"].transaction(preferences.of, outbid["ana"]).choices == {}
    forged = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    assert client.post(forged).status_code == 400
    assert outbid["db"].transaction(preferences.of, outbid["ana"]).choices == {}
    done = client.post(link, headers={"Accept-Language": "pt-BR"})
    assert (
        done.status_code == 200
        and "Pronto: você não receberá mais “Lance superado em um leilão” por e-mail." in done.text
    )
    assert outbid["db"].transaction(preferences.of, outbid["ana"]).choices == {("outbid", "email"): False}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_alert_link_leads_a_logged_out_reader_through_the_login_and_back(outbid, smtp_server, smtp_app):
    outbid["run"]()
    [message] = smtp_server.wait_for(1)
    link = path_of(next(u for u in links(message) if "/account/alerts" in u))
    client = smtp_app.test_client()
    response = client.get(link)
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"
    page = client.get(response.location).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    back = client.post(response.location, data={"username": "ana", "password": PASSWORD, "csrf_token": token})
    assert back.status_code == 302 and back.location == link
    assert client.get(link).status_code == 200


def _deliveries(outbid, channel: str) -> list[AlertDelivery]:
    return list(
        outbid["db"].transaction(
            lambda s: s.scalars(
                select(AlertDelivery).where(AlertDelivery.user_id == outbid["ana"], AlertDelivery.channel == channel)
            ).all()
        )
    )


# -- live: the jobs round in the real server sees who is in the auction's room --------------------------------


@pytest.fixture
def live_smtp() -> Iterator[MailCatcher]:
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


@pytest.mark.live
@pytest.mark.parametrize("backend", ["mariadb"])
def test_a_watcher_in_the_room_gets_no_duplicate_email_and_a_bidder_away_gets_one(
    live_server_factory, db_url, live_smtp
):
    database = Database(db_url, pool_size=2)
    Base.metadata.create_all(database.engine)
    ids = {name: register(database, name) for name in ("sol", "ana", "carl", "bob")}
    for name in ("ana", "carl", "bob"):
        fund(database, ids[name], 100_000)
    command = listing.NewAuction(
        seller_id=ids["sol"],
        ends_at=clock.now() + timedelta(hours=1),
        title="Lote ao vivo",
        description="",
        starting_price=1_000,
        min_increment=None,
        reserve_price=None,
        facts=FACTS,
    )
    first = database.run(lambda uow: listing.create(uow, command).id)
    second = database.run(lambda uow: listing.create(uow, command).id)
    env = {key: str(value) for key, value in live_smtp.settings().items()}
    server = live_server_factory(db_url, ALERTS_INTERVAL="0.1", MAIL_SEND_INTERVAL="0.1", **env)
    ana, carl, bob = (SocketUser(server.url, name) for name in ("ana", "carl", "bob"))
    try:
        # ana watches the first auction live; carl bid on the second and left the page.
        assert ana.call("join_auction", {"auction_id": first})["ok"]
        assert ana.call("bid", {"auction_id": first, "amount": 1_000})["leading"]
        assert carl.call("bid", {"auction_id": second, "amount": 1_000})["leading"]
        assert bob.call("bid", {"auction_id": first, "amount": 1_100})["ok"]
        assert bob.call("bid", {"auction_id": second, "amount": 1_100})["ok"]
        assert ana.wait_for("outbid")["amount"] == 1_100
        [message] = live_smtp.wait_for(1)
        assert message["To"] == "carl@example.com"
        deadline = time.monotonic() + 10
        while True:
            statuses = database.transaction(
                lambda s: s.execute(
                    select(AlertDelivery.user_id, AlertDelivery.status, AlertDelivery.note).where(
                        AlertDelivery.channel == "email"
                    )
                ).all()
            )
            if len(statuses) == 2 and all(status != "pending" for _u, status, _n in statuses):
                break
            assert time.monotonic() < deadline, statuses
            time.sleep(0.05)
        assert sorted(statuses) == sorted([(ids["ana"], "skipped", "watching_live"), (ids["carl"], "sent", None)])
        assert len(live_smtp.messages) == 1
    finally:
        for user in (ana, carl, bob):
            user.close()
        database.dispose()

"""E-mail confirmation, password reset and the step-up before money leaves, through the real pages, with the
e-mail read from a real SMTP server (aiosmtpd) and its links followed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from auction import clock
from auction.models import Consent, LoginSession, User, Withdrawal
from tests.support.auctions import fund
from tests.support.smtp import links, parts
from tests.test_accounts import csrf_token

PASSWORD = "a long passphrase"
pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def site(mailing_app):
    return mailing_app


def path_of(message, fragment: str) -> str:
    """The site-relative path of the message's link that contains `fragment`."""
    [link] = [url for url in links(message) if fragment in url]
    return link.removeprefix("http://leilao.test")


def register(client, **overrides):
    form = {
        "username": "maria",
        "email": "maria@example.com",
        "password": PASSWORD,
        "cpf_cnpj": "529.982.247-25",
        "accept": "y",
        "csrf_token": csrf_token(client, "/register"),
    }
    return client.post("/register", data={**form, **overrides})


def user(db, username="maria") -> User:
    return db.transaction(lambda s: s.scalars(select(User).where(User.username == username)).one())


def test_registration_needs_consent_and_records_the_versions_accepted(site):
    client = site.test_client()
    db = site.extensions["auction.db"]
    refused = register(client, accept="")
    assert refused.status_code == 400 and "You need to accept them" in refused.get_data(as_text=True)
    assert register(client).status_code == 302
    consents = db.transaction(lambda s: {(c.document, c.version) for c in s.scalars(select(Consent))})
    assert consents == {("terms", "2026-12-07"), ("privacy", "2026-12-07")}
    assert user(db).locale == "en"


def test_the_confirmation_link_from_the_e_mail_confirms_once(site):
    client = site.test_client()
    db = site.extensions["auction.db"]
    register(client)
    [message] = site.mail()
    assert message["To"] == "maria@example.com" and "Confirm your e-mail" in message["Subject"]
    assert user(db).email_verified_at is None
    path = path_of(message, "/verify-email/")
    assert client.get(path).status_code == 302
    assert user(db).email_verified_at is not None
    again = client.get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    tampered = client.get(path[:-3] + "abc")
    assert tampered.status_code == 400 and "not valid" in tampered.get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_expired_confirmation_link_changes_nothing(site):
    client = site.test_client()
    db = site.extensions["auction.db"]
    register(client)
    [message] = site.mail()
    clock.advance(timedelta(hours=49))
    page = client.get(path_of(message, "/verify-email/"))
    assert page.status_code == 400 and "expired" in page.get_data(as_text=True)
    assert user(db).email_verified_at is None


def withdraw(client, password=PASSWORD, amount="20,00"):
    form = {"amount": amount, "pix_key": "529.982.247-25", "pix_key_type": "CPF", "password": password}
    # From the wallet page, as a browser sends it: a refusal goes back there with its message.
    return client.post(
        "/wallet/withdraw",
        data={**form, "csrf_token": csrf_token(client, "/wallet")},
        headers={"Referer": "http://localhost/wallet"},
    )


def withdrawals(db) -> int:
    return db.transaction(lambda s: s.scalar(select(func.count(Withdrawal.id))))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_unconfirmed_account_may_bid_but_not_withdraw_and_the_wallet_page_says_so(site):
    client = site.test_client()
    db = site.extensions["auction.db"]
    register(client)
    fund(db, user(db).id, 10_000)
    assert "Confirm your e-mail address before withdrawing" in client.get("/wallet").get_data(as_text=True)
    refused = withdraw(client)
    assert refused.status_code == 303
    assert withdrawals(db) == 0


def test_withdrawing_asks_the_password_again_and_mails_a_notice(site):
    client = site.test_client()
    db = site.extensions["auction.db"]
    register(client)
    client.get(path_of(site.mail()[0], "/verify-email/"))
    fund(db, user(db).id, 10_000)
    withdraw(client, password="not the password")
    assert withdrawals(db) == 0
    assert "is not right" in client.get("/wallet").get_data(as_text=True)
    withdraw(client)
    assert withdrawals(db) == 1
    [notice] = site.mail()
    assert "Withdrawal of R$ 20,00" in notice["Subject"] and "529…725" in parts(notice)[0]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_forgot_password_answers_the_same_for_any_address_and_mails_only_accounts(site):
    client = site.test_client()
    register(client)
    site.mail()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    answers = []
    for address in ("nobody@example.com", "MARIA@example.com"):
        page = client.post(
            "/forgot-password", data={"email": address, "csrf_token": csrf_token(client, "/forgot-password")}
        )
        answers.append((page.status_code, re.search(r"<main.*</main>", page.get_data(as_text=True), re.S).group(0)))
    assert answers[0] == answers[1]
    [message] = site.mail()
    assert message["To"] == "maria@example.com" and "Reset your password" in message["Subject"]


def test_a_reset_link_sets_a_new_password_once_and_logs_every_session_out(site):
    db = site.extensions["auction.db"]
    phone, laptop = site.test_client(), site.test_client()
    register(phone)
    site.mail()
    laptop.post("/login", data={"username": "maria", "password": PASSWORD, "csrf_token": csrf_token(laptop, "/login")})
    laptop.post(
        "/forgot-password", data={"email": "maria@example.com", "csrf_token": csrf_token(laptop, "/forgot-password")}
    )
    new_device, message = site.mail()  # the laptop is a device this account never used
    assert "New login" in new_device["Subject"]
    path = path_of(message, "/reset-password/")
    weak = laptop.post(path, data={"password": "short", "csrf_token": csrf_token(laptop, path)})
    assert weak.status_code == 400
    done = laptop.post(path, data={"password": "another long passphrase", "csrf_token": csrf_token(laptop, path)})
    assert done.status_code == 303
    assert db.transaction(lambda s: s.scalar(select(func.count()).where(LoginSession.revoked_at.is_(None)))) == 0
    assert phone.get("/wallet").status_code == 302  # logged out
    [notice] = site.mail()
    assert "was changed" in notice["Subject"]
    assert laptop.get(path).status_code == 400  # used
    login = laptop.post(
        "/login",
        data={"username": "maria", "password": "another long passphrase", "csrf_token": csrf_token(laptop, "/login")},
    )
    assert login.status_code == 302


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_reset_link_expires_after_30_minutes(site):
    client = site.test_client()
    register(client)
    site.mail()
    client.post(
        "/forgot-password", data={"email": "maria@example.com", "csrf_token": csrf_token(client, "/forgot-password")}
    )
    [message] = site.mail()
    clock.advance(timedelta(minutes=31))
    page = client.get(path_of(message, "/reset-password/"))
    assert page.status_code == 400 and "expired" in page.get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_reset_requests_are_rate_limited_per_address(site):
    site.extensions["auction.ratelimit"].enabled = True
    client = site.test_client()
    statuses = [
        client.post(
            "/forgot-password", data={"email": "x@example.com", "csrf_token": csrf_token(client, "/forgot-password")}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_after_a_password_change_withdrawals_wait_with_the_reason_shown(site):
    client = site.test_client()
    db = site.extensions["auction.db"]
    register(client)
    client.get(path_of(site.mail()[0], "/verify-email/"))
    fund(db, user(db).id, 10_000)
    wrong = {"current_password": "not it", "password": "a new long passphrase"}
    refused = client.post("/account/password", data={**wrong, "csrf_token": csrf_token(client, "/account")})
    assert refused.status_code == 400 and "the current password is not right" in refused.get_data(as_text=True)
    assert "Withdrawals are paused" not in client.get("/wallet").get_data(as_text=True)
    client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "a new long passphrase",
            "csrf_token": csrf_token(client, "/account"),
        },
    )
    assert "Withdrawals are paused for 24 hours" in client.get("/wallet").get_data(as_text=True)
    withdraw(client, password="a new long passphrase")
    assert withdrawals(db) == 0
    clock.advance(timedelta(hours=25))
    withdraw(client, password="a new long passphrase")
    assert withdrawals(db) == 1

"""The account page (password, e-mail with "it wasn't me", sessions), new-device notices, lock-out, two-factor
login and the LGPD pages, through the real pages with the e-mail read from a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from auction import clock, create_app
from auction.models import Base, LoginSession, OutgoingMail, User
from tests.support.auctions import fund
from tests.test_account_lifecycle import PASSWORD, path_of, register, user, withdraw, withdrawals
from tests.test_accounts import csrf_token

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def site(mailing_app):
    return mailing_app


def login(client, password=PASSWORD, username="maria"):
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client, "/login")}
    )


def confirmed(site):
    """maria, registered and confirmed, with her first client."""
    client = site.test_client()
    register(client)
    client.get(path_of(site.mail()[0], "/verify-email/"))
    return client


def test_changing_the_e_mail_is_confirmed_at_the_new_address_and_undone_from_the_old(site):
    db = site.extensions["auction.db"]
    client = confirmed(site)
    form = {
        "email": "maria.nova@example.com",
        "current_password": "wrong",
        "csrf_token": csrf_token(client, "/account"),
    }
    assert client.post("/account/email", data=form).status_code == 400
    assert site.mail() == []
    client.post("/account/email", data={**form, "current_password": PASSWORD})
    [confirm] = site.mail()
    assert confirm["To"] == "maria.nova@example.com"
    assert user(db).email == "maria@example.com"  # nothing changes before the new address answers
    client.get(path_of(confirm, "/account/email/confirm/"))
    assert user(db).email == "maria.nova@example.com"
    [notice] = site.mail()
    assert notice["To"] == "maria@example.com" and "was changed" in notice["Subject"]
    not_me = path_of(notice, "/account/email/not-me/")
    stranger = site.test_client()
    assert stranger.get(not_me).status_code == 200  # a page with one button: opening the link changes nothing
    assert user(db).email == "maria.nova@example.com"
    stranger.post(not_me, data={"csrf_token": csrf_token(stranger, not_me)})
    assert user(db).email == "maria@example.com"
    assert client.get("/wallet").status_code == 302  # everyone was logged out
    assert stranger.get(not_me).status_code == 400  # used


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_account_lists_sessions_and_logs_out_everywhere_else_and_a_new_device_gets_a_notice(site):
    db = site.extensions["auction.db"]
    phone = confirmed(site)
    laptop = site.test_client()
    login(laptop)
    [notice] = site.mail()
    assert "New login" in notice["Subject"] and path_of(notice, "/account") == "/account"
    login(laptop)
    assert site.mail() == []  # a known device: no notice
    page = phone.get("/account").get_data(as_text=True)
    assert page.count("data-session-id") == 3
    phone.post("/account/sessions/end-others", data={"csrf_token": csrf_token(phone, "/account")})
    assert laptop.get("/wallet").status_code == 302
    assert phone.get("/wallet").status_code == 200
    live = db.transaction(lambda s: s.scalar(select(func.count()).where(LoginSession.revoked_at.is_(None))))
    assert live == 1


def test_repeated_failures_lock_the_account_with_a_notice_and_the_same_words(site):
    db = site.extensions["auction.db"]
    confirmed(site)
    client = site.test_client()
    answers = {
        login(client, password=f"guess {n}").get_data(as_text=True).count("Could not log you in") for n in range(10)
    }
    assert answers == {1}
    [notice] = site.mail()
    assert "locked" in notice["Subject"]
    refused = login(client)  # the right password, while locked
    assert refused.status_code == 400 and "Could not log you in" in refused.get_data(as_text=True)
    clock.advance(timedelta(minutes=16))
    assert login(client).status_code == 302
    assert user(db).failed_logins == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_guessing_the_withdrawal_password_locks_the_account_once_and_then_refuses_the_right_one(site):
    db = site.extensions["auction.db"]
    client = confirmed(site)
    fund(db, user(db).id, 10_000)
    site.mail()  # the welcome and confirmation mail are not what this test reads
    for n in range(25):
        withdraw(client, password=f"guess {n}")
    [notice] = site.mail()  # one lock, one notice: guesses while locked neither lock again nor mail again
    assert "locked" in notice["Subject"]
    withdraw(client)  # the right password, while locked
    assert withdrawals(db) == 0
    clock.advance(timedelta(minutes=16))
    withdraw(client)
    assert withdrawals(db) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_two_factor_login_with_the_app_or_a_recovery_code_once_and_step_up_with_the_code(site):
    db = site.extensions["auction.db"]
    client = confirmed(site)
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = page.split("data-totp-secret>", 1)[1].split("<", 1)[0]
    token = csrf_token(client, "/account/2fa")
    assert client.post("/account/2fa", data={"code": "000000", "csrf_token": token}).status_code == 400
    shown = client.post("/account/2fa", data={"code": pyotp.TOTP(secret).at(clock.now()), "csrf_token": token})
    codes = [c.split("</code>")[0] for c in shown.get_data(as_text=True).split("<li><code>")[1:]]
    assert len(codes) == 10
    assert "Two-factor login changed" in site.mail()[0]["Subject"]
    other = site.test_client()
    assert login(other).headers["Location"].startswith("/login/code")
    assert other.get("/wallet").status_code == 302  # the password alone logs nobody in
    code_form = lambda value: {"code": value, "csrf_token": csrf_token(other, "/login/code")}  # noqa: E731
    assert other.post("/login/code", data=code_form("123456")).status_code == 400
    used = pyotp.TOTP(secret).at(clock.now())  # the code that turned it on: never accepted twice
    assert other.post("/login/code", data=code_form(used)).status_code == 400
    assert other.post("/login/code", data=code_form(codes[0])).status_code == 302
    assert other.get("/wallet").status_code == 200
    again = site.test_client()
    login(again)
    assert (
        again.post("/login/code", data={"code": codes[0], "csrf_token": csrf_token(again, "/login/code")}).status_code
        == 400
    )
    # Withdrawals ask for the code, not the password, and wait after the change.
    fund(db, user(db).id, 10_000)
    clock.advance(timedelta(hours=25))
    withdraw(client, password=PASSWORD)
    assert withdrawals(db) == 0
    withdraw(client, password=pyotp.TOTP(secret).at(clock.now()))
    assert withdrawals(db) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_in_production_an_admin_reaches_no_admin_page_without_two_factor_login(app_config, make_user):
    app = create_app({**app_config, "AUCTION_ENV": "production", "SESSION_COOKIE_SECURE": False})
    Base.metadata.create_all(app.extensions["auction.db"].engine)
    with app.app_context():
        make_user("root", is_admin=True)
    client = app.test_client()
    login(client, password="correct horse battery", username="root")
    answer = client.get("/admin/")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/2fa")
    secret = client.get("/account/2fa").get_data(as_text=True).split("data-totp-secret>", 1)[1].split("<", 1)[0]
    client.post(
        "/account/2fa",
        data={"code": pyotp.TOTP(secret).at(clock.now()), "csrf_token": csrf_token(client, "/account/2fa")},
    )
    assert client.get("/admin/").status_code == 200
    app.extensions["auction.db"].dispose()


def test_my_data_downloads_everything_and_deletion_waits_for_the_money_then_anonymises(site):
    db = site.extensions["auction.db"]
    client = confirmed(site)
    fund(db, user(db).id, 5_000)
    data = json.loads(client.get("/account/data.json").get_data(as_text=True))
    assert data["profile"]["email"] == "maria@example.com" and data["wallet"]["available_cents"] == 5_000
    assert {"bids", "payments", "orders", "withdrawals", "notifications", "consents"} <= set(data)
    token = csrf_token(client, "/account/data")
    refused = client.post("/account/delete", data={"password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 409 and "Your wallet still has money" in refused.get_data(as_text=True)
    withdraw(client, amount="50,00")
    assert withdrawals(db) == 1
    refused = client.post("/account/delete", data={"password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 409 and "still on its way" in refused.get_data(as_text=True)
    # An account with nothing left goes: anonymised, the records the law needs kept.
    joana = site.test_client()
    register(joana, username="joana", email="joana@example.com", cpf_cnpj="111.444.777-35")
    site.mail()
    uid = user(db, "joana").id
    gone = joana.post("/account/delete", data={"password": PASSWORD, "csrf_token": csrf_token(joana, "/account/data")})
    assert gone.status_code == 303
    row = db.transaction(lambda s: s.get(User, uid))
    assert row.email == f"removed-{uid}@invalid" and row.cpf_cnpj == "11144477735" and row.deleted_at is not None
    assert (
        db.transaction(lambda s: s.scalar(select(func.count()).where(OutgoingMail.to_address == "joana@example.com")))
        == 0
    )
    assert login(site.test_client(), username="joana").status_code == 400

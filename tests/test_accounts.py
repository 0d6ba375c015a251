"""Register, log in, log out and the invitation token through the real HTTP forms (CSRF on)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from auction.models import LoginSession, User, Wallet


def csrf_token(client, path: str, **request_options) -> str:
    page = client.get(path, **request_options).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def register(client, **overrides):
    form = {
        "username": "maria",
        "email": "maria@example.com",
        "password": "a long passphrase",
        "cpf_cnpj": "529.982.247-25",
        "accept": "y",
        "csrf_token": csrf_token(client, "/register"),
    }
    form.update(overrides)
    return client.post("/register", data=form)


@pytest.fixture
def fast_passwords() -> None:
    """Not here: these tests are about accounts and passwords, so they hash with the real scrypt."""


def user_count(db) -> int:
    return db.transaction(lambda s: s.scalar(select(func.count(User.id))))


def test_register_creates_user_with_wallet_and_logs_in(client, db):
    response = register(client)
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "maria" in home and "Log out" in home
    user = db.transaction(lambda s: s.scalars(select(User)).one())
    assert user.cpf_cnpj == "52998224725"
    assert user.password_hash.startswith("scrypt:") and "a long passphrase" not in user.password_hash
    assert db.transaction(lambda s: s.scalar(select(Wallet.available).where(Wallet.user_id == user.id))) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "email"),
        ("password", "short", "at least 10 characters"),
        ("cpf_cnpj", "123", "CPF must have 11 digits"),
        ("cpf_cnpj", "52998224726", "not valid"),
        ("username", "x", "3-40 letters"),
    ],
)
def test_bad_registration_shows_error_and_writes_nothing(client, db, field, value, message):
    response = register(client, **{field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert user_count(db) == 0


def test_duplicate_username_and_email_are_refused(client, db):
    register(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    taken_name = register(client, email="other@example.com", username="MARIA")
    assert taken_name.status_code == 400 and "this username is taken" in taken_name.get_data(as_text=True)
    taken_email = register(client, username="other")
    assert taken_email.status_code == 400 and "already exists" in taken_email.get_data(as_text=True)
    assert user_count(db) == 1


def test_missing_csrf_token_is_refused_and_writes_nothing(client, db):
    response = register(client, csrf_token="")
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert user_count(db) == 0


def test_invitation_token_required_when_configured(app_config, db):
    from auction import create_app

    app = create_app({**app_config, "REGISTRATION_TOKEN": "let-me-in"})
    client = app.test_client()
    wrong = register(client, invitation="guess")
    assert wrong.status_code == 400 and "invitation token" in wrong.get_data(as_text=True)
    assert user_count(db) == 0
    right = register(client, invitation="let-me-in")
    assert right.status_code == 302
    assert user_count(db) == 1
    app.extensions["auction.db"].dispose()


def test_a_post_refused_by_csrf_elsewhere_gets_the_error_page_in_the_readers_language(client):
    answer = client.post("/logout", data={"csrf_token": "forged"}, headers={"Accept-Language": "pt-BR"})
    assert answer.status_code == 400
    assert "O formulário expirou ou não foi enviado deste site" in answer.get_data(as_text=True)


def test_login_logout_and_session_is_invalidated(client, db, make_user):
    make_user("joao", password="joao's passphrase")
    bad = client.post(
        "/login", data={"username": "joao", "password": "nope", "csrf_token": csrf_token(client, "/login")}
    )
    assert bad.status_code == 400 and "Could not log you in" in bad.get_data(as_text=True)

    ok = client.post(
        "/login",
        data={"username": "Joao", "password": "joao's passphrase", "csrf_token": csrf_token(client, "/login")},
    )
    assert ok.status_code == 302
    stolen_cookie = client.get_cookie("auction_session").value
    assert "joao" in client.get("/").get_data(as_text=True)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert "Log in" in client.get("/").get_data(as_text=True)
    # Replaying the cookie from before logout no longer logs anyone in.
    client.set_cookie("auction_session", stolen_cookie)
    assert "joao" not in client.get("/").get_data(as_text=True)
    assert db.transaction(lambda s: s.scalar(select(func.count()).where(LoginSession.revoked_at.is_not(None)))) == 1


def test_login_issues_a_new_session_token(client, make_user):
    make_user("ana", password="ana's passphrase")
    tokens = []
    for _ in range(2):
        client.post(
            "/login",
            data={"username": "ana", "password": "ana's passphrase", "csrf_token": csrf_token(client, "/login")},
        )
        with client.session_transaction() as session:
            tokens.append(session["sid"])
    assert tokens[0] != tokens[1]


def test_login_attempts_are_rate_limited(app_config, make_user):
    from auction import create_app

    app = create_app({**app_config, "RATE_LIMITS_ENABLED": True})
    client = app.test_client()
    make_user("rita", password="rita's passphrase")
    answers = [
        client.post(
            "/login", data={"username": "rita", "password": "wrong", "csrf_token": csrf_token(client, "/login")}
        ).get_data(as_text=True)
        for _ in range(10)
    ]
    assert "too many login attempts" in answers[-1]
    assert "too many login attempts" not in answers[0]
    app.extensions["auction.db"].dispose()


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_a_post_refused_by_csrf_behind_tls_shows_the_form_and_neither_logs_in_nor_registers(
    app_config, db, make_user, path
):
    """Behind TLS a post without Referer fails Flask-WTF's strict check; the form comes back, nothing is done."""
    from auction import create_app

    make_user("rita", password="rita's passphrase")
    app = create_app({**app_config, "WTF_CSRF_SSL_STRICT": True})
    client = app.test_client()
    https = {"base_url": "https://localhost"}
    token = csrf_token(client, path, **https)
    form = {"username": "rita", "password": "rita's passphrase", "csrf_token": token}
    if path == "/register":
        form = {**form, "username": "maria", "email": "maria@example.com", "cpf_cnpj": "52998224725"}
    response = client.post(path, data=form, **https)  # the test client sends no Referer
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The form expired or was not sent from this site" in page and 'name="username"' in page
    with client.session_transaction(**https) as session:
        assert "sid" not in session
    assert db.transaction(lambda s: s.scalar(select(func.count(LoginSession.id)))) == 0
    assert user_count(db) == 1
    app.extensions["auction.db"].dispose()

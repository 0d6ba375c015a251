"""The account and mail pages in pt-BR carry no English: every text the English page shows is translated."""

from __future__ import annotations

import re

import pytest

from tests.test_accounts import csrf_token

pytestmark = [pytest.mark.usefixtures("fast_passwords"), pytest.mark.parametrize("backend", ["sqlite"])]
PAGES = [
    "/login",
    "/register",
    "/forgot-password",
    "/account",
    "/account/2fa",
    "/account/data",
    "/termos",
    "/privacidade",
    "/dev/mail/",
    "/admin/mail",
    "/wallet",
]
# The same in both languages: names, codes and words Portuguese borrowed.
EMAIL = re.compile(r"\S+@\S+")
SAME = {
    "Leilão",
    "E-mail",
    "PIX",
    "CPF",
    "CNPJ",
    "Message-ID",
    "root",
    "JSON",
    "Asaas",
    "Português",
    "English",
    "Google Authenticator, Authy, FreeOTP…",
    "Boleto",
}


def texts(html: str) -> set[str]:
    """The visible text chunks of a page's <main> (no scripts, no attributes)."""
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return {chunk.strip() for chunk in re.split(r"<[^>]+>", main) if re.search(r"[A-Za-z]{3}", chunk)}


def test_no_english_is_left_on_the_account_pages_in_portuguese(app, db, make_user):
    make_user("root", is_admin=True)
    client = app.test_client()
    client.post(
        "/login",
        data={"username": "root", "password": "correct horse battery", "csrf_token": csrf_token(client, "/login")},
    )
    for path in PAGES:
        client.set_cookie("lang", "en")
        english = texts(client.get(path).get_data(as_text=True))
        client.set_cookie("lang", "pt_BR")
        portuguese = client.get(path).get_data(as_text=True)
        left = {t for t in english & texts(portuguese) if t not in SAME and re.search(r"[a-z]{3}", EMAIL.sub("", t))}
        assert left == set(), f"English on {path} in pt-BR"
    # Without an SMTP server (development) the account page points to where its e-mail went.
    assert 'href="/dev/mail/"' in client.get("/account").get_data(as_text=True)

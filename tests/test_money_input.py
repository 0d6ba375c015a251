"""Typed money: one server-side reading (auction.money.parse_brl) for every money field, the same as the pages'
script's (static/js/live.js parseReais, run here in node), refusing what only Python's number parsers read."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from auction import accounts
from auction.models import Auction, Payment, PaymentLink, User, Withdrawal
from auction.money import MAX_CENTS, InvalidAmount, format_brl, parse_brl
from tests.conftest import IN_CI
from tests.support.auctions import fund
from tests.support.server import ROOT
from tests.test_accounts import csrf_token

NODE = shutil.which("node")
# What Python's Decimal/int() read and a person writing Brazilian money does not mean.
NOT_AMOUNTS = [
    "1e3",
    "1E3",
    "1_000",
    "+10",
    "\u0661\u0660\u0660\u0660",
    "\u06f1\u06f0\u06f0\u06f0",
    "\uff11\uff10\uff10\uff10",
    "\u0967\u0966\u0966\u0966",
    "Infinity",
    "NaN",
    "0x10",
    "10,,5",
    "1.5e2",
]


class PageParser:
    """The page's own parseReais, taken from static/js/live.js and run by one node process."""

    def __init__(self) -> None:
        source = (ROOT / "static/js/live.js").read_text()
        function = re.search(r"export function parseReais\(text\) \{.*?\n\}\n", source, re.S)
        assert function, "parseReais is no longer in static/js/live.js"
        program = function.group(0).removeprefix("export ") + (
            "require('readline').createInterface({input: process.stdin})"
            ".on('line', (line) => console.log(JSON.stringify(parseReais(JSON.parse(line)))));"
        )
        self.node = subprocess.Popen(
            [NODE, "-e", program], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
        )

    def __call__(self, text: str) -> int | None:
        assert self.node.stdin and self.node.stdout
        self.node.stdin.write(json.dumps(text) + "\n")
        self.node.stdin.flush()
        return json.loads(self.node.stdout.readline())

    def close(self) -> None:
        self.node.terminate()
        self.node.wait()


@pytest.fixture(scope="module")
def page_parser() -> Iterator[PageParser]:
    if NODE is None:
        (pytest.fail if IN_CI else pytest.skip)("node is not installed (Debian's nodejs)")
    parser = PageParser()
    yield parser
    parser.close()


def server_reading(text: str) -> int | None:
    try:
        return parse_brl(text)
    except InvalidAmount:
        return None


# Characters that matter to either parser: digits of several scripts, separators, signs, exponents,
# JavaScript's and Python's (different) whitespace sets, and the currency sign.
TYPED = st.text(
    alphabet=st.sampled_from(
        list("0123456789.,.,  R$e_+-") + list("\u0661\u0662\u06f3\uff11\u0660\u00a0\u2009\u202f\ufeff\x1c\u3000\t")
    ),
    max_size=14,
)
WRITTEN = st.integers(min_value=1, max_value=MAX_CENTS).map(format_brl)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(TYPED, WRITTEN, st.text(max_size=10)))
@example("R$ 1.234,56")
@example("1234.5")
@example("1.234")
def test_the_server_reads_every_typed_amount_as_the_page_does(page_parser, text):
    on_page = page_parser(text)
    expected = on_page if on_page is not None and 0 < on_page <= MAX_CENTS else None
    assert server_reading(text) == expected


@given(cents=st.integers(min_value=1, max_value=MAX_CENTS))
def test_what_the_site_writes_it_reads_back(cents):
    assert parse_brl(format_brl(cents)) == cents
    assert parse_brl(format_brl(cents).removeprefix("R$ ").replace(".", "")) == cents


@pytest.mark.parametrize("text", NOT_AMOUNTS)
def test_exponents_underscores_signs_and_other_digits_are_refused(text):
    with pytest.raises(InvalidAmount):
        parse_brl(text)


def signed_in(app, db, user_id: int, page: str):
    """A logged-in client and the CSRF token its forms carry (read from `page`)."""
    client = app.test_client()
    token = db.transaction(accounts.start_session, user_id)
    with client.session_transaction() as session:
        session["sid"] = token
    return client, {"csrf_token": csrf_token(client, page)}


def count(db, model) -> int:
    return db.transaction(lambda s: s.scalar(select(func.count()).select_from(model)))


@pytest.mark.usefixtures("fast_passwords")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_money_form_refuses_what_is_not_a_brazilian_amount_and_writes_nothing(app, db, make_user):
    user, admin = make_user("ana"), make_user("root", is_admin=True)
    fund(db, user, 500_000)
    (ana, form), (root, admin_form) = signed_in(app, db, user, "/sell"), signed_in(app, db, admin, "/admin/payments")
    cpf = db.transaction(lambda s: s.scalar(select(User.cpf_cnpj).where(User.id == user)))
    for amount in ("1e3", "1_000", "\u0661\u0660\u0660\u0660"):
        ana.post(
            "/wallet/withdraw",
            data={**form, "amount": amount, "pix_key": cpf, "pix_key_type": "CPF", "password": "correct horse battery"},
        )
        ana.post("/wallet/topup", data={**form, "amount": amount, "billing_type": "PIX"})
        root.post("/admin/payment-links", data={**admin_form, "amount": amount, "name": "Leilão"})
        sell = {
            "title": "Road bicycle",
            "description": "Frame.",
            "starts_in": "0",
            "duration": "2",
            "duration_unit": "hours",
        }
        sold = ana.post("/sell", data={**form, **sell, "starting_price": amount})
        assert sold.status_code == 400 and "enter an amount like 150 or 150,00" in sold.get_data(as_text=True)
    assert [count(db, model) for model in (Withdrawal, Payment, PaymentLink, Auction)] == [0, 0, 0, 0]
    # The refusal reads in the reader's language.
    refused = ana.post(
        "/wallet/withdraw",
        data={**form, "amount": "1e3", "pix_key": cpf, "pix_key_type": "CPF"},
        headers={"Accept-Language": "pt-BR"},
        follow_redirects=True,
    )
    assert "digite um valor como 150 ou 150,00" in refused.get_data(as_text=True)
    # The same forms take the Brazilian form of the amount.
    ana.post(
        "/wallet/withdraw",
        data={**form, "amount": "1.000,00", "pix_key": cpf, "pix_key_type": "CPF", "password": "correct horse battery"},
    )
    assert db.transaction(lambda s: s.scalar(select(Withdrawal.amount))) == 100_000

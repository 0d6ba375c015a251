"""An amount on screen never wraps apart from its "R$": the pages' filter, localized messages and the page
script's formatBRL all hold them together with a no-break space, and the money fields read that back."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from auction.entrypoints.i18n import localize
from auction.entrypoints.web import brl
from auction.money import parse_brl
from tests.conftest import IN_CI
from tests.support.server import ROOT

NODE = shutil.which("node")


@pytest.fixture
def backend() -> str:
    return "sqlite"  # nothing is stored


def test_the_page_filter_and_localized_messages_glue_the_currency_to_the_number(app):
    assert brl(123_456) == "R$\u00a01.234,56" and brl(-100) == "-R$\u00a01,00"
    assert parse_brl(brl(123_456)) == 123_456
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        assert localize("the minimum bid is R$ 10,00") == "o lance mínimo é R$\u00a010,00"
        assert localize("an untranslated R$ 5,00 note") == "an untranslated R$\u00a05,00 note"


@pytest.mark.skipif(NODE is None and not IN_CI, reason="node is not installed")
def test_the_page_script_writes_amounts_the_same_way_and_reads_them_back():
    source = (ROOT / "static/js/live.js").read_text()
    functions = [
        re.search(rf"export function {name}\(.*?\n\}}\n", source, re.S) for name in ("formatBRL", "parseReais")
    ]
    assert all(functions), "formatBRL or parseReais is no longer in static/js/live.js"
    program = "".join(f.group(0).removeprefix("export ") for f in functions if f) + (
        "const shown = [123456, -100, 5].map(formatBRL);"
        "console.log(JSON.stringify({shown, read: shown.map(parseReais)}));"
    )
    out = json.loads(subprocess.run([NODE or "node", "-e", program], capture_output=True, text=True, check=True).stdout)
    assert out == {"shown": ["R$\u00a01.234,56", "-R$\u00a01,00", "R$\u00a00,05"], "read": [123456, None, 5]}

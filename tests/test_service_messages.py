"""Every message a use case can refuse with reaches the reader in their language: each ServiceError raised
with a literal (or f-string) message in the areas matches a template of MESSAGES (entrypoints/i18n.py), which
the catalog translates. Found by reading the code, so a new refusal without its template fails here."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import auction
from auction.entrypoints import i18n
from auction.errors import ServiceError
from tests.support.source import string_of

ROOT = Path(auction.__file__).parent
# Guards of the code's own invariants: a person never causes them, so they are not translated.
INTERNAL = {
    "an idempotency key of 1-191 characters is required",
    "idempotency key 7 was already used for a different movement (7)",
    "fee must be between 0 and 10000 basis points",
    "the fee cannot exceed the amount",
    "cannot release 7: only 7 held for this auction",
    "cannot capture 7: only 7 held for this auction",
    "a withdrawal must be more than zero",
    "7: a timezone-aware date and time is required",
    "status: unknown filter",
}


@pytest.fixture
def backend() -> str:
    return "sqlite"  # nothing is stored: the messages are read from the code


# A field's name before another refusal's own message (f"{name}: {exc}"), which is translated on its own.
FIELD_THEN_MESSAGE = re.compile(r"(\w+|7): 7")


def service_errors() -> set[str]:
    names = set()
    for module in pkgutil.walk_packages(auction.__path__, "auction."):
        for name, value in vars(importlib.import_module(module.name)).items():
            if inspect.isclass(value) and issubclass(value, ServiceError):
                names.add(name)
    return names


def example(node: ast.expr) -> str | None:
    """The message a call's argument makes, with 7 for each value an f-string fills in."""
    return string_of(node, "7")


def refusals() -> dict[str, str]:
    names = service_errors()
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "entrypoints" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if called not in names:
                continue
            # RegistrationError(field, message): the message is the argument with words in it.
            texts = [text for text in map(example, node.args[:2]) if text and " " in text]
            if texts:
                found[texts[0]] = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
    return found


def unchanged(text: str) -> bool:
    """True when localize() found no template for the message (a leading "{field}: " stands for a field name)."""
    message = re.sub(r"^7: ", "field: ", text)
    return i18n.localize(message) == i18n.glued(i18n._FIELD_PREFIX.sub("", message, count=1))


def test_every_refusal_a_use_case_raises_is_translated(app) -> None:
    messages = refusals()
    assert len(messages) > 80
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        untranslated = {
            f"{where}: {text!r}"
            for text, where in messages.items()
            if text not in INTERNAL and not FIELD_THEN_MESSAGE.fullmatch(text) and unchanged(text)
        }
    assert untranslated == set(), "add a template to MESSAGES (auction/entrypoints/i18n.py) and translate it"


def test_nested_parts_of_a_message_are_translated_too(app) -> None:
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        refused = i18n.localize("cannot confirm receipt: the order is paid")
        assert refused == "não é possível confirmar o recebimento: o pedido está pago"
        assert i18n.localize("the street and number is required") == "rua e número: obrigatório"
        # A day inside a message takes the pattern of the page's other dates.
        shipped = i18n.localize(
            "“Lamp” was shipped (Correios, BR1). Confirm receipt when it arrives; "
            "otherwise the payment is released on 21/12/2026."
        )
        assert shipped.endswith("o pagamento é liberado em 21 dez. 2026.")


def test_a_pseudonym_is_translated_and_a_username_never_is(app) -> None:
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        assert i18n.localize_name("Bidder 4821") == "Participante 4821"
        assert i18n.localize_name("admin") == "admin"  # a user named like a word the catalog knows
        assert (
            i18n.localize("“Lamp” was won by admin for R$ 5,00.") == "“Lamp” foi arrematado por admin por R$\u00a05,00."
        )
        assert i18n.localize("“Lamp” was won by Bidder 12 for R$ 5,00.").startswith(
            "“Lamp” foi arrematado por Participante 12"
        )

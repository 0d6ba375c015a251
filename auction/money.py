"""Money is integer cents (centavos) end to end; conversion happens at the edges only."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Cents = int
MAX_CENTS = 10**13


class InvalidAmount(ValueError):
    """An amount that is not a whole, positive number of cents."""


def require_cents(value: object, *, allow_zero: bool = False) -> Cents:
    """Accept only real ints (never bool, float or str) and positive ones."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount("amount must be a whole number of cents")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidAmount("amount must be positive")
    if value > MAX_CENTS:
        raise InvalidAmount("amount is too large")
    return value


def premium_of(hammer: Cents, premium_bps: int) -> Cents:
    """The buyer's premium (prêmio do comprador) on a hammer price: `premium_bps` basis points of it, rounded
    to the nearest centavo with half a centavo rounded up (R$ 10,05 at 5 % is R$ 0,5025 → R$ 0,50; R$ 0,10 at
    5 % is R$ 0,005 → R$ 0,01). Integer arithmetic only; 0 bps is no premium."""
    return (hammer * premium_bps + 5_000) // 10_000


def with_premium(hammer: Cents, premium_bps: int) -> Cents:
    """What the buyer pays for a lot knocked down at `hammer`: the hammer price plus its premium."""
    return hammer + premium_of(hammer, premium_bps)


def reais_to_cents(value: object) -> Cents:
    """Asaas sends decimal reais (100, 94.51); convert without float arithmetic."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount(f"not a decimal amount: {value!r}") from exc
    if not amount.is_finite():
        raise InvalidAmount(f"not a finite amount: {value!r}")
    # Same ceiling as require_cents; it also keeps quantize() from overflowing on 1e999999.
    if abs(amount) > MAX_CENTS / 100:
        raise InvalidAmount("amount is too large")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# What the pages' script strips before reading an amount (static/js/live.js, parseReais): "R$" and whatever
# JavaScript's \s matches, listed because Python's \s is another set.
_DECORATION = re.compile(r"R\$|[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]")
# ASCII digits only: Decimal and int() would also read "1e3", "1_000", "+5" and Arabic-Indic or full-width digits.
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)


def parse_brl(text: str) -> Cents:
    """An amount a person typed in a money field, in cents: "1.234,56", "R$ 1234,5", "1234.56" or "1234".

    The one reading of typed money, the same as the pages' script's (a test holds the two together): with a
    comma, dots group thousands and the comma marks the centavos; without one, a dot may mark them.
    """
    cleaned = _DECORATION.sub("", text)
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".", 1)
    if not _AMOUNT.fullmatch(cleaned):
        raise InvalidAmount("enter an amount like 150 or 150,00")
    whole, _, fraction = cleaned.partition(".")
    cents = int(whole) * 100 + int(fraction.ljust(2, "0"))
    if cents == 0:
        raise InvalidAmount("amount must be positive")
    if cents > MAX_CENTS:
        raise InvalidAmount("amount is too large")
    return cents


def cents_to_reais(cents: Cents) -> str:
    """The decimal string Asaas expects in JSON bodies ("150.00")."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def format_brl(cents: Cents) -> str:
    """R$ 1.234,56 for pages."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}R$ {whole:,}".replace(",", ".") + f",{frac:02d}"

"""Money is integer cents (centavos) end to end; conversion happens at the edges only."""

from __future__ import annotations

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


def cents_to_reais(cents: Cents) -> str:
    """The decimal string Asaas expects in JSON bodies ("150.00")."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def format_brl(cents: Cents) -> str:
    """R$ 1.234,56 for pages."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}R$ {whole:,}".replace(",", ".") + f",{frac:02d}"

"""Form helpers shared by the page modules: money fields typed in reais, stored as cents."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wtforms import StringField
from wtforms.validators import ValidationError

from ...money import Cents


def parse_reais(text: str) -> Cents:
    """'1.234,56', '1234.56', '1234,5' or '1234' -> cents; ValueError when it is not an amount."""
    cleaned = text.strip().replace("R$", "").replace(" ", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("enter an amount like 150 or 150,00") from exc
    if not amount.is_finite() or amount.as_tuple().exponent < -2:
        raise ValueError("enter an amount with at most two decimals")
    if amount <= 0:
        raise ValueError("the amount must be more than zero")
    if amount > Decimal(10**9):
        raise ValueError("the amount is too large")
    return int(amount * 100)


class ReaisField(StringField):
    """A text input for reais; `.cents` holds the parsed value (None when left empty)."""

    cents: Cents | None = None

    def pre_validate(self, form: object) -> None:
        self.cents = None
        if not (self.data or "").strip():
            return
        try:
            self.cents = parse_reais(self.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

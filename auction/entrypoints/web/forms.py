"""Form helpers shared by the page modules: money fields typed in reais, stored as cents."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import ValidationError

from ...money import Cents, parse_brl
from ..i18n import localize


class ReaisField(StringField):
    """A text input for reais; `.cents` holds the parsed value (None when left empty)."""

    cents: Cents | None = None

    def pre_validate(self, form: object) -> None:
        self.cents = None
        if not (self.data or "").strip():
            return
        try:
            self.cents = parse_brl(self.data)
        except ValueError as exc:
            raise ValidationError(localize(str(exc))) from exc

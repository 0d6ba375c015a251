"""Mail templates rendered in the recipient's language, without Flask (use cases render inside their transaction).

A message named NAME is two templates under templates/mail/: NAME.txt (the plain-text part, which also holds
the subject in `{% block subject %}`) and NAME.html (the HTML part). Both extend the layouts `_base.txt` and
`_base.html`, which carry the site's name and a link back. Words are marked with `_()` like the pages' and
translated from the same catalogue (translations/); the msgids are English, pt-BR is the first language.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..config import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates" / "mail"
TRANSLATIONS = PROJECT_ROOT / "translations"
LOCALES = ("pt_BR", "en")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def normalize_locale(locale: str | None) -> str:
    """'pt_BR' or 'en' (anything else, or nothing, is the site's first language)."""
    return "en" if (locale or "").replace("-", "_").lower().startswith("en") else "pt_BR"


class MailRenderer:
    """Renders NAME.txt / NAME.html with `site_name`, `site_url`, `lang` and `url(path)` (absolute links) in context."""

    def __init__(self, site_name: str, public_url: str, templates: Path = TEMPLATES) -> None:
        self.site_name = site_name
        self.public_url = public_url.rstrip("/")
        self._templates = templates
        self._environments: dict[str, Environment] = {}

    def url(self, path: str) -> str:
        """An absolute link into the site (mail readers have no page to resolve a relative one against)."""
        return path if "://" in path else f"{self.public_url}/{path.lstrip('/')}"

    def _environment(self, locale: str) -> Environment:
        if locale not in self._environments:
            environment = Environment(
                loader=FileSystemLoader(self._templates),
                autoescape=select_autoescape(["html"]),
                undefined=StrictUndefined,  # a missing variable is a bug, not an empty link
                extensions=["jinja2.ext.i18n"],
                keep_trailing_newline=True,
                # Templates are read once per process, not checked on disk at every message (a deploy restarts).
                auto_reload=False,
            )
            catalogue = Translations.load(str(TRANSLATIONS), [locale], domain="messages")
            environment.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
            self._environments[locale] = environment
        return self._environments[locale]

    def render(self, name: str, locale: str, context: dict[str, Any]) -> Rendered:
        locale = normalize_locale(locale)
        environment = self._environment(locale)
        lang = locale.replace("_", "-")
        values = {"site_name": self.site_name, "site_url": self.public_url, "url": self.url, "lang": lang, **context}
        text_template = environment.get_template(f"{name}.txt")
        subject = "".join(text_template.blocks["subject"](text_template.new_context(values))).strip()
        return Rendered(
            subject=" ".join(subject.split()),  # one line: a header never carries a newline
            text=text_template.render(values),
            html=environment.get_template(f"{name}.html").render(values),
        )

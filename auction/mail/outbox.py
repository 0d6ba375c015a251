"""Queue a message in the caller's transaction (see the package's docstring for how to call it)."""

from __future__ import annotations

import json
import re
from email.utils import make_msgid
from typing import Any

from sqlalchemy.orm import Session

from .. import clock
from ..config import host_of
from ..models import OutgoingMail
from ..uow import UnitOfWork
from .render import MailRenderer, normalize_locale

# Headers the sender writes itself; a caller's copy would be a second, conflicting one.
OWN_HEADERS = {"from", "to", "subject", "message-id", "date", "content-type", "mime-version"}
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")

_renderer: MailRenderer | None = None


def configure(renderer: MailRenderer) -> None:
    """Bound once by create_app: the site's name and address the messages carry."""
    global _renderer
    _renderer = renderer


def renderer() -> MailRenderer:
    if _renderer is None:
        raise RuntimeError("auction.mail is not configured (create_app binds it)")
    return _renderer


def _checked_headers(headers: dict[str, str] | None) -> str | None:
    if not headers:
        return None
    for name, value in headers.items():
        if not _HEADER_NAME.match(name) or name.lower() in OWN_HEADERS:
            raise ValueError(f"mail header {name!r} cannot be set by a caller")
        if "\n" in value or "\r" in value:
            raise ValueError(f"mail header {name!r} holds a line break")
    return json.dumps(headers, sort_keys=True)


def queue_mail(
    uow: UnitOfWork | Session,
    *,
    to: str,
    template: str,
    locale: str | None,
    context: dict[str, Any] | None = None,
    user_id: int | None = None,
    headers: dict[str, str] | None = None,
) -> OutgoingMail:
    """Render `template` in `locale` and add it to the outbox in this transaction; returns the row (flushed)."""
    session = uow.session if isinstance(uow, UnitOfWork) else uow
    rendered = renderer().render(template, normalize_locale(locale), context or {})
    now = clock.now()
    mail = OutgoingMail(
        message_id=make_msgid(domain=_message_id_domain()),
        user_id=user_id,
        kind=template.replace("/", "."),
        to_address=to,
        subject=rendered.subject[:255],
        text_body=rendered.text,
        html_body=rendered.html,
        headers=_checked_headers(headers),
        status="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(mail)
    session.flush()
    return mail


def _message_id_domain() -> str:
    """The site's own host names its Message-IDs (not this machine's name, which may be an internal one)."""
    return host_of(renderer().public_url)

"""The development inbox: what the site would have e-mailed, readable in the browser.

Mounted by create_app only when no SMTP server is configured and not in production (MAIL_DEV_INBOX), like
the Asaas simulator: then the jobs process marks messages sent without anything leaving the machine, and
here they are, with their links (absolute, to PUBLIC_URL) clickable.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from ...mail import queries
from ..usecases import read

bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")

# The HTML part is the message's own markup, with inline styles as mail readers expect; it is served alone
# under a policy that allows those styles and nothing that runs.
HTML_PART_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'"


@bp.get("/")
def inbox() -> Any:
    return render_template("dev_mail/inbox.html", rows=read(queries.latest))


def _message(mail_id: int) -> Any:
    mail = read(queries.one, mail_id)
    if mail is None:
        abort(404)
    return mail


@bp.get("/<int:mail_id>")
def message(mail_id: int) -> Any:
    return render_template("dev_mail/message.html", mail=_message(mail_id))


@bp.get("/<int:mail_id>/html")
def html_part(mail_id: int) -> Any:
    return (
        _message(mail_id).html_body,
        200,
        {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": HTML_PART_CSP,
            "X-Frame-Options": "SAMEORIGIN",
        },
    )

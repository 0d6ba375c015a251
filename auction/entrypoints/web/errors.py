"""The one place a page request's failure becomes its answer.

A route raises (or lets through) a ServiceError; the handler here answers with the
error's `http_status`. A form post from one of our own pages goes back to that page
with the message flashed (admin actions, watch toggles without JS); anything else gets
the site's error page. Framework errors (404, 403, 405) use the same page, inside the
layout, and a lost database is a quick 503.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ...db import DatabaseUnavailable
from ...errors import ServiceError
from ..i18n import localize

log = logging.getLogger(__name__)

TITLES = {
    400: _l("Bad request"),
    401: _l("Log in"),
    402: _l("Not enough funds"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Not possible here"),
    409: _l("Not possible now"),
    413: _l("Too large"),
    429: _l("Too many requests"),
}
# What a person reads on the framework's own errors (werkzeug's descriptions are for developers).
MESSAGES = {
    403: _l("You are not allowed to see this page."),
    404: _l("There is no page at this address. The auction may have been removed, or the link is wrong."),
    405: _l("This address does not take that kind of request."),
}


def _same_site_referrer() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


# Machine endpoints (Asaas's webhooks and API, Socket.IO, the health check) keep werkzeug's plain answer.
MACHINE_PATHS = ("/payment/", "/asaas-sim/v3/", "/socket.io", "/healthz", "/metrics")


def _wants_page() -> bool:
    """Any address a person may type or follow gets the site's page in their language, whatever its Accept
    header says (`*/*`, none, or a browser's); only machine paths and clients that prefer JSON do not."""
    if request.path.startswith(MACHINE_PATHS):
        return False
    return request.accept_mimetypes.best_match(["text/html", "application/json"], "text/html") == "text/html"


def page(status: int, message: str, title: str | None = None) -> tuple[str, int]:
    heading = title or str(TITLES.get(status, _("Error")))
    return render_template("error.html", title=heading, message=message, status=status), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _refused(error: ServiceError) -> Any:
        log.info("event=page_refused path=%s code=%s status=%s", request.path, error.code, error.http_status)
        back = _same_site_referrer() if request.method == "POST" else None
        if back is not None:
            flash(localize(error.message), "error")
            return redirect(back, code=303)
        return page(error.http_status, localize(error.message))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if error.code is None or error.code < 400 or not _wants_page():
            return error
        message = MESSAGES.get(error.code)
        return page(
            error.code, str(message) if message else error.description or "", str(TITLES.get(error.code, error.name))
        )

    @app.errorhandler(DatabaseUnavailable)
    def _database_unavailable(_error: DatabaseUnavailable) -> Any:
        # A clear, quick 503 (never a hang or a traceback); the next request tries the database again.
        log.warning("event=page_unavailable path=%s", request.path)
        body, status = page(
            503, _("The site is briefly unavailable. Please try again in a moment."), _("Temporarily unavailable")
        )
        return body, status, {"Retry-After": "5"}

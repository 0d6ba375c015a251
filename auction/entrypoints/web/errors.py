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
from werkzeug.exceptions import HTTPException

from ...db import DatabaseUnavailable
from ...errors import ServiceError

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Log in",
    402: "Not enough funds",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    429: "Too many requests",
}


def _same_site_referrer() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def page(status: int, message: str, title: str | None = None) -> tuple[str, int]:
    return render_template("error.html", title=title or TITLES.get(status, "Error"), message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _refused(error: ServiceError) -> Any:
        log.info("event=page_refused path=%s code=%s status=%s", request.path, error.code, error.http_status)
        back = _same_site_referrer() if request.method == "POST" else None
        if back is not None:
            flash(error.message, "error")
            return redirect(back, code=303)
        return page(error.http_status, error.message)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        # Only pages a browser navigates to get the site's layout; API clients keep the plain answer.
        if error.code is None or error.code < 400 or "text/html" not in request.headers.get("Accept", ""):
            return error
        return page(error.code, error.description or "", error.name)

    @app.errorhandler(DatabaseUnavailable)
    def _database_unavailable(_error: DatabaseUnavailable) -> Any:
        # A clear, quick 503 (never a hang or a traceback); the next request tries the database again.
        log.warning("event=page_unavailable path=%s", request.path)
        body, status = page(
            503, "The site is briefly unavailable. Please try again in a moment.", "Temporarily unavailable"
        )
        return body, status, {"Retry-After": "5"}

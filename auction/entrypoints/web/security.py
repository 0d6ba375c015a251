"""Security headers on every response."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from .auth import refused_form_page
from .errors import page

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    if app.config.get("TRUSTED_PROXIES"):
        # Behind nginx every request comes from the proxy's address, and per-address rate limits
        # would throttle the whole site as one client. Trust exactly that many hops, no more.
        # This wraps Socket.IO's middleware too, so sockets see the client's address as well.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    @app.errorhandler(CSRFError)
    def _csrf_failed(error: CSRFError) -> Any:
        log.info("event=csrf_refused path=%s reason=%s", request.path, error.description)
        # The login and registration forms show the message on themselves, drawn as posted but never
        # processed: calling their view here would log in or register the request that was just refused.
        form_page = refused_form_page(request.endpoint)
        if form_page is not None:
            return form_page, 400
        return page(400, _("The form expired or was not sent from this site; please try again."))

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # No Strict-Transport-Security: the TLS proxy sends it (deploy/nginx), and two headers are one too many.
        return response

"""Pages, forms and HTTP endpoints (thin adapters over the services)."""

from __future__ import annotations

from flask import Flask

from ..money import format_brl
from . import auth, pages, security


def init_app(app: Flask) -> None:
    app.jinja_env.filters["brl"] = format_brl
    auth.init_app(app)
    security.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)

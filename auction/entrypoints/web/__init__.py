"""Pages, forms and HTTP endpoints (thin adapters over the services)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from ... import clock
from ...money import format_brl
from . import (
    admin,
    admin_orders,
    auctions,
    auth,
    errors,
    notifications_pages,
    orders_pages,
    pages,
    payouts_pages,
    photos,
    security,
    wallet_pages,
)


def _as_datetime(moment: datetime | str | None) -> datetime | None:
    if isinstance(moment, str):
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment


def iso(moment: datetime | str | None) -> str:
    """ISO-8601 UTC for data-* attributes the page scripts read."""
    return clock.isoformat(_as_datetime(moment)) or ""


def when(moment: datetime | str | None, seconds: bool = False) -> str:
    """A readable UTC time for people: '25 Nov 2026, 14:30 UTC' (the page scripts write the same)."""
    value = _as_datetime(moment)
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%d %b %Y, %H:%M:%S UTC" if seconds else "%d %b %Y, %H:%M UTC")


def reais(cents: int) -> str:
    """Cents as the plain decimal a money input accepts: 1234 -> '12,34'."""
    return f"{cents // 100},{cents % 100:02d}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(brl=format_brl, iso=iso, when=when, reais=reais)
    auth.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    pages.init_app(app)
    for module in (auth, pages, auctions, photos, wallet_pages, notifications_pages, admin):
        app.register_blueprint(module.bp)
    for module in (orders_pages, payouts_pages, admin_orders):
        app.register_blueprint(module.bp)

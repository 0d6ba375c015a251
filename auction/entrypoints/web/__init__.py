"""Pages, forms and HTTP endpoints (thin adapters over the services)."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_percent

from ... import clock
from ...money import format_brl, with_premium
from .. import i18n
from . import (
    account,
    admin,
    admin_events,
    admin_orders,
    admin_payments,  # noqa: F401 - its routes join admin.bp
    after_sale,
    alerts_pages,
    auctions,
    auth,
    errors,
    events_pages,
    js_strings,
    notifications_pages,
    orders_pages,
    pages,
    payouts_pages,
    photos,
    security,
    sellers,
    wallet_pages,
)
from .sessions import RememberingCookieSessions


def _as_datetime(moment: datetime | str | None) -> datetime | None:
    if isinstance(moment, str):
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment


def iso(moment: datetime | str | None) -> str:
    """ISO-8601 UTC for data-* attributes the page scripts read."""
    return clock.isoformat(_as_datetime(moment)) or ""


def when(moment: datetime | str | None, seconds: bool = False) -> str:
    """A readable time in the viewer's zone and language (the page scripts write the same)."""
    return i18n.when(_as_datetime(moment), seconds)


def brl(cents: int) -> str:
    """R$ 1.234,56 on a page, with a no-break space after "R$"."""
    return i18n.glued(format_brl(cents))


def reais(cents: int) -> str:
    """Cents as the plain decimal a money input accepts: 1234 -> '12,34'."""
    return f"{cents // 100},{cents % 100:02d}"


def bps_percent(bps: int) -> str:
    """Basis points as a percent in the viewer's language: 1000 -> "10%", 250 -> "2,5%"."""
    return format_percent(bps / 10_000, "#,##0.##%")


def init_app(app: Flask) -> None:
    app.session_interface = RememberingCookieSessions()
    i18n.init_app(app)
    app.jinja_env.filters.update(brl=brl, iso=iso, when=when, reais=reais, bps_percent=bps_percent)
    app.jinja_env.globals.update(
        status_label=js_strings.status_label,
        withdrawal_status=js_strings.withdrawal_status,
        payment_status=js_strings.payment_status_label,
        order_status=orders_pages.status_label,
        outcome_label=admin.outcome_label,
        localize=i18n.localize,
        localize_name=i18n.localize_name,
        with_premium=with_premium,
        offer_status=after_sale.offer_status,
    )
    auth.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    pages.init_app(app)
    for module in (auth, pages, auctions, photos, wallet_pages, notifications_pages, admin):
        app.register_blueprint(module.bp)
    for module in (
        orders_pages,
        payouts_pages,
        admin_orders,
        alerts_pages,
        account,
        sellers,
        events_pages,
        after_sale,
        admin_events,
    ):
        app.register_blueprint(module.bp)

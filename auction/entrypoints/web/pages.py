"""General pages: the auctions list (home), the health check, and what every page's nav shows."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import accounts, clock, notifications, wallet
from ...auctions import queries
from .. import i18n
from ..usecases import read
from . import js_strings, photos, sellers
from .auth import current_user, safe_next

bp = Blueprint("pages", __name__)

# filter name in the URL -> (label, queries.list_auctions status)
FILTERS = {
    "open": (lazy_gettext("Open"), "open"),
    "ending": (lazy_gettext("Ending soon"), "ending_soon"),
    "upcoming": (lazy_gettext("Upcoming"), "scheduled"),
    "finished": (lazy_gettext("Finished"), "finished"),
}
ENDING_SOON_SECONDS = 3600


def _listing(session: Session, status: str, query: str) -> dict[str, Any]:
    auctions = queries.list_auctions(session, status=status, search=query, ending_soon_seconds=ENDING_SOON_SECONDS)
    return {
        "auctions": auctions,
        "thumbs": photos.first_photos(session, [a.id for a in auctions]),
        "reputations": sellers.reputations(session, auctions),
    }


def nav_counts(session: Session, user_id: int, balance: wallet.Balance | None = None) -> dict[str, int]:
    """What the top bar shows: the available balance (`balance`, when the page read it already) and unread alerts."""
    return {
        "available": (balance or wallet.balance(session, user_id)).available,
        "unread": notifications.unread_count(session, user_id),
    }


def init_app(app: Flask) -> None:
    @app.context_processor
    def _page_globals() -> dict[str, Any]:
        user = current_user()
        # A page showing the user's money sets `g.nav` from its own snapshot (wallet_pages): the top bar's
        # balance read at another moment than the page's would contradict it beside it.
        nav = g.get("nav") or (read(nav_counts, user.id) if user else {"available": 0, "unread": 0})
        return {
            "nav": nav,
            "server_time": clock.isoformat(clock.now()),
            "languages": i18n.LANGUAGES,
            "page_locale": i18n.language(),
            "page_lang": i18n.language().replace("_", "-"),
            "page_timezone": str(i18n.get_timezone()),
            "page_zone_name": i18n.zone_name(),
            "js_i18n": js_strings.catalog,
        }


@bp.get("/language")
def set_language() -> Any:
    """The switcher (a plain link: a language is a display preference, not an action worth a form and a
    CSRF token): remember the reader's choice for a year and go back to the page they were on."""
    chosen = request.args.get("lang")
    response = redirect(safe_next(request.args.get("next")), code=303)
    if chosen in i18n.LANGUAGES:
        response.set_cookie(i18n.LANG_COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


@bp.get("/")
def index() -> Any:
    status_filter = request.args.get("filter", "open")
    if status_filter not in FILTERS:
        status_filter = "open"
    query = (request.args.get("q") or "").strip()[:100]
    listing = read(_listing, FILTERS[status_filter][1], query)
    return render_template("index.html", **listing, filters=FILTERS, active=status_filter, query=query)


@bp.get("/healthz")
def healthz() -> Any:
    read(lambda s: s.execute(select(1)).scalar())
    return {"ok": True}


# The terms of use and the privacy notice (LGPD): one template per language, since a legal text is read
# whole, versioned as a whole (accounts.TERMS_VERSION, PRIVACY_VERSION), and registration records the
# version accepted.


def _legal(document: str, version: str) -> Any:
    return render_template(f"legal/{document}.{i18n.language()}.html", version=version)


@bp.get("/protecao-ao-comprador")
def buyer_protection() -> Any:
    """How escrow protects a buyer, with this site's own deadlines and fee (ORDER_SHIP_DAYS, ORDER_RELEASE_DAYS,
    PLATFORM_FEE_BPS)."""
    config = current_app.config
    fee = config["PLATFORM_FEE_BPS"]
    percent = f"{fee / 100:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    return render_template(
        "pages/buyer_protection.html",
        ship_days=config["ORDER_SHIP_DAYS"],
        release_days=config["ORDER_RELEASE_DAYS"],
        fee_percent=percent if fee else None,
    )


@bp.get("/termos")
def terms() -> Any:
    return _legal("terms", accounts.TERMS_VERSION)


@bp.get("/privacidade")
def privacy() -> Any:
    return _legal("privacy", accounts.PRIVACY_VERSION)

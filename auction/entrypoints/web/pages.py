"""General pages: the auctions list (home), the health check, and what every page's nav shows."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import clock, notifications, wallet
from ...auctions import queries
from ...extensions import get_db
from ...models import Auction
from . import photos
from .auth import current_user

bp = Blueprint("pages", __name__)

# filter name in the URL -> (label, queries.list_auctions status)
FILTERS = {
    "open": ("Open", "open"),
    "ending": ("Ending soon", "ending_soon"),
    "upcoming": ("Upcoming", "scheduled"),
    "finished": ("Finished", "finished"),
}
ENDING_SOON_SECONDS = 3600


def _listing(session: Session, status: str, query: str) -> tuple[list[Auction], dict[int, str]]:
    auctions = queries.list_auctions(session, status=status, search=query, ending_soon_seconds=ENDING_SOON_SECONDS)
    return auctions, photos.first_photos(session, [a.id for a in auctions])


def _nav_counts(session: Session, user_id: int) -> dict[str, int]:
    return {
        "available": wallet.balance(session, user_id).available,
        "unread": notifications.unread_count(session, user_id),
    }


def init_app(app: Flask) -> None:
    @app.context_processor
    def _page_globals() -> dict[str, Any]:
        user = current_user()
        nav = get_db().transaction(_nav_counts, user.id) if user else {"available": 0, "unread": 0}
        return {"nav": nav, "server_time": clock.isoformat(clock.now())}


@bp.get("/")
def index() -> Any:
    status_filter = request.args.get("filter", "open")
    if status_filter not in FILTERS:
        status_filter = "open"
    query = (request.args.get("q") or "").strip()[:100]
    auctions, thumbs = get_db().transaction(_listing, FILTERS[status_filter][1], query)
    return render_template(
        "index.html", auctions=auctions, thumbs=thumbs, filters=FILTERS, active=status_filter, query=query
    )


@bp.get("/healthz")
def healthz() -> Any:
    get_db().transaction(lambda s: s.execute(select(1)).scalar())
    return {"ok": True}

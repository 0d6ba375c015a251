"""General pages: the home page with the auctions list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from sqlalchemy import select

from ..extensions import get_db
from ..models import Auction

bp = Blueprint("pages", __name__)


def _open_auctions(session: Any) -> list[Auction]:
    return list(
        session.scalars(
            select(Auction).where(Auction.status.in_(["open", "scheduled"])).order_by(Auction.ends_at).limit(100)
        )
    )


@bp.get("/")
def index() -> Any:
    auctions = get_db().run(_open_auctions)
    return render_template("index.html", auctions=auctions)


@bp.get("/healthz")
def healthz() -> Any:
    get_db().run(lambda s: s.execute(select(1)).scalar())
    return {"ok": True}

"""A seller's public profile (their pseudonym, reputation and ratings), and the reputation every listing shows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, abort, render_template
from flask_babel import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...auctions import privacy
from ...models import Auction, User
from ...orders import ratings
from ..usecases import read

bp = Blueprint("sellers", __name__)


def reputations(session: Session, auctions: Iterable[Auction]) -> dict[int, ratings.SellerStats]:
    """Seller id -> reputation, for a page of auction cards."""
    return ratings.seller_stats(session, {auction.seller_id for auction in auctions})


@bp.app_template_filter("stars")
def stars(average: float) -> str:
    """An average rating with one decimal, in the reader's language (4,5 / 4.5)."""
    return format_decimal(average, format="0.0")


def _profile(session: Session, seller_id: int) -> dict[str, Any] | None:
    if session.get(User, seller_id) is None:
        return None
    listed = session.scalar(select(Auction.id).where(Auction.seller_id == seller_id).limit(1))
    if listed is None:  # not a seller: a profile would only confirm that the account exists
        return None
    return {
        "alias": privacy.seller_alias(seller_id),
        "rep": ratings.seller_stats(session, [seller_id])[seller_id],
        "ratings": ratings.ratings_of(session, seller_id),
    }


@bp.get("/sellers/<int:seller_id>")
def profile(seller_id: int) -> Any:
    page = read(_profile, seller_id)
    if page is None:
        abort(404)
    return render_template("sellers/profile.html", **page)

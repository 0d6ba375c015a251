"""After a lot ends unsold, on its page: the seller relists it (a single auction or a lot of a later event of
theirs) or makes a second-chance offer to an underbidder; that bidder accepts or declines it there."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import clock
from ...auctions import relisting, second_chance
from ...models import Auction, SaleEvent
from ..usecases import perform, read
from . import photos
from .auth import login_required, signed_in_user

bp = Blueprint("after_sale", __name__)
OFFER_STATUSES = {
    "open": _l("waiting for the bidder"),
    "accepted": _l("accepted"),
    "declined": _l("declined"),
    "expired": _l("expired"),
}


def offer_status(status: str) -> str:
    return str(OFFER_STATUSES.get(status, status))


log = logging.getLogger(__name__)


def page_state(session: Session, auction: Auction, viewer_id: int | None) -> dict[str, Any]:
    """What the auction page shows after the end: the relist (old and new), and to the seller what they may do,
    to an underbidder their open second-chance offer."""
    state: dict[str, Any] = {
        "relisted_as": session.scalar(select(Auction.id).where(Auction.relisted_from_id == auction.id)),
        "relisted_from": auction.relisted_from_id,
        "unsold": False,
        "your_offer": None,
    }
    if viewer_id is None or auction.status != "finished":
        return state
    offers = second_chance.offers_of(session, auction.id)
    if viewer_id == auction.seller_id:
        unsold = state["relisted_as"] is None and relisting.unsold(session, auction)
        state["unsold"] = unsold
        state["offers"] = offers
        state["candidates"] = second_chance.candidates(session, auction) if unsold else []
        state["later_events"] = (
            session.execute(
                select(SaleEvent.id, SaleEvent.title)
                .where(SaleEvent.organizer_id == viewer_id, SaleEvent.first_close_at > clock.now())
                .order_by(SaleEvent.first_close_at)
            ).all()
            if unsold
            else []
        )
    now = clock.now()
    state["your_offer"] = next(
        (o for o in offers if o.bidder_id == viewer_id and o.status == "open" and o.expires_at > now), None
    )
    return state


@bp.post("/auctions/<int:auction_id>/relist")
@login_required
def relist(auction_id: int) -> Any:
    """One action: the same item again, photos copied (the old auction keeps its own files)."""
    user = signed_in_user()
    event_id = request.form.get("event_id", type=int) or None
    names = read(photos.filenames, auction_id)
    copies = photos.copy(names)
    try:
        new_id = perform(relisting.relist, relisting.Relist(auction_id, user.id, event_id, copies))
    except Exception:
        photos.discard_names(list(copies.values()))
        raise
    log.info("event=auction_relisted auction_id=%s new_auction_id=%s event_id=%s", auction_id, new_id, event_id)
    flash(_("Relisted: this is the new auction."), "success")
    return redirect(url_for("auctions.detail", auction_id=new_id), code=303)


@bp.post("/auctions/<int:auction_id>/second-chance")
@login_required
def offer(auction_id: int) -> Any:
    bidder_id = request.form.get("bidder_id", type=int) or 0
    command = second_chance.MakeOffer(auction_id, signed_in_user().id, bidder_id)
    made = perform(lambda uow: second_chance.make_offer(uow, command).id)
    log.info("event=second_chance_offered auction_id=%s offer_id=%s", auction_id, made)
    flash(_("Second-chance offer sent; the bidder has 48 hours to accept."), "success")
    return redirect(url_for("auctions.detail", auction_id=auction_id), code=303)


@bp.post("/second-chance/<int:offer_id>/<any(accept, decline):choice>")
@login_required
def answer(offer_id: int, choice: str) -> Any:
    command = second_chance.AnswerOffer(
        offer_id, signed_in_user().id, choice == "accept", current_app.config["PLATFORM_FEE_BPS"]
    )
    answered = perform(lambda uow: _answered(second_chance.answer(uow, command)))
    log.info("event=second_chance_answered offer_id=%s choice=%s", offer_id, choice)
    if answered[1] is not None:
        flash(_("Accepted: the money is in escrow and your order is open."), "success")
        return redirect(url_for("orders_pages.order", order_id=answered[1]), code=303)
    flash(_("Offer declined."), "success")
    return redirect(url_for("auctions.detail", auction_id=answered[0]), code=303)


def _answered(offer: Any) -> tuple[int, int | None]:
    return offer.auction_id, offer.order_id

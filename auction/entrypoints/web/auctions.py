"""Auction pages: one auction live, the sell form, my bids and my auctions."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ... import clock
from ...auctions import buy_now, listing, privacy, queries, watching, watchlist
from ...brazil import UFS
from ...errors import ServiceError
from ...models import Auction, AuctionPhoto, AuctionStatus, SaleEvent, User
from ...orders import queries as order_queries
from ...orders import ratings
from ...uow import UnitOfWork
from ..i18n import localize
from ..usecases import perform, read
from . import after_sale, photos, sellers
from .auth import current_user, login_required, signed_in_user
from .forms import ReaisField

bp = Blueprint("auctions", __name__)
log = logging.getLogger(__name__)

DURATION_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
MAX_DURATION = timedelta(days=30)
HISTORY_SIZE = 20
# The sell form's delivery choices; free shipping is stored as shipping at no cost.
DELIVERY_CHOICES = {
    "ship": _l("Shipping, paid by the buyer"),
    "free_shipping": _l("Free shipping"),
    "pickup": _l("Pickup only (the buyer collects it)"),
}
CONDITIONS = {
    listing.Condition.NEW: _l("New"),
    listing.Condition.LIKE_NEW: _l("Like new"),
    listing.Condition.USED: _l("Used"),
    listing.Condition.REFURBISHED: _l("Refurbished"),
    listing.Condition.FOR_PARTS: _l("For parts or not working"),
}


def _required() -> DataRequired:
    return DataRequired(message=_l("Fill this in."))


class SellForm(FlaskForm):
    title = StringField(_l("Title"), validators=[_required(), Length(min=3, max=120)])
    description = TextAreaField(_l("Description"), validators=[_required(), Length(max=5000)])
    starting_price = ReaisField(_l("Starting price (R$)"), validators=[_required()])
    min_increment = ReaisField(_l("Min. increment (optional)"), validators=[Optional()])
    reserve_price = ReaisField(_l("Reserve price (optional)"), validators=[Optional()])
    buy_now_price = ReaisField(
        _l("Buy It Now price (optional)"),
        validators=[Optional()],
        description=_l(
            "A bidder may buy at this price at once, until a bid reaches your reserve"
            " (or, without a reserve, until the first bid)."
        ),
    )
    starts_in = IntegerField(
        _l("Starts in (minutes)"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=7 * 24 * 60, message=_l("between 0 and 10080 minutes"))],
    )
    duration = IntegerField(
        _l("Runs for"),
        default=7,
        validators=[
            InputRequired(message=_l("Fill this in.")),
            NumberRange(min=1, max=10_000, message=_l("at least 1")),
        ],
    )
    duration_unit = SelectField(
        _l("Unit"),
        choices=[
            SelectChoice("minutes", _l("minutes")),
            SelectChoice("hours", _l("hours")),
            SelectChoice("days", _l("days")),
        ],
        default="days",
    )
    condition = SelectField(
        _l("Condition"),
        choices=[SelectChoice("", _l("Choose…")), *(SelectChoice(c.value, label) for c, label in CONDITIONS.items())],
        validators=[InputRequired(message=_l("Choose the item's condition."))],
    )
    delivery = SelectField(
        _l("Delivery"),
        choices=[
            SelectChoice("", _l("Choose…")),
            *(SelectChoice(key, label) for key, label in DELIVERY_CHOICES.items()),
        ],
        validators=[InputRequired(message=_l("Choose how the buyer gets the item."))],
    )
    shipping_cost = ReaisField(
        _l("Shipping cost (R$)"),
        description=_l("What the buyer pays for shipping, on top of the price."),
    )
    city = StringField(
        _l("City where the item is"),
        validators=[_required(), Length(min=2, max=listing.CITY_MAX)],
        description=_l("Buyers see it; with pickup, the buyer collects the item there."),
    )
    uf = SelectField(
        _l("State (UF)"),
        choices=[SelectChoice("", _l("Choose…")), *(SelectChoice(uf, uf) for uf in sorted(UFS))],
        validators=[InputRequired(message=_l("Choose the state."))],
        render_kw={"translate": "no"},  # the UFs' abbreviations are the same in every language
    )
    photos = MultipleFileField(_l("Photos (up to 5: JPEG, PNG, WebP or GIF)"))

    def validate_shipping_cost(self, field: ReaisField) -> None:
        if self.delivery.data == "ship" and field.cents is None and not field.errors:
            raise ValidationError(_("Give the shipping cost, or choose free shipping or pickup."))

    def facts(self) -> listing.ItemFacts:
        ships = self.delivery.data != listing.Delivery.PICKUP
        return listing.ItemFacts(
            condition=self.condition.data,
            delivery=listing.Delivery.SHIP if ships else listing.Delivery.PICKUP,
            shipping_cost=(self.shipping_cost.cents if self.delivery.data == "ship" else 0) if ships else None,
            city=self.city.data or "",
            uf=self.uf.data or "",
        )

    def validate_duration(self, field: IntegerField) -> None:
        if self.duration_unit.data in DURATION_UNITS and field.data and self.run_time() > MAX_DURATION:
            field.errors.append(_("an auction can run for at most 30 days"))

    def run_time(self) -> timedelta:
        return timedelta(seconds=(self.duration.data or 0) * DURATION_UNITS.get(self.duration_unit.data, 0))


def _auction_page(session: Session, auction_id: int, viewer_id: int | None, is_admin: bool) -> dict[str, Any]:
    state = queries.auction_state(session, auction_id, viewer_id=viewer_id, last_bids=HISTORY_SIZE)
    state["bids"] = without_repeated_raises(state["bids"])
    # What static/js/auction.js starts from: the join answer's shape, before the page's own fields are added.
    state["live"] = dict(state)
    state["photos"] = photos.filenames(session, auction_id)
    auction = session.get(Auction, auction_id)
    price = auction.buy_now_price
    state["buy_now_price"] = price
    state["you_won"] = viewer_id is not None and auction.winner_id == viewer_id
    # A bidder back on the page after being outbid is told at once, not only by a live event they missed.
    state["you_outbid"] = (
        viewer_id is not None
        and state["status"] == AuctionStatus.OPEN
        and not state["you_lead"]
        and queries.has_bid(session, auction_id, viewer_id)
    )
    state["reputation"] = ratings.seller_stats(session, [auction.seller_id])[auction.seller_id]
    state["buy_now"] = buy_now.available(state["status"], price, state["reserve_met"])
    # People are pseudonyms in public; the viewer knows their own, the parties of the sale and admins know names.
    state["your_alias"] = privacy.pseudonym(auction_id, viewer_id)
    state["real_names"] = queries.visible_names(session, auction_id, viewer_id, is_admin)
    state["order_id"] = (
        order_queries.order_ids_by_auction(session, [auction_id], viewer_id).get(auction_id) if viewer_id else None
    )
    state.update(_lot_of(session, auction))
    state.update(after_sale.page_state(session, auction, viewer_id))
    return state


def _lot_of(session: Session, auction: Auction) -> dict[str, Any]:
    """A lot's event (title, number, buyer's premium, soft-close window) for its page; nothing for a single auction."""
    event = session.get(SaleEvent, auction.event_id) if auction.event_id is not None else None
    if event is None:
        return {"event": None, "premium_bps": 0, "soft_close_seconds": None}
    return {
        "event": {"id": event.id, "title": event.title, "lot_number": auction.lot_number},
        "premium_bps": event.premium_bps,
        "soft_close_seconds": event.soft_close_seconds,
    }


def without_repeated_raises(bids: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows newest first, minus a leader's maximum raises: such a row repeats the one below it (same
    bidder, same price) and tells watchers nothing (static/js/auction.js applies the same rule live)."""
    kept = []
    for i, row in enumerate(bids):
        below = bids[i + 1] if i + 1 < len(bids) else None
        if below is None or (below["bidder"], below["amount"]) != (row["bidder"], row["amount"]):
            kept.append(row)
    return kept


@bp.get("/auctions/<int:auction_id>")
def detail(auction_id: int) -> Any:
    user = current_user()
    state = read(_auction_page, auction_id, user.id if user else None, bool(user and user.is_admin))
    # A lot of a sale event extends by its event's soft-close window, not the site's (docs/events.md).
    soft_close = state["soft_close_seconds"]
    if soft_close is None:
        soft_close = current_app.config["SOFT_CLOSE_SECONDS"]
    return render_template(
        "auctions/detail.html",
        s=state,
        condition_label=lambda code: CONDITIONS.get(code, code),
        soft_close_minutes=max(1, round(soft_close / 60)),
        soft_close_seconds=soft_close,
    )


def _watchlist(session: Session, user_id: int) -> dict[str, Any]:
    auctions = watchlist.watched_auctions(session, user_id)
    return {
        "auctions": auctions,
        "thumbs": photos.first_photos(session, [a.id for a in auctions]),
        "reputations": sellers.reputations(session, auctions),
    }


@bp.get("/me/watchlist")
@login_required
def watchlist_page() -> Any:
    return render_template("auctions/watchlist.html", **read(_watchlist, signed_in_user().id))


@bp.post("/auctions/<int:auction_id>/watch")
@login_required
def toggle_watch(auction_id: int) -> Any:
    """The no-JS path of the watch button (with JS the socket's watch/unwatch events do it)."""
    user = signed_in_user()
    now_watching = perform(watching.set_watching, user.id, auction_id, request.form.get("watch") == "1")
    flash(_("You are watching this auction.") if now_watching else _("You stopped watching this auction."), "info")
    return redirect(url_for("auctions.detail", auction_id=auction_id))


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(_error: RequestEntityTooLarge) -> Any:
    message = _(
        "The photos together are too large. Send at most %(count)d photos of %(size)s each.",
        count=photos.MAX_PHOTOS,
        size=photos.limit_text(),
    )
    return render_template("error.html", title=_("Upload too large"), message=message), 413


@bp.route("/sell", methods=["GET", "POST"])
@login_required
def sell() -> Any:
    form = SellForm()
    if form.validate_on_submit():
        try:
            checked = photos.check_photos(photos.chosen_files(form.photos.data or []))
        except photos.PhotoError as exc:
            form.photos.errors = [str(exc)]
        else:
            auction_id = _create(form, checked)
            if auction_id is not None:
                flash(_("Your auction is listed."), "success")
                return redirect(url_for("auctions.detail", auction_id=auction_id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "auctions/sell.html", form=form, max_photos=photos.MAX_PHOTOS, max_size=photos.limit_text()
    ), status


def _create(form: SellForm, checked: list[tuple[bytes, str, str]]) -> int | None:
    """Store the photos, then create the auction with them; on a refusal the form shows why."""
    user = signed_in_user()
    stored = photos.store(checked)
    starts_at = clock.now() + timedelta(minutes=form.starts_in.data or 0)
    try:
        auction_id = perform(
            _create_with_photos,
            listing.NewAuction(
                seller_id=user.id,
                title=form.title.data.strip(),
                description=form.description.data.strip(),
                starting_price=form.starting_price.cents,
                min_increment=form.min_increment.cents,
                reserve_price=form.reserve_price.cents,
                buy_now_price=form.buy_now_price.cents,
                starts_at=starts_at,
                ends_at=starts_at + form.run_time(),
                facts=form.facts(),
            ),
            stored,
        )
    except ServiceError as exc:
        photos.discard(stored)
        field = getattr(form, str(exc.details.get("field", "")), None) or form.title
        field.errors = [*field.errors, localize(exc.message)]
        return None
    except Exception:
        photos.discard(stored)
        raise
    log.info("event=auction_listed auction_id=%s seller_id=%s photos=%d", auction_id, user.id, len(stored))
    return auction_id


def _create_with_photos(uow: UnitOfWork, command: listing.NewAuction, stored: list[photos.StoredPhoto]) -> int:
    auction = listing.create(uow, command)
    uow.session.add_all(
        AuctionPhoto(auction_id=auction.id, position=i, filename=p.filename, content_type=p.content_type, size=p.size)
        for i, p in enumerate(stored)
    )
    return auction.id


def _my_auctions(session: Session, user_id: int) -> list[dict[str, Any]]:
    items = queries.my_auctions(session, user_id)
    winners = dict(
        session.execute(
            select(User.id, User.username).where(User.id.in_({i["auction"].winner_id for i in items} - {None}))
        ).all()
    )
    return [{**item, "winner": winners.get(item["auction"].winner_id)} for item in items]


def _with_orders(session: Session, rows_of: Any, user_id: int) -> dict[str, Any]:
    """The rows, and the user's order for each sold auction among them (auction id -> order id)."""
    rows = rows_of(session, user_id)
    ids = [row["auction"].id for row in rows]
    return {"rows": rows, "orders": order_queries.order_ids_by_auction(session, ids, user_id)}


@bp.get("/me/bids")
@login_required
def my_bids() -> Any:
    user = signed_in_user()
    return render_template("auctions/my_bids.html", **read(_with_orders, queries.my_bids, user.id))


@bp.get("/me/auctions")
@login_required
def my_auctions() -> Any:
    user = signed_in_user()
    return render_template("auctions/my_auctions.html", **read(_with_orders, _my_auctions, user.id))

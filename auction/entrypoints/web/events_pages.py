"""Sale events' pages: create an event, its catalogue (live over the event's one room), add a lot."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ... import clock
from ...auctions import catalogue, sale_events
from ...errors import ServiceError
from ...money import InvalidAmount, parse_brl
from ...orders import invoices
from ..i18n import localize
from ..usecases import perform, read
from .auth import current_user, login_required, signed_in_user

log = logging.getLogger(__name__)
bp = Blueprint("events", __name__)


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(min=3, max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    terms = TextAreaField(
        _l("Terms of sale (edital)"),
        validators=[DataRequired(), Length(max=sale_events.TERMS_MAX)],
        description=_l("Bidders accept them to bid; a change is a new version they accept again."),
    )
    first_close_in = IntegerField(
        _l("First lot closes in (minutes)"),
        default=60,
        validators=[InputRequired(), NumberRange(min=1, max=30 * 24 * 60)],
    )
    lot_interval_seconds = IntegerField(
        _l("Interval between lots (seconds)"),
        default=60,
        validators=[InputRequired(), NumberRange(min=1, max=sale_events.INTERVAL_MAX)],
    )
    soft_close_seconds = IntegerField(
        _l("Soft close (seconds)"),
        default=120,
        validators=[InputRequired(), NumberRange(min=0, max=sale_events.SOFT_CLOSE_MAX)],
        description=_l("A bid this close to a lot's end extends it by this much; the later lots move along."),
    )
    premium_percent = IntegerField(
        _l("Buyer's premium (percent)"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=sale_events.PREMIUM_MAX_BPS // 100)],
    )
    deposit_percent = IntegerField(
        _l("Deposit (percent of the buying power)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
        description=_l("Bidders ask for a buying power and this share of it is held in their wallet until the end."),
    )
    deposit_minimum = StringField(
        _l("Least deposit (R$)"),
        validators=[Optional(), Length(max=20)],
        description=_l("Held whatever the buying power; alone, it is a fixed deposit."),
    )
    requires_approval = BooleanField(_l("An admin approves each registration (verified e-mail and CPF)"))

    def validate_deposit_minimum(self, field: StringField) -> None:
        if field.data:
            try:
                parse_brl(field.data)
            except InvalidAmount as exc:
                raise ValidationError(localize(str(exc))) from None


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event() -> Any:
    form = EventForm()
    if form.validate_on_submit():
        command = sale_events.CreateEvent(
            organizer_id=signed_in_user().id,
            title=form.title.data,
            description=(form.description.data or "").strip(),
            terms=form.terms.data,
            first_close_at=clock.now() + timedelta(minutes=form.first_close_in.data),
            lot_interval_seconds=form.lot_interval_seconds.data,
            soft_close_seconds=form.soft_close_seconds.data,
            premium_bps=(form.premium_percent.data or 0) * 100,
            deposit_bps=form.deposit_percent.data * 100 if form.deposit_percent.data else None,
            deposit_minimum=parse_brl(form.deposit_minimum.data) if form.deposit_minimum.data else None,
            requires_approval=form.requires_approval.data,
        )
        try:
            event_id = perform(lambda uow: sale_events.create_event(uow, command).id)
        except ServiceError as exc:
            field = getattr(form, str(exc.details.get("field", "")), None) or form.title
            field.errors = [*field.errors, localize(exc.message)]
        else:
            log.info("event=sale_event_created event_id=%s organizer_id=%s", event_id, command.organizer_id)
            flash(_("Your event is created: add its lots."), "success")
            return redirect(url_for("events.detail", event_id=event_id))
    status = 400 if request.method == "POST" else 200
    return render_template("events/new.html", form=form), status


def _page(
    session: Any, event_id: int, viewer_id: int | None, page: int, filters: catalogue.Filters
) -> dict[str, Any] | None:
    found = catalogue.event_page(session, event_id, viewer_id, page, filters)
    if found is not None and viewer_id is not None:
        found["registration"] = sale_events.registration_of(session, found["event"], viewer_id)
        found["accepted"] = found["registration"].terms_version if found["registration"] else None
        if viewer_id == found["event"].organizer_id:
            found["addable"] = catalogue.lots_to_add(session, found["event"])
        found["bought"], found["sold"] = invoices.roles_in_event(session, event_id, viewer_id)
    return found


@bp.get("/events/<int:event_id>")
def detail(event_id: int) -> Any:
    user = current_user()
    page = request.args.get("page", 1, type=int) or 1
    filters = catalogue.Filters.parse(request.args.get("show"), request.args.get("mine"), request.args.get("q"))
    found = read(_page, event_id, user.id if user else None, page, filters)
    if found is None:
        abort(404)
    premium = format_percent(found["event"].premium_bps / 10_000, "#,##0.##%")
    deposit_percent = format_percent((found["event"].deposit_bps or 0) / 10_000, "#,##0.##%")
    return render_template("events/detail.html", premium=premium, deposit_percent=deposit_percent, **found)


@bp.post("/events/<int:event_id>/lots")
@login_required
def add_lot(event_id: int) -> Any:
    auction_id = request.form.get("auction_id", type=int)
    if auction_id is None:
        flash(_("Choose an auction to add."), "error")
        return redirect(url_for("events.detail", event_id=event_id)), 303
    try:
        number = perform(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, signed_in_user().id))
    except ServiceError as exc:
        flash(localize(exc.message), "error")
    else:
        flash(_("Added as lot %(number)d.", number=number), "success")
    return redirect(url_for("events.detail", event_id=event_id)), 303


@bp.post("/events/<int:event_id>/register")
@login_required
def register(event_id: int) -> Any:
    """Habilitação: the bidder accepts the version of the terms the page showed them and, when the event takes a
    deposit, asks for a buying power (its deposit is held at once)."""
    version = request.form.get("terms_version", type=int)
    if request.form.get("accept") != "yes" or version is None:
        flash(_("Accept the terms of sale to register."), "error")
        return redirect(url_for("events.detail", event_id=event_id)), 303
    buying_power = None
    if typed := (request.form.get("buying_power") or "").strip():
        try:
            buying_power = parse_brl(typed)
        except InvalidAmount as exc:
            flash(localize(str(exc)), "error")
            return redirect(url_for("events.detail", event_id=event_id)), 303
    try:
        command = sale_events.Register(event_id, signed_in_user().id, version, buying_power)
        perform(sale_events.register, command)
    except ServiceError as exc:
        flash(
            _("Enter the buying power you ask for.")
            if exc.details.get("field") == "buying_power"
            else localize(exc.message),
            "error",
        )
    else:
        log.info("event=sale_event_registered event_id=%s user_id=%s terms=%s", event_id, signed_in_user().id, version)
        flash(_("You are registered to bid in this event."), "success")
    return redirect(url_for("events.detail", event_id=event_id)), 303

"""The order page (buyer, seller, admins) and its forms: address, shipped, receipt, dispute, cancel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ... import clock
from ...orders import invoices, queries, ratings
from ...orders import service as orders
from ...orders.rules import OrderStatus
from ..usecases import perform, read
from .auth import login_required, signed_in_user

bp = Blueprint("orders_pages", __name__)
ADDRESS_FIELDS = ("recipient", "line1", "line2", "city", "state", "postal_code")
STATUS_LABELS = {
    OrderStatus.PAID: _l("Paid · waiting for shipping"),
    OrderStatus.SHIPPED: _l("Shipped"),
    OrderStatus.DISPUTED: _l("In dispute"),
    OrderStatus.COMPLETED: _l("Completed"),
    OrderStatus.REFUNDED: _l("Refunded"),
    OrderStatus.CANCELLED: _l("Cancelled"),
}
# How an order was closed (orders.resolution).
RESOLUTIONS = {
    "confirmed": _l("the buyer confirmed receipt"),
    "automatic": _l("released to the seller automatically"),
    "release": _l("dispute decided for the seller"),
    "refund": _l("dispute decided for the buyer"),
    "cancelled": _l("cancelled by the buyer: not shipped in time"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))  # type: ignore[call-overload]


def resolution_label(resolution: str | None) -> str:
    return str(RESOLUTIONS.get(resolution or "", resolution or ""))


def _page(session: Session, order_id: int, user_id: int, ship_days: int) -> dict[str, Any]:
    order = queries.order_for(session, order_id, user_id)
    return {
        "order": order,
        "rating": ratings.rating_of_order(session, order_id),
        "saved": queries.saved_address(session, order.buyer_id) if user_id == order.buyer_id else None,
        "ship_by": orders.ship_by(order, ship_days),
    }


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int) -> Any:
    user = signed_in_user()
    page = read(_page, order_id, user.id, current_app.config["ORDER_SHIP_DAYS"])
    return render_template(
        "orders/order.html",
        **page,
        me=user,
        now=clock.now(),
        status_label=status_label,
        resolution_label=resolution_label,
        fields=ADDRESS_FIELDS,
    )


def _done(order_id: int, message: str) -> Any:
    flash(message, "success")
    return redirect(url_for("orders_pages.order", order_id=order_id), code=303)


@bp.post("/orders/<int:order_id>/address")
@login_required
def address(order_id: int) -> Any:
    fields = {name: request.form.get(name, "") for name in ADDRESS_FIELDS}
    command = orders.SetAddress(order_id, signed_in_user().id, fields, request.form.get("save") == "1")
    perform(orders.set_address, command)
    return _done(order_id, _("Delivery address saved."))


@bp.post("/orders/<int:order_id>/ship")
@login_required
def ship(order_id: int) -> Any:
    command = orders.Ship(
        order_id,
        signed_in_user().id,
        request.form.get("carrier", ""),
        request.form.get("tracking_code", ""),
        current_app.config["ORDER_RELEASE_DAYS"],
    )
    perform(orders.ship, command)
    return _done(order_id, _("Marked as shipped; the buyer was told."))


@bp.post("/orders/<int:order_id>/confirm")
@login_required
def confirm(order_id: int) -> Any:
    """Receipt pays the seller and ends the right to dispute: the first post shows what it does and asks again
    (a page, so it works without JavaScript); only the second, with `confirmed=yes`, releases the escrow."""
    user = signed_in_user()
    if request.form.get("confirmed") != "yes":
        page = read(_page, order_id, user.id, current_app.config["ORDER_SHIP_DAYS"])
        order = page["order"]
        if order.buyer_id == user.id and order.status == OrderStatus.SHIPPED:
            return render_template("orders/confirm_receipt.html", order=order)
    perform(orders.confirm, orders.OrderAction(order_id, user.id))
    return _done(order_id, _("Receipt confirmed; the seller is paid."))


@bp.post("/orders/<int:order_id>/dispute")
@login_required
def dispute(order_id: int) -> Any:
    perform(orders.dispute, orders.OpenDispute(order_id, signed_in_user().id, request.form.get("reason", "")))
    return _done(order_id, _("Dispute opened; an admin will decide. The money stays in escrow."))


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel(order_id: int) -> Any:
    command = orders.CancelOrder(order_id, signed_in_user().id, current_app.config["ORDER_SHIP_DAYS"])
    perform(orders.cancel, command)
    return _done(order_id, _("Order cancelled; the money is back in your wallet."))


@bp.post("/orders/<int:order_id>/rating")
@login_required
def rate(order_id: int) -> Any:
    stars = request.form.get("stars", "")
    command = ratings.RateSeller(
        order_id, signed_in_user().id, int(stars) if stars.isdigit() else 0, request.form.get("comment", "")
    )
    perform(ratings.rate, command)
    return _done(order_id, _("Thank you: your rating is on the seller's profile."))


@bp.post("/orders/<int:order_id>/rating/reply")
@login_required
def reply(order_id: int) -> Any:
    perform(ratings.reply, ratings.ReplyToRating(order_id, signed_in_user().id, request.form.get("reply", "")))
    return _done(order_id, _("Your answer is on your profile, under the rating."))


@bp.get("/events/<int:event_id>/invoice")
@login_required
def invoice(event_id: int) -> Any:
    """The buyer's invoice (nota de arremate) for the event: their own, or `?buyer=` for its sellers and admins."""
    user = signed_in_user()
    buyer_id = request.args.get("buyer", user.id, type=int)
    found = read(invoices.invoice, event_id, buyer_id, user.id)
    return render_template("orders/invoice.html", invoice=found, me=user, status_label=status_label)


@bp.get("/events/<int:event_id>/shipments")
@login_required
def shipments(event_id: int) -> Any:
    """The seller's sales in the event, one shipment per buyer."""
    found = read(invoices.shipments, event_id, signed_in_user().id)
    return render_template(
        "orders/shipments.html", event_id=event_id, shipments=found, status_label=status_label, fields=ADDRESS_FIELDS
    )


@bp.post("/events/<int:event_id>/shipments/<int:buyer_id>")
@login_required
def ship_all(event_id: int, buyer_id: int) -> Any:
    command = orders.ShipAll(
        event_id,
        buyer_id,
        signed_in_user().id,
        request.form.get("carrier", ""),
        request.form.get("tracking_code", ""),
        current_app.config["ORDER_RELEASE_DAYS"],
    )
    shipped = perform(orders.ship_all, command)
    flash(_("%(count)d orders marked shipped; the buyer was told.", count=len(shipped)), "success")
    return redirect(url_for("orders_pages.shipments", event_id=event_id), code=303)

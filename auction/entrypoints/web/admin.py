"""Admin pages (admins only): users, auctions, payments, and every Asaas webhook delivery."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...auctions import closing, listing
from ...errors import NotFound, ServiceError
from ...extensions import get_asaas
from ...mail import queries as mail_queries
from ...models import Auction, Payment, User, Wallet, WebhookDelivery
from ...money import parse_brl
from ...payments import cash, links, queries, quota
from ...payments.deliveries import reprocess_delivery
from ...payments.events import CreditPolicy
from ...payments.levels import Outcome
from ...payments.topups import TopUpLimits
from ...payouts import deliveries as transfer_deliveries
from ...uow import UnitOfWork
from ..i18n import localize
from ..usecases import database, perform, read
from .auth import admin_required, signed_in_user

bp = Blueprint("admin", __name__, url_prefix="/admin")
# A webhook delivery's outcome (webhook_deliveries.outcome) as an admin reads it.
OUTCOMES = {
    Outcome.RECEIVED: _l("Received"),
    Outcome.APPLIED: _l("Applied"),
    Outcome.RECORDED: _l("Recorded"),
    Outcome.UNMATCHED: _l("Unmatched"),
    Outcome.FAILED: _l("Failed"),
    Outcome.DUPLICATE: _l("Duplicate"),
    Outcome.ABANDONED: _l("Abandoned"),
    Outcome.STORED: _l("Stored"),
}


def outcome_label(outcome: str | None) -> str:
    return str(OUTCOMES.get(outcome or "", outcome or ""))  # type: ignore[call-overload]


log = logging.getLogger(__name__)
PAGE_SIZE = 200


@bp.before_request
@admin_required
def _admins_only() -> None:
    """Every admin page requires an admin (403 for anyone else, login for anonymous)."""


def _counts(session: Session) -> dict[str, int]:
    def count(statement: Any) -> int:
        return session.scalar(statement) or 0

    return {
        "users": count(select(func.count(User.id))),
        "open_auctions": count(select(func.count(Auction.id)).where(Auction.status == "open")),
        "unmatched": count(select(func.count(Payment.id)).where(Payment.user_id.is_(None))),
        "failed": count(select(func.count(WebhookDelivery.id)).where(WebhookDelivery.outcome == Outcome.FAILED)),
        "mail_stuck": sum(n for status, n in mail_queries.counts(session).items() if status in ("failed", "dead")),
    }


@bp.get("/")
def dashboard() -> Any:
    return render_template("admin/dashboard.html", counts=read(_counts))


def _users(session: Session) -> list[Any]:
    return list(
        session.execute(
            select(User.id, User.username, User.email, User.is_admin, User.created_at, Wallet.available, Wallet.held)
            .outerjoin(Wallet, Wallet.user_id == User.id)
            .order_by(User.id.desc())
            .limit(PAGE_SIZE)
        ).all()
    )


@bp.get("/users")
def users() -> Any:
    return render_template("admin/users.html", users=read(_users))


def _auctions(session: Session) -> list[Any]:
    seller = User.__table__.alias("seller")
    return list(
        session.execute(
            select(Auction, seller.c.username)
            .join(seller, seller.c.id == Auction.seller_id)
            .order_by(Auction.status != "open", Auction.id.desc())
            .limit(PAGE_SIZE)
        ).all()
    )


@bp.get("/auctions")
def auctions() -> Any:
    return render_template("admin/auctions.html", rows=read(_auctions))


def _auction_action(fn: Any, *args: Any, done: str) -> Any:
    """Run one auction use case; a refusal goes back to the page flashed (web/errors.py)."""
    user = signed_in_user()
    perform(fn, *args)
    log.info("event=admin_auction_action action=%s args=%s admin_id=%s", fn.__name__, args, user.id)
    flash(done, "success")
    return redirect(url_for("admin.auctions"))


@bp.post("/auctions/<int:auction_id>/cancel")
def cancel_auction(auction_id: int) -> Any:
    user = signed_in_user()
    return _auction_action(listing.cancel, auction_id, user.id, done=_("Auction cancelled."))


@bp.post("/auctions/<int:auction_id>/finish")
def finish_auction(auction_id: int) -> Any:
    user = signed_in_user()
    fee = current_app.config["PLATFORM_FEE_BPS"]
    command = closing.FinishAuction(auction_id, user.id, fee)
    return _auction_action(closing.finish, command, done=_("Auction finished."))


def _payments(session: Session, unmatched_only: bool, budget: int) -> dict[str, Any]:
    statement = select(Payment, User.username).outerjoin(User, User.id == Payment.user_id).order_by(Payment.id.desc())
    if unmatched_only:
        statement = statement.where(Payment.user_id.is_(None))
    return {
        "rows": list(session.execute(statement.limit(PAGE_SIZE)).all()),
        "links": queries.list_payment_links(session),
        "cash_receipts": cash.cash_receipts(session),
        "usage": quota.usage(session, budget),
        "failed": queries.failed_delivery_count(session),
    }


@bp.get("/payments")
def payments() -> Any:
    unmatched_only = request.args.get("unmatched") == "1"
    page = read(_payments, unmatched_only, current_app.config["ASAAS_RECONCILE_BUDGET"])
    return render_template("admin/payments.html", **page, unmatched_only=unmatched_only)


def _user_id(session: Session, username: str) -> int:
    user_id = session.scalar(select(User.id).where(User.username == username.strip()))
    if user_id is None:
        raise NotFound(f"no user named {username.strip()!r}")
    return user_id


def _assign(uow: UnitOfWork, payment_id: int, username: str, policy: CreditPolicy) -> Any:
    command = links.AssignPayment(payment_id, _user_id(uow.session, username), policy)
    return links.assign_unmatched(uow, command)


@bp.post("/payments/<int:payment_id>/assign")
def assign_payment(payment_id: int) -> Any:
    try:
        policy = CreditPolicy.from_config(current_app.config)
        perform(_assign, payment_id, request.form.get("username") or "", policy)
    except ServiceError as exc:
        flash(localize(exc.message), "error")
    else:
        flash(_("Payment #%(id)s assigned.", id=payment_id), "success")
    return redirect(url_for("admin.payments", unmatched=1))


@bp.post("/payment-links")
def create_payment_link() -> Any:
    user = signed_in_user()
    try:
        amount = parse_brl(request.form.get("amount") or "")
        command = links.CreatePaymentLink(
            user.id, request.form.get("name") or "", amount, TopUpLimits.from_config(current_app.config)
        )
        links.create_payment_link(database(), get_asaas(), command)
    except (ValueError, ServiceError) as exc:
        flash(_("Could not create the link: %(reason)s", reason=localize(str(getattr(exc, "message", exc)))), "error")
    else:
        flash(_("Payment link created."), "success")
    return redirect(url_for("admin.payments"))


@bp.get("/deliveries")
def deliveries() -> Any:
    outcome = request.args.get("outcome") or None
    rows = read(lambda s: queries.list_deliveries(s, outcome=outcome, limit=PAGE_SIZE))
    return render_template("admin/deliveries.html", rows=rows, outcome=outcome)


@bp.get("/deliveries/<int:delivery_id>")
def delivery(delivery_id: int) -> Any:
    try:
        row = read(queries.get_delivery, delivery_id)
    except NotFound:
        abort(404)
    return render_template("admin/delivery.html", d=row, body=redact(row["raw_body"]))


@bp.post("/deliveries/<int:delivery_id>/reprocess")
def reprocess(delivery_id: int) -> Any:
    user = signed_in_user()
    event = read(lambda s: s.scalar(select(WebhookDelivery.event).where(WebhookDelivery.id == delivery_id)))
    if event and event.startswith(transfer_deliveries.PREFIX):  # a TRANSFER_* delivery (auction.payouts)
        outcome = perform(transfer_deliveries.process, delivery_id, True)
        log.info("event=admin_reprocess delivery_id=%s admin_id=%s outcome=%s", delivery_id, user.id, outcome)
        flash(_("Re-processed: %(outcome)s.", outcome=outcome_label(outcome)), "success")
        return redirect(url_for("admin.delivery", delivery_id=delivery_id))
    try:
        result = reprocess_delivery(database(), delivery_id, policy=CreditPolicy.from_config(current_app.config))
    except NotFound:
        abort(404)
    log.info("event=admin_reprocess delivery_id=%s admin_id=%s outcome=%s", delivery_id, user.id, result.outcome)
    category = "error" if result.outcome == Outcome.FAILED else "success"
    outcome = outcome_label(result.outcome) + (f" ({result.detail})" if result.detail else "")
    flash(_("Re-processed: %(outcome)s.", outcome=outcome), category)
    return redirect(url_for("admin.delivery", delivery_id=delivery_id))


def redact(raw_body: str) -> str:
    """The raw body as stored, with the webhook token blanked should a sender ever have put it there."""
    token = current_app.config["ASAAS_WEBHOOK_TOKEN"]
    return raw_body.replace(token, "[redacted]") if token else raw_body


def _mail(session: Session) -> dict[str, Any]:
    unsent = mail_queries.latest(session, statuses=("queued", "failed", "dead"))
    return {"counts": mail_queries.counts(session), "rows": unsent}


@bp.get("/mail")
def mail() -> Any:
    """The outbox: how many messages wait, failed (to be tried again), were sent, or gave up."""
    return render_template("admin/mail.html", **read(_mail))


@bp.post("/mail/<int:mail_id>/send-again")
def mail_send_again(mail_id: int) -> Any:
    if read(mail_queries.send_again, mail_id):
        log.info("event=admin_mail_send_again mail_id=%s admin_id=%s", mail_id, signed_in_user().id)
        flash(_("The message is queued again."), "success")
    else:
        flash(_("Only a message that gave up can be sent again."), "error")
    return redirect(url_for("admin.mail"))

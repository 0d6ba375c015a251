"""LGPD: consent to the versioned terms and privacy notice, a copy of one's data, and deleting an account.

Deleting anonymises: the person's identifying data goes (username, e-mail, password, sessions, two-factor
secrets, delivery address, watches, notifications, the e-mail they were sent), while the records the law or
Asaas reconciliation needs stay, tied to the anonymised account: ledger entries and balances, payments (Asaas
ids, amounts), orders (without the delivery address), withdrawals (without the PIX key), bids, and the CPF/CNPJ
that identifies the holder of those payments. docs/accounts.md says why for each.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import lock_row
from ..errors import ServiceError
from ..models import (
    Auction,
    Bid,
    Consent,
    DeliveryAddress,
    Hold,
    LedgerEntry,
    LoginSession,
    Notification,
    Order,
    OutgoingMail,
    Payment,
    RecoveryCode,
    User,
    Wallet,
    Watch,
    Withdrawal,
)
from ..uow import UnitOfWork
from .service import check_password

log = logging.getLogger(__name__)

# The documents a new account accepts, and their versions (a new version: a new date, and its page's text).
TERMS_VERSION = "2026-12-07"
PRIVACY_VERSION = "2026-12-07"
CURRENT_VERSIONS = {"terms": TERMS_VERSION, "privacy": PRIVACY_VERSION}

# Statuses that are not over yet (orders.rules and payouts.withdrawals name them; areas do not import each other).
OPEN_ORDERS = ("paid", "shipped", "disputed")
WITHDRAWALS_IN_FLIGHT = ("awaiting_approval", "queued", "submitting", "pending")
LIVE_AUCTIONS = ("scheduled", "open")


class AccountNotDeletable(ServiceError, code="account_not_deletable", http_status=409):
    """The account still has money, holds, open orders, auctions or withdrawals on their way."""


def _iso(value: Any) -> Any:
    return clock.isoformat(value) if hasattr(value, "tzinfo") else value


def _rows(session: Session, model: Any, *criteria: Any, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = session.scalars(select(model).where(*criteria).order_by(model.id)).all()
    return [{name: _iso(getattr(row, name)) for name in columns} for row in rows]


def export(session: Session, user_id: int) -> dict[str, Any]:
    """Everything the site keeps about the person, as JSON-ready values (LGPD art. 18, II and V)."""
    user = session.get(User, user_id)
    if user is None:
        raise ServiceError("no such user")
    wallet_row = session.scalars(select(Wallet).where(Wallet.user_id == user_id)).first()
    address = session.scalars(select(DeliveryAddress).where(DeliveryAddress.user_id == user_id)).first()
    return {
        "profile": {
            "username": user.username,
            "email": user.email,
            "email_verified_at": _iso(user.email_verified_at),
            "cpf_cnpj": user.cpf_cnpj,
            "language": user.locale,
            "created_at": _iso(user.created_at),
            "two_factor": user.totp_enabled_at is not None,
            "delivery_address": None
            if address is None
            else {k: getattr(address, k) for k in ("recipient", "line1", "line2", "city", "state", "postal_code")},
        },
        "consents": _rows(session, Consent, Consent.user_id == user_id, columns=("document", "version", "accepted_at")),
        "wallet": None
        if wallet_row is None
        else {
            "available_cents": wallet_row.available,
            "held_cents": wallet_row.held,
            "frozen_cents": wallet_row.frozen,
        },
        "ledger": _ledger(session, wallet_row.id) if wallet_row else [],
        "bids": _rows(
            session, Bid, Bid.bidder_id == user_id, columns=("auction_id", "amount", "max_amount", "created_at")
        ),
        "payments": _rows(
            session,
            Payment,
            Payment.user_id == user_id,
            columns=("id", "asaas_payment_id", "value", "billing_type", "status", "credited", "created_at"),
        ),
        "orders": _rows(
            session,
            Order,
            or_(Order.buyer_id == user_id, Order.seller_id == user_id),
            columns=("id", "auction_id", "buyer_id", "seller_id", "price", "status", "created_at"),
        ),
        "withdrawals": _rows(
            session,
            Withdrawal,
            Withdrawal.user_id == user_id,
            columns=("id", "amount", "pix_key_type", "pix_key", "status", "created_at"),
        ),
        "notifications": _rows(
            session, Notification, Notification.user_id == user_id, columns=("kind", "message", "created_at", "read_at")
        ),
        "sessions": _rows(
            session,
            LoginSession,
            LoginSession.user_id == user_id,
            columns=("created_at", "revoked_at", "user_agent", "ip_address"),
        ),
        "exported_at": clock.isoformat(clock.now()),
    }


def _ledger(session: Session, wallet_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(LedgerEntry).where(LedgerEntry.wallet_id == wallet_id).order_by(LedgerEntry.id)).all()
    return [{"transaction_id": r.transaction_id, "bucket": r.bucket, "amount": r.amount} for r in rows]


def deletion_blockers(session: Session, user_id: int) -> list[str]:
    """What must end before the account can be deleted (English, translated where shown); empty when nothing."""
    blockers = []
    wallet_row = session.scalars(select(Wallet).where(Wallet.user_id == user_id)).first()
    if wallet_row is not None and (wallet_row.available or wallet_row.held or wallet_row.frozen):
        blockers.append("your wallet still has money: withdraw it first")
    if wallet_row is not None and session.scalar(
        select(func.count(Hold.id)).where(Hold.wallet_id == wallet_row.id, Hold.status == "open", Hold.amount > 0)
    ):
        blockers.append("money is held for your bids on auctions that have not ended")
    if session.scalar(
        select(func.count(Order.id)).where(
            or_(Order.buyer_id == user_id, Order.seller_id == user_id), Order.status.in_(OPEN_ORDERS)
        )
    ):
        blockers.append("you have orders that are not finished")
    if session.scalar(
        select(func.count(Auction.id)).where(Auction.seller_id == user_id, Auction.status.in_(LIVE_AUCTIONS))
    ):
        blockers.append("you are selling in auctions that have not ended")
    if session.scalar(
        select(func.count(Withdrawal.id)).where(
            Withdrawal.user_id == user_id, Withdrawal.status.in_(WITHDRAWALS_IN_FLIGHT)
        )
    ):
        blockers.append("a withdrawal of yours is still on its way")
    return blockers


def delete_account(uow: UnitOfWork, user_id: int, password: str) -> list[str]:
    """Anonymise the account (the password confirms); what still blocks it, or [] when done."""
    session = uow.session
    user = lock_row(session, User, User.id == user_id, User.deleted_at.is_(None))
    if user is None:
        raise ServiceError("no such user")
    if not check_password(user, password):
        return ["the password is not right"]
    blockers = deletion_blockers(session, user_id)
    if blockers:
        return blockers
    now = clock.now()
    user.username = f"removed-{user.id}"
    user.email = f"removed-{user.id}@invalid"
    user.password_hash = "!"  # matches no password
    user.email_verified_at = user.totp_secret = user.totp_enabled_at = user.locale = None
    user.deleted_at = user.security_changed_at = now
    for model in (LoginSession, RecoveryCode, DeliveryAddress, Watch, Notification):
        session.execute(delete(model).where(model.user_id == user_id))
    session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.user_id == user_id)
        .values(user_id=None, to_address="removed@invalid", subject="", text_body="", html_body="", headers=None)
    )
    session.execute(update(Withdrawal).where(Withdrawal.user_id == user_id).values(pix_key="removed"))
    session.execute(
        update(Order)
        .where(Order.buyer_id == user_id)
        .values(
            ship_recipient=None,
            ship_line1=None,
            ship_line2=None,
            ship_city=None,
            ship_state=None,
            ship_postal_code=None,
        )
    )
    log.info("event=account_deleted user_id=%s", user_id)
    return []

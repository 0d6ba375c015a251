"""The data model: typed SQLAlchemy 2.x mappings, the source of truth for the schema.

Over 700 lines on purpose: every table in one module is what Alembic's autogenerate, the schema drift
tests and sql/schema.sql are generated from, and what a reader checks a column against; the tables are
plain declarations with no logic.

Money columns are BIGINT integer cents. Every table is InnoDB/utf8mb4 on MariaDB.
Unique constraints carry the idempotency rules (one Asaas customer per user, one
row per Asaas payment, one row per webhook event, one ledger transaction per key).
`sql/schema.sql` and the Alembic revisions are checked against these classes.
Boolean server defaults are text("0")/text("1"), what MariaDB reports back, so
Alembic's autogenerate sees no change where there is none.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .db import NAMING_CONVENTION, UTCDateTime, table_args


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def money(nullable: bool = False, default: int | None = 0) -> Any:
    if default is None:
        return mapped_column(BigInteger, nullable=nullable)
    return mapped_column(BigInteger, nullable=nullable, default=default, server_default=text(str(default)))


class User(Base):
    __tablename__ = "users"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    cpf_cnpj: Mapped[str | None] = mapped_column(String(14))
    asaas_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Set while one request creates the Asaas customer, so a concurrent first top-up waits (auction.payments.customers).
    asaas_customer_claimed_at: Mapped[datetime | None]
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    created_at: Mapped[datetime]
    # Accounts (auction/accounts): the address proven by its link; the language e-mail is written in.
    email_verified_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(5))
    # The last change of password, e-mail or two-factor login: withdrawals wait WITHDRAWAL_COOLDOWN_HOURS after it.
    security_changed_at: Mapped[datetime | None]
    # Failed logins in a row; at LOCK_AFTER the account is locked until locked_until.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None]
    # TOTP (pyotp) secret, base32; the second factor is on from totp_enabled_at.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    # Anonymised on the owner's request (LGPD); the row stays for the ledger's and orders' references.
    deleted_at: Mapped[datetime | None]

    wallet: Mapped[Wallet | None] = relationship(back_populates="user", uselist=False)


class LoginSession(Base):
    """A server-side record of a login, so logout really ends it."""

    __tablename__ = "login_sessions"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # What the owner sees in the list of their sessions, and how a new device is told from a known one.
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    device_hash: Mapped[str | None] = mapped_column(String(64))


class AuctionStatus(StrEnum):
    """scheduled -> open -> finished, or cancelled (by an admin, before any bid)."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class SaleEvent(Base):
    """A catalogue of lots (auctions) closing one after another (docs/events.md; auctions/sale_events.py)."""

    __tablename__ = "sale_events"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The seller whose lots these are, or an admin for a house sale (lots of any seller).
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    # The edital: a change of text is a new version, which bidders registered before accept again.
    terms: Mapped[str] = mapped_column(Text)
    terms_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    first_close_at: Mapped[datetime]
    lot_interval_seconds: Mapped[int] = mapped_column(Integer)
    soft_close_seconds: Mapped[int] = mapped_column(Integer)
    # Buyer's premium (prêmio do comprador) in basis points of the hammer price; 0: none.
    premium_bps: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Deposit (caução) in basis points of the buying power a bidder asks for; NULL: no deposit.
    deposit_bps: Mapped[int | None] = mapped_column(Integer)
    # The least deposit whatever the buying power (a fixed caução when deposit_bps is NULL); NULL: none.
    deposit_minimum: Mapped[int | None] = money(nullable=True, default=None)
    # Registrations wait for an admin's approval (a verified e-mail and a CPF) before their bids count.
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    created_at: Mapped[datetime]


class EventRegistration(Base):
    """A bidder's habilitação for a sale event: the version of its terms they accepted (bids need the current one)."""

    __tablename__ = "event_registrations"
    __table_args__ = table_args(UniqueConstraint("event_id", "user_id", name="uq_event_registrations_event_user"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("sale_events.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    terms_version: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[datetime]
    # sale_events.RegistrationStatus: approved | pending (an admin decides) | rejected
    status: Mapped[str] = mapped_column(String(16), default="approved", server_default="approved")
    # The most the bidder may be committed to in the event (winning bids plus premium); NULL: no limit.
    buying_power: Mapped[int | None] = money(nullable=True, default=None)
    # The caução held now on the `deposits` account for this registration (0 once released or forfeited).
    deposit: Mapped[int] = money()
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]


class Auction(Base):
    __tablename__ = "auctions"
    __table_args__ = table_args(
        Index("ix_auctions_status_ends_at", "status", "ends_at"),
        UniqueConstraint("event_id", "lot_number", name="uq_auctions_event_lot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    starting_price: Mapped[int] = money(default=None)
    # NULL: the increment comes from the price-band table (auction.auctions.rules).
    min_increment: Mapped[int | None] = money(nullable=True, default=None)
    reserve_price: Mapped[int | None] = money(nullable=True, default=None)
    # A bidder may buy at this price at once while no bid has reached the reserve (auctions/buy_now.py).
    buy_now_price: Mapped[int | None] = money(nullable=True, default=None)
    # What buyers look for before bidding (auctions/listing.py): the sell form requires them; auctions listed
    # before they existed have NULL and their page says nothing.
    item_condition: Mapped[str | None] = mapped_column(String(16))  # listing.Condition
    delivery: Mapped[str | None] = mapped_column(String(8))  # listing.Delivery: ship | pickup
    shipping_cost: Mapped[int | None] = money(nullable=True, default=None)  # with ship; 0 is free shipping
    city: Mapped[str | None] = mapped_column(String(80))  # where the item is (and is picked up)
    uf: Mapped[str | None] = mapped_column(String(2))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(
        String(16), default=AuctionStatus.SCHEDULED.value, server_default=AuctionStatus.SCHEDULED.value
    )
    current_price: Mapped[int | None] = money(nullable=True, default=None)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The leader's proxy maximum: what is held on the leader's wallet.
    leader_max: Mapped[int | None] = money(nullable=True, default=None)
    bid_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Grows by one with every committed change the room hears of (a batch of bids, opening, finishing,
    # cancelling): messages carry it, so clients and the join cache keep only the newest state.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    final_price: Mapped[int | None] = money(nullable=True, default=None)
    reserve_met: Mapped[bool | None] = mapped_column(Boolean)
    # How many of the ending-soon notices (ENDING_SOON_SECONDS, largest first) were sent: each goes once.
    ending_soon_stage: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # A lot of a sale event (at most one), numbered from 1 in closing order; NULL for a single auction.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("sale_events.id"))
    lot_number: Mapped[int | None] = mapped_column(Integer)
    # An unsold lot relisted by its seller: the new auction names the old one, which stays as history (once).
    relisted_from_id: Mapped[int | None] = mapped_column(ForeignKey("auctions.id"), unique=True)

    seller: Mapped[User] = relationship(foreign_keys=[seller_id])
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id])
    winner: Mapped[User | None] = relationship(foreign_keys=[winner_id])
    photos: Mapped[list[AuctionPhoto]] = relationship(order_by="AuctionPhoto.position")


class AuctionPhoto(Base):
    __tablename__ = "auction_photos"
    __table_args__ = table_args(UniqueConstraint("auction_id", "position", name="uq_auction_photos_position"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)


class Bid(Base):
    __tablename__ = "bids"
    __table_args__ = table_args(Index("ix_bids_auction_id_id", "auction_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"))
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = money(default=None)
    max_amount: Mapped[int | None] = money(nullable=True, default=None)
    # True when the server placed it for a bidder's proxy maximum.
    is_proxy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    # True when the leader raised their own maximum: kept for them and the ledger, never shown to others.
    is_raise: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    created_at: Mapped[datetime]

    bidder: Mapped[User] = relationship()


class Watch(Base):
    __tablename__ = "watches"
    __table_args__ = table_args(UniqueConstraint("user_id", "auction_id", name="uq_watches_user_auction"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]


class Wallet(Base):
    """A ledger account. Users have one each; `settlement` and `fees` are the platform's.

    `available` and `held` are caches of the ledger, written only by auction.wallet.
    """

    __tablename__ = "wallets"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    # user | settlement | fees
    kind: Mapped[str] = mapped_column(String(16), default="user", server_default="user")
    # Unique name of a platform account (NULL for user wallets).
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    available: Mapped[int] = money()
    held: Mapped[int] = money()
    # Not spendable while a refund or chargeback of a payment is open (auction.wallet.freezes).
    frozen: Mapped[int] = money()
    updated_at: Mapped[datetime]

    user: Mapped[User | None] = relationship(back_populates="wallet")


class LedgerTransaction(Base):
    """One money movement: its entries sum to zero. Idempotent by `idempotency_key`."""

    __tablename__ = "ledger_transactions"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(191), unique=True)
    # wallet.Kind: credit | reverse | hold | release | capture | fee (the platform fee taken from a sale),
    # or wallet.freezes: freeze | unfreeze
    kind: Mapped[str] = mapped_column(String(16))
    # what a person reads: bid_hold, released, won, sale, fee, top_up, refund, chargeback ...
    reason: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = money(default=None)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"), index=True)
    auction_id: Mapped[int | None] = mapped_column(ForeignKey("auctions.id"), index=True)
    bid_id: Mapped[int | None] = mapped_column(ForeignKey("bids.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    # Set when this movement left the wallet with a negative available balance.
    created_debt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    created_at: Mapped[datetime]

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="transaction")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = table_args(Index("ix_ledger_entries_wallet_id_id", "wallet_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"))
    # wallet.Bucket: available | held, or wallet.freezes.FROZEN
    bucket: Mapped[str] = mapped_column(String(9))
    # Signed: positive adds to the account's bucket, negative takes from it.
    amount: Mapped[int] = money(default=None)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")


class Hold(Base):
    """Funds reserved on one wallet for one auction (the leader's proxy maximum)."""

    __tablename__ = "holds"
    __table_args__ = table_args(UniqueConstraint("wallet_id", "auction_id", name="uq_holds_wallet_auction"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"))
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"), index=True)
    amount: Mapped[int] = money()
    # wallet.HoldStatus: open | released | captured
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    updated_at: Mapped[datetime]


class PaymentLink(Base):
    __tablename__ = "payment_links"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asaas_link_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    value: Mapped[int] = money(default=None)
    url: Mapped[str | None] = mapped_column(String(512))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("1"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Payment(Base):
    """A wallet top-up: a charge this site created, or one that arrived through a link."""

    __tablename__ = "payments"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL while unmatched (a link payment nobody could be matched to).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    external_reference: Mapped[str | None] = mapped_column(String(100), unique=True)
    asaas_payment_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    payment_link_id: Mapped[int | None] = mapped_column(ForeignKey("payment_links.id"), index=True)
    asaas_customer_id: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[int] = money(default=None)
    billing_type: Mapped[str | None] = mapped_column(String(20))
    # payments.events.PaymentStatus: NEW (row stored, charge not created yet), then Asaas's status names.
    status: Mapped[str] = mapped_column(String(40), default="NEW", server_default="NEW")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    refunded: Mapped[int] = money()
    # What the wallet holds for this payment right now (the level the webhook converges on).
    credited: Mapped[int] = money()
    invoice_url: Mapped[str | None] = mapped_column(String(512))
    matched: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("1"))
    # Facts merged from every event and fetch, each only ever raised (auction.payments.events):
    # paid 0 no / 1 confirmed / 2 received; chargeback 0 none / 1 open / 2 won;
    # removal 0 none / 1 deleted or cash receipt undone / 2 restored.
    paid_stage: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    chargeback_stage: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    removal_stage: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    # cash 1: marked received in cash at Asaas (no money moved; credited only by an admin or ASAAS_CASH_RECEIPTS);
    # refund 0 none / 1 a refund not final yet / 2 every refund final; refund_requested: refunds not cancelled.
    cash_stage: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    refund_stage: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    refund_requested: Mapped[int] = money()
    # Asaas's netValue (value minus its fee), when it said.
    net_value: Mapped[int | None] = money(nullable=True, default=None)
    # The part of `credited` that is frozen on the wallet (refund in progress, open chargeback).
    frozen: Mapped[int] = money()
    # Ledger transactions this payment has made (payments.levels numbers each one's idempotency key by it).
    movements: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The admin who credited a cash receipt as a top-up, and when.
    cash_credited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cash_credited_at: Mapped[datetime | None]
    # When the background job looked the payer of an unmatched link payment up at Asaas (auction.payments.payers).
    payer_checked_at: Mapped[datetime | None]
    last_event: Mapped[str | None] = mapped_column(String(64))
    # Reconciliation's backoff (auction.payments.watch): when to ask Asaas next, and how often it has asked.
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    checks: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class PaymentInstructions(Base):
    """How to pay a charge on our own page: the PIX QR code and copy-paste code, or the boleto line.

    Fetched from Asaas once (`GET /payments/{id}/pixQrCode`, `/identificationField`) and kept, so a payer
    reloading the page costs no API request.
    """

    __tablename__ = "payment_instructions"
    __table_args__ = table_args()

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), primary_key=True)
    # pix | boleto
    kind: Mapped[str] = mapped_column(String(8))
    # PIX: the copy-paste code; boleto: the digitable line (identificationField).
    code: Mapped[str] = mapped_column(Text)
    # PIX: the QR code as a base64 PNG.
    image: Mapped[str | None] = mapped_column(Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"))
    expires_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]


class WebhookDelivery(Base):
    """Every authentic Asaas delivery, stored before it is processed."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(191), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    asaas_payment_id: Mapped[str | None] = mapped_column(String(64), index=True)
    raw_body: Mapped[str] = mapped_column(Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"))
    # payments.levels.Outcome: received | applied | recorded | unmatched | failed | stored (no handler for its kind)
    outcome: Mapped[str] = mapped_column(String(16), default="received", server_default="received")
    detail: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = table_args(Index("ix_notifications_user_id_id", "user_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # outbid | win | sale | auction_result | ending_soon | payment_approved | payment_refused ...
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(500))
    auction_id: Mapped[int | None] = mapped_column(ForeignKey("auctions.id", ondelete="SET NULL"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Set in the notification's own transaction when its kind may reach e-mail or Web Push: the queue the
    # alert dispatcher reads (auction.alerts.dispatch), cleared once its deliveries are planned.
    alert_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"), index=True)


class AlertPreference(Base):
    """A user's own choice for one alert kind on one channel; without a row the kind's default applies
    (auction.alerts.catalogue)."""

    __tablename__ = "alert_preferences"
    __table_args__ = table_args()

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    # email | push
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime]


class AlertSettings(Base):
    """Per user: the language alerts are written in, and whether to alert about an auction the user is
    watching live at that moment (off by default: the page already tells them)."""

    __tablename__ = "alert_settings"
    __table_args__ = table_args()

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8))
    while_watching: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    updated_at: Mapped[datetime]


class PushSubscription(Base):
    """A browser's Web Push subscription (the Push API's endpoint and keys); removed when the push service
    answers 404 or 410."""

    __tablename__ = "push_subscriptions"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # sha256 of the endpoint: endpoints are long URLs, too long for a unique index on MariaDB.
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint: Mapped[str] = mapped_column(Text)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class AlertDelivery(Base):
    """One alert to send on one channel (e-mail or push): planned from a notification by the dispatcher,
    sent by the jobs process with retries and back-off, dead after ALERT_MAX_ATTEMPTS (admins see those)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = table_args(
        Index("ix_alert_deliveries_status_due_at", "status", "due_at"),
        Index("ix_alert_deliveries_user_id_kind_auction_id", "user_id", "kind", "auction_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The notification kind (outbid, win, order_shipped...), and the channel: email | push.
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    auction_id: Mapped[int | None] = mapped_column(ForeignKey("auctions.id", ondelete="SET NULL"))
    # The notification's English text (translated when sent); a throttled alert keeps the latest one.
    message: Mapped[str] = mapped_column(String(500))
    # Where the alert leads, a path on the site (/auctions/7, /orders/3, /wallet).
    path: Mapped[str] = mapped_column(String(200))
    # alerts.Status: pending | sent | dead | skipped
    status: Mapped[str] = mapped_column(String(8), default="pending", server_default="pending")
    # Why it was skipped (watching live, no longer outbid...) or the last error.
    note: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class AsaasApiUsage(Base):
    """Requests this site made to Asaas's API per 12-hour window (the quota: about 25,000 per 12 h per account),
    and the last `RateLimit-*` headers Asaas answered with (auction.payments.quota)."""

    __tablename__ = "asaas_api_usage"
    __table_args__ = table_args()

    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    rate_limited: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_limit: Mapped[int | None] = mapped_column(Integer)
    last_remaining: Mapped[int | None] = mapped_column(Integer)
    # Asaas refuses requests until then (a 429's RateLimit-Reset).
    blocked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class DeliveryAddress(Base):
    """Where a buyer wants things sent: asked for once, kept on the account, copied onto each order."""

    __tablename__ = "delivery_addresses"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    recipient: Mapped[str] = mapped_column(String(120))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(9))
    updated_at: Mapped[datetime]


class Order(Base):
    """What a sale leaves behind: the buyer's money in escrow until the goods arrive (auction.orders)."""

    __tablename__ = "orders"
    __table_args__ = table_args(
        Index("ix_orders_status_updated_at", "status", "updated_at"),
        UniqueConstraint("auction_id", "sale_round", name="uq_orders_auction_round"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"))
    # 0: the sale at the close; 1, 2, ...: a second-chance offer accepted after the sale before it fell through.
    sale_round: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    price: Mapped[int] = money(default=None)
    # The buyer's premium of a sale event's lot, paid on top of the price (orders.premium; 0 for a single auction).
    premium: Mapped[int] = money()
    # The platform fee taken from the price on release (PLATFORM_FEE_BPS when the auction closed).
    fee: Mapped[int] = money()
    # What the escrow account holds for this order now (wallet audit checks the sum).
    escrowed: Mapped[int] = money()
    # orders.OrderStatus: paid | shipped | disputed | completed | refunded | cancelled
    status: Mapped[str] = mapped_column(String(16), default="paid", server_default="paid")
    ship_recipient: Mapped[str | None] = mapped_column(String(120))
    ship_line1: Mapped[str | None] = mapped_column(String(200))
    ship_line2: Mapped[str | None] = mapped_column(String(200))
    ship_city: Mapped[str | None] = mapped_column(String(80))
    ship_state: Mapped[str | None] = mapped_column(String(2))
    ship_postal_code: Mapped[str | None] = mapped_column(String(9))
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_code: Mapped[str | None] = mapped_column(String(60))
    shipped_at: Mapped[datetime | None]
    # Shipped + ORDER_RELEASE_DAYS: the escrow goes to the seller then unless the buyer disputes.
    release_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    dispute_reason: Mapped[str | None] = mapped_column(String(500))
    disputed_at: Mapped[datetime | None]
    # release | refund (the admin's decision), or why it closed without one: confirmed | automatic | cancelled
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    auction: Mapped[Auction] = relationship()
    buyer: Mapped[User] = relationship(foreign_keys=[buyer_id])
    seller: Mapped[User] = relationship(foreign_keys=[seller_id])


class SecondChanceOffer(Base):
    """The seller offers an unsold item to an underbidder at that bidder's highest bid (orders/second_chance.py)."""

    __tablename__ = "second_chance_offers"
    __table_args__ = table_args(Index("ix_second_chance_offers_bidder_status", "bidder_id", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price: Mapped[int] = money(default=None)  # the bidder's highest bid on the auction
    premium: Mapped[int] = money()  # the event's buyer's premium on that price
    # second_chance.OfferStatus: open | accepted | declined | expired
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))


class SellerRating(Base):
    """The buyer's rating of the seller after a completed order (one per order); the seller may answer once."""

    __tablename__ = "seller_ratings"
    __table_args__ = table_args(Index("ix_seller_ratings_seller_id_created_at", "seller_id", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int] = mapped_column(SmallInteger)  # 1 to 5
    comment: Mapped[str] = mapped_column(String(1000))
    reply: Mapped[str | None] = mapped_column(String(1000))
    replied_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Withdrawal(Base):
    """Money out of a wallet to a PIX key, through an Asaas transfer (auction.payouts)."""

    __tablename__ = "withdrawals"
    __table_args__ = table_args(Index("ix_withdrawals_status_updated_at", "status", "updated_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = money(default=None)
    # What the payout hold account keeps for it now (wallet audit checks the sum).
    on_hold: Mapped[int] = money()
    pix_key: Mapped[str] = mapped_column(String(80))
    # CPF | CNPJ | EMAIL | PHONE | EVP (Asaas's pixAddressKeyType)
    pix_key_type: Mapped[str] = mapped_column(String(8))
    # payouts.WithdrawalStatus: awaiting_approval | queued | submitting | pending | done | failed | refused
    status: Mapped[str] = mapped_column(String(20), default="queued", server_default="queued")
    external_reference: Mapped[str | None] = mapped_column(String(100), unique=True)
    asaas_transfer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Asaas's own status name for the transfer, as last heard.
    transfer_status: Mapped[str | None] = mapped_column(String(32))
    fail_reason: Mapped[str | None] = mapped_column(String(255))
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class OutgoingMail(Base):
    """One e-mail in the outbox (auction/mail): queued in a use case's transaction, sent by the jobs process.

    The message is rendered when queued (both parts, in the recipient's language) and its Message-ID is
    chosen then, so every attempt sends the same message; a crash between sending and marking sends it
    again with the same Message-ID (at least once, never lost)."""

    __tablename__ = "mail_outbox"
    __table_args__ = table_args(Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(191), unique=True)
    # Nulled when the account is deleted (LGPD); the address is anonymised with it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The template's name: what kind of message it is (admin counts, the development inbox).
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"))
    html_body: Mapped[str] = mapped_column(Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"))
    # Extra headers (List-Unsubscribe, ...) as a JSON object.
    headers: Mapped[str | None] = mapped_column(Text)
    # queued (never tried), failed (will be tried again), sent, dead (gave up after MAIL_MAX_ATTEMPTS)
    status: Mapped[str] = mapped_column(String(8), default="queued", server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class UsedToken(Base):
    """A signed link (e-mail confirmation, password reset, ...) that was used: each works once."""

    __tablename__ = "used_tokens"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(43), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    used_at: Mapped[datetime]


class Consent(Base):
    """A version of the terms or the privacy notice a user accepted, and when (LGPD, art. 8)."""

    __tablename__ = "consents"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    document: Mapped[str] = mapped_column(String(16))  # terms | privacy
    version: Mapped[str] = mapped_column(String(16))
    accepted_at: Mapped[datetime]


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app (only its hash is kept)."""

    __tablename__ = "recovery_codes"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]

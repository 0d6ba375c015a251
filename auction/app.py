"""create_app(): the composition root, which builds a configured Flask app and wires its parts."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import configure_mappers

from . import runtime
from .config import PROJECT_ROOT, load_config
from .db import Database
from .entrypoints.contexts import AuctionApp
from .extensions import csrf, deliver, socketio
from .logging_setup import configure_logging
from .migrate import create_schema
from .models import Base  # noqa: F401 - the mappers configure_mappers() sets up

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides environment variables and final settings."""
    overrides = dict(config or {})
    settings = load_config({**os.environ, **{k: v for k, v in overrides.items() if isinstance(v, str | int)}})
    settings.update(overrides)

    app = AuctionApp(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    configure_logging(
        app.config["LOG_LEVEL"],
        [
            app.config["ASAAS_API_KEY"],
            app.config["ASAAS_WEBHOOK_TOKEN"],
            app.config["ASAAS_TRANSFER_VALIDATION_TOKEN"],
            app.config["SECRET_KEY"],
            app.config["SMTP_PASSWORD"],
        ],
    )

    # Configure the ORM mappers now, on the hub: done lazily, the first queries would take
    # SQLAlchemy's configure mutex from several offload threads at once (runtime/overrides.py).
    configure_mappers()
    offload = None if app.config["DB_OFFLOAD"] == "none" else runtime.current().offload
    db = Database(app.config["DATABASE_URL"], pool_size=app.config["DB_POOL_SIZE"], offload=offload)
    app.extensions["auction.db"] = db
    db.deliver = deliver
    if db.is_sqlite and app.config["AUTO_CREATE_SCHEMA"]:
        # The embedded default needs no admin: the file and its tables appear on first start.
        # Recorded at the newest Alembic revision, so `flask db upgrade` works on it later.
        create_schema(db.engine)

    from . import mail

    mail.configure(mail.MailRenderer(app.config["SITE_NAME"], app.config["PUBLIC_URL"]))
    if app.config["PRODUCTION"] and not app.config["SMTP_HOST"]:
        log.error("event=mail_disabled reason=no_SMTP_HOST_in_production")

    from .ratelimit import RateLimiter

    app.extensions["auction.ratelimit"] = RateLimiter(
        app.config["RATE_LIMITS_ENABLED"], app.config["RATE_LIMIT_STORAGE"]
    )

    # The socket handlers, before socketio.init_app (sockets.register says why), and the periodic jobs run.py starts.
    from .auctions import bids
    from .entrypoints import alerts, jobs, sockets, usecases
    from .entrypoints.sockets.bid_queue import BidQueue
    from .entrypoints.sockets.presence import watching_live

    sockets.register(socketio)
    app.extensions["auction.jobs"] = jobs.jobs_of(jobs, alerts, sockets.presence)
    # `usecases.perform(bids.place, ...)` from a socket event waits for its batch (group commit, bid_queue.py).
    app.extensions[usecases.BATCHERS] = {bids.place: BidQueue(app)}
    alerts.bind(app, watching_live)
    # Webhook deliveries of another area's kind: payments dispatches them without importing that area.
    from .payments import deliveries as payment_deliveries
    from .payouts import deliveries as payout_deliveries

    payment_deliveries.plug(payout_deliveries.PREFIX, payout_deliveries.process_webhook)
    # Keys derived from SECRET_KEY: a bidder's pseudonym others see (auctions/privacy.py), and the accounts' tokens.
    from .accounts import tokens
    from .auctions import privacy

    privacy.set_key(app.config["SECRET_KEY"])
    tokens.set_key(app.config["SECRET_KEY"])
    from .entrypoints.sockets.auction_cache import AuctionCache, client_manager

    manager = client_manager(app.config["SOCKETIO_MESSAGE_QUEUE"], app.config["SOCKETIO_CHANNEL"])
    cache = AuctionCache(db, enabled=manager is not None and app.config["JOIN_CACHE"])
    app.extensions["auction.cache"] = cache
    extra: dict[str, Any] = {}
    if manager is not None:
        manager.cache = cache
        extra["client_manager"] = manager

    csrf.init_app(app)
    socketio.init_app(
        app,
        **extra,
        # The runtime run.py chose (SOCKETIO_ASYNC_MODE); threading in tests and CLI commands.
        async_mode=runtime.current().name,
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        channel=app.config["SOCKETIO_CHANNEL"],
        cors_allowed_origins=app.config["SOCKETIO_CORS_ORIGINS"] or None,
        max_http_buffer_size=64 * 1024,
        logger=False,
        engineio_logger=False,
    )

    from .entrypoints import cli, metrics, transfers, web, webhook
    from .payments.client import client_from_config
    from .payments.quota import QuotaMeter

    web.init_app(app)
    metrics.init_app(app)
    cli.init_app(app)
    app.extensions["auction.asaas"] = client_from_config(app.config, QuotaMeter(app.extensions["auction.db"]))
    app.register_blueprint(webhook.bp)
    app.register_blueprint(transfers.bp)
    if app.config["PRODUCTION"] and not app.config["ASAAS_API_KEY"]:
        log.error("event=payments_disabled reason=no_ASAAS_API_KEY_in_production")
    if app.config["ASAAS_SIMULATOR"]:
        _mount_asaas_simulator(app)
    if app.config["MAIL_DEV_INBOX"]:
        from .entrypoints.web import dev_mail

        app.register_blueprint(dev_mail.bp)
    return app


def _mount_asaas_simulator(app: Flask) -> None:
    """The development stand-in for Asaas (asaas_sim/, not part of the product); its merchant is the site's admin."""
    import asaas_sim

    from .entrypoints.web.auth import admin_required, is_admin

    # admin_required around a no-op, as admin.py's before_request: None for an admin, else the login page or 403.
    asaas_sim.init_app(app, is_merchant=is_admin, refuse_non_merchant=admin_required(lambda: None))

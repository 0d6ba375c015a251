"""All settings, read from environment variables in one place.

Every setting has a safe development default so that `python run.py` works on a
fresh machine. Production mode (`AUCTION_ENV=production`) refuses to start
without the secrets that must never have a default.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .runtime import MODES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"
DEV_WEBHOOK_TOKEN = "dev-webhook-token-not-for-production"


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


def _bool(value: str | bool | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, Any], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


# How the simulated Asaas account authorises transfers (asaas_sim/account.py explains each).
SIM_CASHOUT_AUTH = ("critical", "token", "ip_allowlist", "validation_webhook")


def _seconds_list(raw: str | None, name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma-separated list of whole seconds ("3600,600"), largest first."""
    if not raw or not raw.strip():
        return default
    try:
        values = sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)
    except ValueError as exc:
        raise ConfigError(f"{name} must be whole numbers of seconds separated by commas, got {raw!r}") from exc
    if not values or values[-1] <= 0:
        raise ConfigError(f"{name} must list positive numbers of seconds, got {raw!r}")
    return tuple(values)


def _choice(env: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept in the instance folder, so dev sessions survive restarts."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def host_of(url: str) -> str:
    """The host name of a URL (no port): what the site's From address and Message-IDs are named after."""
    return url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"


def _dev_vapid_key(instance_path: Path) -> str:
    """A Web Push (VAPID) private key kept in the instance folder, like the secret key: browsers' subscriptions
    are tied to the public half, so it must survive restarts."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "vapid_private.pem"
    if not key_file.exists():
        from py_vapid import Vapid

        vapid = Vapid()
        vapid.generate_keys()
        key_file.write_bytes(vapid.private_pem())
        key_file.chmod(0o600)
    return key_file.read_text()


def _lease_timings(env: Mapping[str, Any]) -> dict[str, Any]:
    """The jobs lease's renewal interval and timeout (entrypoints/leader.py). The leader's connection gives up
    after half the timeout and must renew well within it, or its lease would lapse between two renewals."""
    interval = float(env.get("JOBS_LEASE_INTERVAL") or 1.0)
    timeout = _int(env, "JOBS_LEASE_TIMEOUT", 10)
    if not 0 < interval * 2 <= timeout:
        raise ConfigError(
            f"JOBS_LEASE_INTERVAL ({interval}) must be above 0 and at most half JOBS_LEASE_TIMEOUT ({timeout})"
        )
    return {"JOBS_LEASE_INTERVAL": interval, "JOBS_LEASE_TIMEOUT": timeout}


def load_config(environ: Mapping[str, Any] | None = None, instance_path: Path | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from `environ` (default: os.environ)."""
    env = os.environ if environ is None else environ
    instance = Path(env.get("INSTANCE_PATH") or instance_path or DEFAULT_INSTANCE_PATH)
    production = (env.get("AUCTION_ENV") or "development").strip().lower() == "production"

    secret_key = env.get("SECRET_KEY") or ""
    webhook_token = env.get("ASAAS_WEBHOOK_TOKEN") or ""
    if production:
        missing = [
            name for name, value in (("SECRET_KEY", secret_key), ("ASAAS_WEBHOOK_TOKEN", webhook_token)) if not value
        ]
        if missing:
            raise ConfigError(
                "production mode (AUCTION_ENV=production) needs "
                + " and ".join(missing)
                + " set in the environment; refusing to start"
            )
        if len(webhook_token) < 32:
            raise ConfigError("ASAAS_WEBHOOK_TOKEN must be at least 32 characters (Asaas's rule)")
        if 0 < len(env.get("METRICS_TOKEN") or "") < 32:
            raise ConfigError("METRICS_TOKEN must be at least 32 characters (or unset: no /metrics)")
    secret_key = secret_key or _dev_secret_key(instance)
    webhook_token = webhook_token or DEV_WEBHOOK_TOKEN

    host = env.get("HOST") or "127.0.0.1"
    port = _int(env, "PORT", 5000)
    public_url = (env.get("PUBLIC_URL") or f"http://{host}:{port}").rstrip("/")
    asaas_api_key = env.get("ASAAS_API_KEY") or ""
    # Without an API key the site talks to its own built-in Asaas simulator.
    asaas_base_url = env.get("ASAAS_BASE_URL") or (
        "https://api-sandbox.asaas.com/v3" if asaas_api_key else f"{public_url}/asaas-sim/v3"
    )

    site_name = env.get("SITE_NAME") or "Leilão"
    smtp_host = (env.get("SMTP_HOST") or "").strip()
    smtp_security = _choice(env, "SMTP_SECURITY", ("starttls", "tls", "none"))
    # Extra origins allowed to open sockets. Listing any replaces Socket.IO's same-origin
    # default, so the site's own PUBLIC_URL is always kept in the list.
    extra_origins = [o.strip().rstrip("/") for o in (env.get("SOCKETIO_CORS_ORIGINS") or "").split(",") if o.strip()]
    return {
        "AUCTION_ENV": "production" if production else "development",
        "PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance / 'auction.db'}",
        "DB_POOL_SIZE": _int(env, "DB_POOL_SIZE", 20),
        # auto: each unit of work runs where the runtime offloads blocking calls (auction/runtime); none: on
        # the caller's thread (benchmarks: queries on the hub).
        "DB_OFFLOAD": _choice(env, "DB_OFFLOAD", ("auto", "none")),
        # run.py: how long a thread may hold the GIL while another waits (sys.setswitchinterval). The hub
        # never blocks in C, so at Python's 5 ms an offload thread waited up to 5 ms for the GIL after each
        # database round trip whenever the hub was busy (docs/performance.md).
        "GIL_SWITCH_INTERVAL": float(env.get("GIL_SWITCH_INTERVAL") or 0.0005),
        # run.py: allocations between young garbage collections (Python's own is 700; 0 keeps it), after
        # freezing what start-up built (runtime/gc_policy.py, docs/performance.md).
        "GC_THRESHOLD": _int(env, "GC_THRESHOLD", 50_000),
        "ASAAS_API_KEY": asaas_api_key,
        "ASAAS_BASE_URL": asaas_base_url.rstrip("/"),
        "ASAAS_WEBHOOK_TOKEN": webhook_token,
        # The simulator lets anyone "pay", so it is mounted only as the development default: never next to a
        # real Asaas key, and never in production (where a missing key leaves top-ups failing, loudly).
        "ASAAS_SIMULATOR": not asaas_api_key and not production,
        # Simulator only. inline: its webhooks go synchronously through the Flask test client (tests);
        # background: POSTed over HTTP to ASAAS_SIM_WEBHOOK_URL from a background task.
        "ASAAS_SIM_DELIVERY": (env.get("ASAAS_SIM_DELIVERY") or "background").strip().lower(),
        "ASAAS_SIM_WEBHOOK_URL": env.get("ASAAS_SIM_WEBHOOK_URL") or f"{public_url}/payment/webhook",
        # Simulator only: seconds between a card's CONFIRMED and its RECEIVED (Asaas: about 30 days).
        "ASAAS_SIM_CARD_RECEIVE_DELAY": float(env.get("ASAAS_SIM_CARD_RECEIVE_DELAY") or 5),
        # Simulator only: "duplicate" sends every webhook twice, "reorder" sends each batch newest first.
        "ASAAS_SIM_CHAOS": [m.strip() for m in (env.get("ASAAS_SIM_CHAOS") or "").split(",") if m.strip()],
        "ASAAS_TIMEOUT": float(env.get("ASAAS_TIMEOUT") or 10),
        "ASAAS_CREDIT_ON": (env.get("ASAAS_CREDIT_ON") or "RECEIVED").upper(),
        # gross: credit the charge's value (the site absorbs Asaas's fee); net: credit netValue.
        "ASAAS_CREDIT_VALUE": _choice(env, "ASAAS_CREDIT_VALUE", ("gross", "net")),
        # review: a charge marked received in cash credits nothing until an admin credits it; credit: it credits.
        "ASAAS_CASH_RECEIPTS": _choice(env, "ASAAS_CASH_RECEIPTS", ("review", "credit")),
        # Requests per 12 h reconciliation may spend (Asaas's quota is about 25,000 for everything).
        "ASAAS_RECONCILE_BUDGET": _int(env, "ASAAS_RECONCILE_BUDGET", 8_000),
        # Contact Asaas writes to about webhook problems (`flask payments webhook setup`).
        "ASAAS_WEBHOOK_EMAIL": env.get("ASAAS_WEBHOOK_EMAIL") or None,
        "RECONCILE_INTERVAL": _int(env, "RECONCILE_INTERVAL", 60),
        # An unpaid top-up is deleted at Asaas after this many hours (it can no longer be paid).
        "TOPUP_EXPIRE_HOURS": _int(env, "TOPUP_EXPIRE_HOURS", 96),
        "TOPUP_MIN_CENTS": _int(env, "TOPUP_MIN_CENTS", 500),
        "TOPUP_MAX_CENTS": _int(env, "TOPUP_MAX_CENTS", 1_000_000),
        "SOCKETIO_MESSAGE_QUEUE": env.get("SOCKETIO_MESSAGE_QUEUE") or None,
        # Redis pub/sub channels ignore the database number: sites sharing one Redis need distinct channels.
        "SOCKETIO_CHANNEL": env.get("SOCKETIO_CHANNEL") or "flask-socketio",
        # With a message queue, watcher counts are shared through Redis (auction/watchers.py).
        "WATCHERS_TTL": float(env.get("WATCHERS_TTL") or 30),
        "WATCHERS_REFRESH_INTERVAL": float(env.get("WATCHERS_REFRESH_INTERVAL") or 10),
        # A room hears its watcher count at most this often (0: on every join and leave).
        "WATCHERS_ANNOUNCE_INTERVAL": float(env.get("WATCHERS_ANNOUNCE_INTERVAL") or 1.0),
        # join_auction from a per-process read model kept current by the room messages (off: a query per join).
        "JOIN_CACHE": _bool(env.get("JOIN_CACHE"), True),
        "SOCKETIO_CORS_ORIGINS": [public_url, *extra_origins] if extra_origins else [],
        # The most simultaneous connections (websockets) one server process accepts.
        "MAX_CONNECTIONS": _int(env, "MAX_CONNECTIONS", 20_000),
        # Floods and slow clients, per client address (auction/entrypoints/guard.py).
        "SOCKETS_PER_ADDRESS": _int(env, "SOCKETS_PER_ADDRESS", 100),
        "HANDSHAKES_PER_SECOND": _int(env, "HANDSHAKES_PER_SECOND", 20),
        "HANDSHAKE_TIMEOUT": float(env.get("HANDSHAKE_TIMEOUT") or 10),
        # SIGTERM: the longest the work in flight may take to finish (auction/entrypoints/shutdown.py).
        "SHUTDOWN_TIMEOUT": float(env.get("SHUTDOWN_TIMEOUT") or 20),
        "HOST": host,
        "PORT": port,
        "PUBLIC_URL": public_url,
        "REGISTRATION_TOKEN": env.get("REGISTRATION_TOKEN") or None,
        "PLATFORM_FEE_BPS": _int(env, "PLATFORM_FEE_BPS", 0),
        # Orders (auction.orders): the seller ships within ORDER_SHIP_DAYS or the buyer may cancel; the escrow
        # goes to the seller ORDER_RELEASE_DAYS after shipping unless the buyer confirms sooner or disputes.
        "ORDER_SHIP_DAYS": _int(env, "ORDER_SHIP_DAYS", 7),
        "ORDER_RELEASE_DAYS": _int(env, "ORDER_RELEASE_DAYS", 14),
        "ORDER_JOBS_INTERVAL": float(env.get("ORDER_JOBS_INTERVAL") or 60),
        # The buyer is reminded this many hours before a shipped order's escrow goes to the seller on its own.
        "ORDER_RELEASE_REMINDER_HOURS": _int(env, "ORDER_RELEASE_REMINDER_HOURS", 48),
        # Withdrawals (auction.payouts), in centavos: per withdrawal, per 24 hours, and the amount above
        # which an admin approves first.
        "WITHDRAWAL_MIN_CENTS": _int(env, "WITHDRAWAL_MIN_CENTS", 1_000),
        "WITHDRAWAL_MAX_CENTS": _int(env, "WITHDRAWAL_MAX_CENTS", 500_000),
        "WITHDRAWAL_DAILY_CENTS": _int(env, "WITHDRAWAL_DAILY_CENTS", 1_000_000),
        "WITHDRAWAL_APPROVAL_CENTS": _int(env, "WITHDRAWAL_APPROVAL_CENTS", 200_000),
        # Withdrawals wait this long after a change of password, e-mail or two-factor login (a stolen session
        # that changes them cannot take the money out at once).
        "WITHDRAWAL_COOLDOWN_HOURS": _int(env, "WITHDRAWAL_COOLDOWN_HOURS", 24),
        # Money goes only to a PIX key in the holder's own CPF/CNPJ; true also accepts e-mail, phone and random keys
        # (Asaas's answer naming another person's document still cancels the transfer).
        "WITHDRAWAL_OTHER_KEYS": _bool(env.get("WITHDRAWAL_OTHER_KEYS"), False),
        "TRANSFER_RECONCILE_INTERVAL": float(env.get("TRANSFER_RECONCILE_INTERVAL") or 120),
        # The token Asaas sends on the transfer validation webhook (its security mechanism settings).
        "ASAAS_TRANSFER_VALIDATION_TOKEN": env.get("ASAAS_TRANSFER_VALIDATION_TOKEN") or webhook_token,
        # Simulator only: where it sends the transfer validation call.
        "ASAAS_SIM_VALIDATION_URL": env.get("ASAAS_SIM_VALIDATION_URL") or f"{public_url}/payment/transfer-validation",
        # E-mail (auction/mail): sent over SMTP when SMTP_HOST is set; in development without it nothing leaves
        # the machine and /dev/mail shows what would have been sent.
        "SITE_NAME": site_name,
        "SMTP_HOST": smtp_host,
        "SMTP_PORT": _int(env, "SMTP_PORT", 465 if smtp_security == "tls" else 587),
        # starttls (port 587), tls (implicit TLS, port 465) or none (a relay on this machine).
        "SMTP_SECURITY": smtp_security,
        "SMTP_USER": env.get("SMTP_USER") or "",
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or "",
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT") or 10),
        "MAIL_FROM": env.get("MAIL_FROM") or f"{site_name} <nao-responda@{host_of(public_url)}>",
        "CONTACT_EMAIL": env.get("CONTACT_EMAIL") or f"ajuda@{host_of(public_url)}",
        "MAIL_DEV_INBOX": not smtp_host and not production,
        "MAIL_SEND_INTERVAL": float(env.get("MAIL_SEND_INTERVAL") or 5),
        # A message is tried this many times (waiting MAIL_RETRY_SECONDS, doubling, at most an hour) before it is dead.
        "MAIL_MAX_ATTEMPTS": _int(env, "MAIL_MAX_ATTEMPTS", 10),
        "MAIL_RETRY_SECONDS": _int(env, "MAIL_RETRY_SECONDS", 60),
        # Simulator only: how its account authorises transfers until changed on its transfers page (critical: every
        # API transfer refused with 400 until the set-up changes, as a new Asaas account), and its fee per transfer.
        "ASAAS_SIM_CASHOUT_AUTH": _choice(env, "ASAAS_SIM_CASHOUT_AUTH", SIM_CASHOUT_AUTH),
        "ASAAS_SIM_TRANSFER_FEE": float(env.get("ASAAS_SIM_TRANSFER_FEE") or 0),
        "SOFT_CLOSE_SECONDS": _int(env, "SOFT_CLOSE_SECONDS", 120),
        # Group commit: the most bids (on any auctions) decided in one transaction, and how many such transactions
        # one process runs at once (entrypoints/sockets/bid_queue.py).
        "BID_BATCH_MAX": _int(env, "BID_BATCH_MAX", 100),
        "BID_WORKERS": _int(env, "BID_WORKERS", 2),
        # An auction's next batch starts at least this long after its previous one began (0: at once).
        "BID_BATCH_WAIT": float(env.get("BID_BATCH_WAIT") or 0.04),
        # A process's next batch (of any auctions) starts at least this long after its previous one began.
        "BID_GATHER_WAIT": float(env.get("BID_GATHER_WAIT") or 0.025),
        # Pages speak pt_BR or en: a reader's cookie, then Accept-Language, then this.
        "DEFAULT_LOCALE": "en" if (env.get("DEFAULT_LOCALE") or "").strip() == "en" else "pt_BR",
        # Times are shown in the browser's zone; this one until the browser has said which.
        "DEFAULT_TIMEZONE": (env.get("DEFAULT_TIMEZONE") or "America/Sao_Paulo").strip(),
        # Seconds before the end when watchers and bidders hear that an auction ends soon, once each.
        "ENDING_SOON_SECONDS": _seconds_list(env.get("ENDING_SOON_SECONDS"), "ENDING_SOON_SECONDS", (3600, 600)),
        # Alerts by e-mail and Web Push (auction/alerts): how often the jobs process plans and sends them, the
        # throttle window of outbid alerts per auction, and the attempts before a delivery is dead.
        "ALERTS_INTERVAL": float(env.get("ALERTS_INTERVAL") or 1.0),
        "ALERT_OUTBID_WINDOW": _int(env, "ALERT_OUTBID_WINDOW", 600),
        "ALERT_MAX_ATTEMPTS": _int(env, "ALERT_MAX_ATTEMPTS", 8),
        # The VAPID private key (PEM) Web Push is signed with; without it in production push is off, in
        # development one is generated into the instance folder.
        "VAPID_PRIVATE_KEY": (env.get("VAPID_PRIVATE_KEY") or "").replace("\\n", "\n")
        or (None if production else _dev_vapid_key(instance)),
        # The contact push services may write to about this site's pushes.
        "VAPID_SUBJECT": env.get("VAPID_SUBJECT") or "mailto:admin@localhost",
        "SCHEDULER_INTERVAL": float(env.get("SCHEDULER_INTERVAL") or 1.0),
        "MAX_CONTENT_LENGTH": _int(env, "MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        # Per auction photo; five of them must fit in MAX_CONTENT_LENGTH.
        "PHOTO_MAX_BYTES": _int(env, "PHOTO_MAX_BYTES", 3 * 1024 * 1024),
        "WEBHOOK_MAX_BYTES": _int(env, "WEBHOOK_MAX_BYTES", 256 * 1024),
        "RATE_LIMITS_ENABLED": _bool(env.get("RATE_LIMITS_ENABLED"), True),
        "RATE_LIMIT_STORAGE": env.get("RATE_LIMIT_STORAGE") or None,
        # How many reverse proxies (nginx) stand in front and set X-Forwarded-For/-Proto. 0 ignores
        # those headers, since any client could send them.
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "SESSION_COOKIE_NAME": "auction_session",
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": production,
        "LOG_LEVEL": (env.get("LOG_LEVEL") or "INFO").upper(),
        "SCHEDULER_ENABLED": _bool(env.get("SCHEDULER_ENABLED"), True),
        # Off in the jobs process: it answers only monitoring paths (entrypoints/guard.py, MONITORING_PATHS).
        "SERVE_SITE": _bool(env.get("SERVE_SITE"), True),
        # Jobs processes (SCHEDULER_ENABLED) compete for one lease; the leader runs the site-wide jobs
        # (entrypoints/leader.py). Seconds between renewals and followers' attempts, and the silence after
        # which the database frees the lease of a leader whose machine vanished.
        **_lease_timings(env),
        # The leader recomputes every balance from the ledger this often (seconds; 0: never), for the metrics.
        "WALLET_AUDIT_INTERVAL": float(env.get("WALLET_AUDIT_INTERVAL") or 3600),
        # The ledger against the Asaas balance and statement (auction/payments/balance.py): how often, and how many
        # days of statement each check reads.
        "BALANCE_CHECK_INTERVAL": float(env.get("BALANCE_CHECK_INTERVAL") or 86_400),
        "BALANCE_CHECK_DAYS": _int(env, "BALANCE_CHECK_DAYS", 3),
        # GET /metrics wants `Authorization: Bearer METRICS_TOKEN`; without a token it answers 404.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # Serving processes (run.py) count into this folder, so a scrape of any of them reports every one on the
        # machine (prometheus_client's multi-process mode; entrypoints/process.py, share_metrics).
        "METRICS_DIR": env.get("METRICS_DIR") or None,
        # Benchmarks only: seconds between the hub-lag probe's log lines (0: no probe; entrypoints/probe.py).
        "PROBE_INTERVAL": float(env.get("PROBE_INTERVAL") or 0),
        # SQLite only: create the tables on first start (the embedded default needs no admin).
        "AUTO_CREATE_SCHEMA": _bool(env.get("AUTO_CREATE_SCHEMA"), True),
        # The runtime run.py serves with (auction/runtime chooses it before the app is imported); processes
        # run.py did not start (tests, CLI commands) run on threads whatever this says.
        "SOCKETIO_ASYNC_MODE": _choice(env, "SOCKETIO_ASYNC_MODE", MODES),
    }

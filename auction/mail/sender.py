"""Sending the outbox: one round takes the due messages, sends each over SMTP, marks it sent or failed.

At least once, never lost: a round first *claims* its messages in one short transaction (one more attempt
counted, the next attempt pushed LEASE into the future), then sends, then marks each one. A message whose
sending failed waits MAIL_RETRY_SECONDS x 2^(attempts-1) (at most MAX_BACKOFF) and is tried again; after
MAIL_MAX_ATTEMPTS it is `dead` (admins see it, and may send it again). If the process dies between the
SMTP server's OK and the mark, the claim runs out and the message is sent again with the Message-ID it was
given when queued, so mail readers that de-duplicate by Message-ID show it once.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database
from ..models import OutgoingMail

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than a round of BATCH messages can take at SMTP_TIMEOUT each
MAX_BACKOFF = timedelta(hours=1)
BATCH = 50
DUE = ("queued", "failed")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | tls | none
    user: str
    password: str = field(repr=False)  # never in a log line or a traceback's repr
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings:
        return cls(
            host=config["SMTP_HOST"],
            port=config["SMTP_PORT"],
            security=config["SMTP_SECURITY"],
            user=config["SMTP_USER"],
            password=config["SMTP_PASSWORD"],
            timeout=config["SMTP_TIMEOUT"],
        )


class Connection(Protocol):
    def send_message(self, msg: EmailMessage) -> Any: ...


class Transport(Protocol):
    def connect(self) -> Any:
        """A context manager giving a Connection for one round."""


class SmtpTransport:
    """Any SMTP relay: implicit TLS (port 465), STARTTLS (587), or plain (a relay on localhost)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    @contextmanager
    def connect(self) -> Iterator[smtplib.SMTP]:
        s = self.settings
        context = ssl.create_default_context()
        if s.security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            server = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.security == "starttls":
                server.starttls(context=context)
            if s.user:
                server.login(s.user, s.password)
            yield server
        finally:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()


class DevInbox:
    """Development without SMTP_HOST: nothing leaves the machine; the stored message is the inbox
    (the development-only page /dev/mail shows it)."""

    @contextmanager
    def connect(self) -> Iterator[DevInbox]:
        yield self

    def send_message(self, msg: EmailMessage) -> None:
        log.info("event=mail_kept_in_dev_inbox message_id=%s", msg["Message-ID"])


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base: timedelta = timedelta(seconds=60)

    def backoff(self, attempts: int) -> timedelta:
        return min(self.base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass(frozen=True)
class Claimed:
    id: int
    message_id: str
    to_address: str
    subject: str
    text_body: str
    html_body: str
    headers: str | None
    attempts: int
    created_at: datetime


@dataclass
class Round:
    sent: int = 0
    failed: int = 0
    dead: int = 0


def build_message(mail: Claimed, from_address: str) -> EmailMessage:
    """The standard library builds the MIME: multipart/alternative, the plain text first."""
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = Address(addr_spec=mail.to_address)
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = format_datetime(mail.created_at)
    for name, value in json.loads(mail.headers or "{}").items():
        msg[name] = value
    msg.set_content(mail.text_body)
    msg.add_alternative(mail.html_body, subtype="html")
    return msg


def claim_due(session: Session, limit: int = BATCH) -> list[Claimed]:
    now = clock.now()
    rows = session.scalars(
        select(OutgoingMail)
        .where(OutgoingMail.status.in_(DUE), OutgoingMail.next_attempt_at <= now)
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
        .limit(limit)
        .with_for_update()
    ).all()
    claimed = []
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        claimed.append(
            Claimed(
                row.id,
                row.message_id,
                row.to_address,
                row.subject,
                row.text_body,
                row.html_body,
                row.headers,
                row.attempts,
                row.created_at,
            )
        )
    return claimed


def mark_sent(session: Session, mail_id: int) -> None:
    session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(status="sent", sent_at=clock.now(), last_error=None)
    )


def mark_failed(session: Session, mail: Claimed, error: str, policy: RetryPolicy, permanent: bool) -> str:
    status = "dead" if permanent or mail.attempts >= policy.max_attempts else "failed"
    session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail.id)
        .values(status=status, last_error=error[:255], next_attempt_at=clock.now() + policy.backoff(mail.attempts))
    )
    return status


def _describe(exc: BaseException) -> tuple[str, bool]:
    """What went wrong, for admins (no credentials), and whether trying again cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return f"recipient refused ({', '.join(map(str, codes))})", all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{type(exc).__name__} {exc.smtp_code}: {text}", False
    return f"{type(exc).__name__}: {exc}", False


def send_due(db: Database, transport: Any, from_address: str, policy: RetryPolicy) -> Round:
    """One round. A message the server refuses fails alone; a server that cannot be reached (or drops the
    connection) fails every message of the round not yet sent, each tried again after its back-off."""
    outcome = Round()
    pending = db.transaction(claim_due)
    if not pending:
        return outcome
    try:
        with transport.connect() as connection:
            while pending:
                mail = pending[0]
                try:
                    connection.send_message(build_message(mail, from_address))
                except PER_MESSAGE_ERRORS as exc:
                    _failed(db, mail, exc, policy, outcome)
                else:
                    db.transaction(mark_sent, mail.id)
                    outcome.sent += 1
                    log.info("event=mail_sent mail_id=%s attempt=%d", mail.id, mail.attempts)
                pending.pop(0)
    except (smtplib.SMTPException, OSError) as exc:
        for mail in pending:
            _failed(db, mail, exc, policy, outcome)
    return outcome


# Refusals of one message; the connection stays usable for the next.
PER_MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)


def _failed(db: Database, mail: Claimed, exc: BaseException, policy: RetryPolicy, outcome: Round) -> None:
    error, permanent = _describe(exc)
    status = db.transaction(mark_failed, mail, error, policy, permanent)
    if status == "dead":
        outcome.dead += 1
    else:
        outcome.failed += 1
    log.warning("event=mail_%s mail_id=%s attempt=%d error=%s", status, mail.id, mail.attempts, error)

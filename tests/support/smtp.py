"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives, parsed."""

from __future__ import annotations

import email
import re
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LINK = re.compile(r"https?://[^\s\"'<>]+")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailCatcher:
    """Messages arrive in `messages`; `wait_for(n)` blocks until n have (no sleeps); `refuse` makes the
    server answer DATA with a temporary failure while set."""

    def __init__(self, user: str = "", password: str = "") -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.refuse = False
        self.logins: list[str] = []
        self._arrived = threading.Condition()
        self._credentials = (user, password)
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> MailCatcher:
        """Listen (again: a stopped aiosmtpd controller cannot be restarted, so each start builds one)."""
        options: dict[str, Any] = {}
        if self._credentials[0]:
            options = {"authenticator": self._authenticate, "auth_require_tls": False, "auth_required": True}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def _authenticate(self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self._credentials
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 try again later"
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=default)
        with self._arrived:
            self.envelopes.append(envelope)
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} messages arrived, {count} expected")
            return list(self.messages)

    def settings(self) -> dict[str, Any]:
        """App settings that send to this server."""
        user, password = self._credentials
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.port,
            "SMTP_SECURITY": "none",
            "SMTP_USER": user,
            "SMTP_PASSWORD": password,
            "MAIL_DEV_INBOX": False,
        }


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and the HTML part of a message."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None, "a message has both parts"
    return text.get_content(), html.get_content()


def links(message: EmailMessage) -> list[str]:
    """Every link in the plain-text part, in order."""
    return LINK.findall(parts(message)[0])


@pytest.fixture
def smtp_server() -> Iterator[MailCatcher]:
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


@pytest.fixture
def mailing_app(app_config: dict, smtp_server: MailCatcher) -> Iterator[Any]:
    """The app sending its mail to the test's SMTP server; `app.mail()` runs one round of the jobs process's
    sender and returns the messages that round delivered."""
    from auction import clock, create_app
    from auction.entrypoints import jobs
    from auction.models import Base

    app = create_app({**app_config, **smtp_server.settings(), "PUBLIC_URL": "http://leilao.test"})
    Base.metadata.create_all(app.extensions["auction.db"].engine)
    seen = 0

    def mail() -> list[EmailMessage]:
        nonlocal seen
        with app.app_context():
            sent = jobs.run_mail_round(app).sent
        messages = smtp_server.wait_for(seen + sent)[seen:]
        seen += sent
        return messages

    app.mail = mail
    yield app
    app.extensions["auction.db"].dispose()
    clock.reset()

"""Structured one-line logs (key=value) with secrets scrubbed before they are written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

from . import runtime

_SECRET_PATTERNS = [
    re.compile(r"\$aact_[A-Za-z0-9_\-:$]+"),
    re.compile(r"(?i)(access[_-]token|asaas-access-token|password|secret)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
]


class SecretFilter(logging.Filter):
    """Replaces configured secret values and Asaas-key shapes with '***' in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        text = _SECRET_PATTERNS[0].sub("***", text)
        return _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    root = logging.getLogger()
    secret_filter = SecretFilter(secrets)
    if not any(getattr(h, "_auction", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
        handler._auction = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for handler in root.handlers:
        # Units of work log from the runtime's offload threads; a handler's green lock contended between such a
        # thread and the hub cannot wake its waiter and the server stops answering (runtime/overrides.py).
        handler.lock = runtime.current().os_rlock()
        for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
            handler.removeFilter(old)
        handler.addFilter(secret_filter)
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

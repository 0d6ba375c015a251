"""Structured one-line logs (key=value) with secrets scrubbed before they are written."""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable

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


def _os_rlock() -> threading.RLock:
    """A real OS lock even after eventlet.monkey_patch().

    Units of work log from eventlet.tpool's OS threads; a handler's green lock contended
    between such a thread and the hub cannot wake its waiter ("Cannot switch to a different
    thread") and the server stops answering. The lock is held only while a line is written.
    """
    if "eventlet" not in sys.modules:  # nothing patched this process (and importing eventlet prints a banner)
        return threading.RLock()
    from eventlet import patcher

    return patcher.original("threading").RLock()


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    root = logging.getLogger()
    secret_filter = SecretFilter(secrets)
    if not any(getattr(h, "_auction", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
        handler._auction = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for handler in root.handlers:
        handler.lock = _os_rlock()
        for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
            handler.removeFilter(old)
        handler.addFilter(secret_filter)
    _os_module_lock()
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _os_module_lock() -> None:
    """logging's own module lock, as a handler's (`_os_rlock`): eventlet.monkey_patch() turns it green, and a
    logger looked up or a level cache refilled on a tpool thread (a unit of work logging) takes it."""
    if "eventlet" not in sys.modules:
        return
    from eventlet import patcher

    if patcher.is_monkey_patched("thread"):  # at start-up, before any other thread logs
        logging._lock = _os_rlock()  # type: ignore[attr-defined]

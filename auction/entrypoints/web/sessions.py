"""Flask's signed-cookie sessions, with recently checked cookies remembered for a few seconds.

Why by hand (no library does this): Flask-SocketIO runs every socket event in a request context of
the socket's handshake, and Flask opens that context's session from the cookie each time, so the
same cookie was HMAC-checked and JSON-decoded again for every bid and join (about 6% of the hub's
time on a hot auction, bench/). A cookie's contents never change, so its decoded session is kept
for at most REMEMBER_SECONDS and never past its own expiry; each request gets a deep copy, so
changes to one request's session reach the next only through a new cookie, as before.
"""

from __future__ import annotations

import copy
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

REMEMBER_SECONDS = 30.0
REMEMBERED = 4096  # cookies


class RememberingCookieSessions(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._seen: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._serializer: tuple[Any, Any] | None = None

    def get_signing_serializer(self, app: Flask) -> Any:
        # Built once per key (Flask builds one per request, twice: to open and to save the session).
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._serializer is None or self._serializer[0] != keys:
            self._serializer = (keys, super().get_signing_serializer(app))
        return self._serializer[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:  # a webhook, a first visit: nothing to check
            return self.session_class() if app.secret_key else None
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        now = time.monotonic()
        seen = self._seen.get(value)
        if seen is not None and seen[0] > now:
            return self.session_class(copy.deepcopy(seen[1]))
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        expires = now + min(REMEMBER_SECONDS, max_age - (time.time() - signed_at.timestamp()))
        self._seen[value] = (expires, copy.deepcopy(data))
        if len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        return self.session_class(data)

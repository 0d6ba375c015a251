"""A real python-socketio client for live-server tests: logs in over HTTP, records every event."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import socketio

PASSWORD = "correct horse battery"


def login_cookie(url: str, username: str, password: str = PASSWORD, http: requests.Session | None = None) -> str:
    """Log in through the real form (CSRF token included); returns the session cookie value. Pass `http` to keep
    browsing as that user with it (its cookie jar follows the session cookie as the site renews it)."""
    http = http or requests.Session()
    page = http.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token, "no CSRF token on the login form"
    response = http.post(
        f"{url}/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
    return http.cookies["auction_session"]


class SocketUser:
    """One browser tab: a websocket connection (logged in when `username` is given)."""

    def __init__(
        self,
        url: str,
        username: str | None = None,
        *,
        origin: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
        transports: tuple[str, ...] = ("websocket",),
    ) -> None:
        self.username = username
        self.events: list[tuple[str, Any]] = []
        self._changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._record)
        headers = {**(headers or {}), **({"Origin": origin} if origin else {})}  # else: the URL's own origin
        if username:
            headers["Cookie"] = f"auction_session={login_cookie(url, username)}"
        self.sio.connect(url, headers=headers, transports=list(transports), wait_timeout=timeout)

    def _record(self, event: str, payload: Any = None) -> None:
        with self._changed:
            self.events.append((event, payload))
            self._changed.notify_all()

    def call(self, event: str, payload: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        return self.sio.call(event, payload, timeout=timeout)

    def wait_for(self, event: str, match: Callable[[Any], bool] = lambda _p: True, timeout: float = 10) -> Any:
        """The first recorded `event` whose payload matches (waiting for it if needed)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for name, payload in self.events:
                    if name == event and match(payload):
                        return payload
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.username or 'anonymous'} got no matching {event!r}: {self.events}")
                self._changed.wait(left)

    def received(self, event: str) -> list[Any]:
        with self._changed:
            return [payload for name, payload in self.events if name == event]

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()

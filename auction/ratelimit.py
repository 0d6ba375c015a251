"""Sliding-window rate limits per key (user id, IP), in memory or shared through Redis.

Each limit counts hits in fixed windows and weighs the previous window by the share of
it that still lies inside the sliding window. Plain fixed windows reset at every
boundary, which lets a client spend twice its limit across one (and makes "the ninth
attempt is refused" depend on the clock).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


# name -> limit. Tuned for people, not for scripts.
LIMITS: dict[str, Limit] = {
    "bid_user": Limit(10, 1),
    "bid_ip": Limit(60, 1),
    "login_ip": Limit(20, 60),
    "login_user": Limit(8, 60),
    "register_ip": Limit(10, 3600),
    "topup_user": Limit(10, 60),
    "topup_ip": Limit(30, 60),
    "withdraw_user": Limit(5, 60),
    "withdraw_ip": Limit(20, 60),
    # Every action that sends e-mail (confirmation, reset, e-mail change): per address, account and client.
    "mail_address": Limit(3, 3600),
    "mail_user": Limit(5, 3600),
    "mail_ip": Limit(20, 3600),
    # Every socket event but bids (which have their own): per connection and per address.
    "socket_event_sid": Limit(40, 1),
    "socket_event_ip": Limit(200, 1),
}


class RateLimiter:
    def __init__(self, enabled: bool = True, redis_url: str | None = None) -> None:
        self.enabled = enabled
        self._counts: dict[str, tuple[float, int]] = {}  # bucket -> (expires at, hits)
        self._lock = threading.Lock()
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5)

    def hit(self, name: str, key: object) -> bool:
        """Count one hit; True when it is within the limit."""
        if not self.enabled:
            return True
        limit = LIMITS[name]
        window, offset = divmod(time.time(), limit.seconds)
        current, previous = self._count(f"rl:{name}:{key}", int(window), limit.seconds)
        return previous * (1 - offset / limit.seconds) + current <= limit.count

    def _count(self, prefix: str, window: int, seconds: int) -> tuple[int, int]:
        """Add one hit to this window; the hits of this window and of the previous one."""
        if self._redis is not None:
            try:
                pipe = self._redis.pipeline()
                pipe.incr(f"{prefix}:{window}")
                pipe.expire(f"{prefix}:{window}", 2 * seconds + 1)
                pipe.get(f"{prefix}:{window - 1}")
                current, _expired, previous = pipe.execute()
                return int(current), int(previous or 0)
            except Exception as exc:  # Redis down: fall back to this process's counts
                log.warning("event=ratelimit_redis_unavailable error=%s", type(exc).__name__)
        with self._lock:
            if len(self._counts) > 100_000:
                now = time.time()
                self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
            _expires, current = self._counts.get(f"{prefix}:{window}", (0.0, 0))
            # Kept while it can still be the previous window of a later hit.
            self._counts[f"{prefix}:{window}"] = ((window + 2) * seconds, current + 1)
            return current + 1, self._counts.get(f"{prefix}:{window - 1}", (0.0, 0))[1]

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

"""Fixed-window rate limits per key (user id, IP), in memory or shared through Redis."""

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
    "socket_user": Limit(40, 1),
}


class RateLimiter:
    def __init__(self, enabled: bool = True, redis_url: str | None = None) -> None:
        self.enabled = enabled
        self._counts: dict[str, tuple[int, int]] = {}
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
        window = int(time.time() // limit.seconds)
        bucket = f"rl:{name}:{key}:{window}"
        if self._redis is not None:
            try:
                pipe = self._redis.pipeline()
                pipe.incr(bucket)
                pipe.expire(bucket, limit.seconds + 1)
                count = pipe.execute()[0]
                return count <= limit.count
            except Exception as exc:  # Redis down: fall back to this process's counts
                log.warning("event=ratelimit_redis_unavailable error=%s", type(exc).__name__)
        with self._lock:
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            _old_window, count = self._counts.get(bucket, (window, 0))
            count += 1
            self._counts[bucket] = (window, count)
        return count <= limit.count

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

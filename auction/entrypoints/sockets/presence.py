"""How many sockets watch an auction, across server processes when Redis joins them.

One process: Socket.IO's own room membership is exact. Several processes joined by
a Redis message queue: Socket.IO keeps no cross-process membership, so each socket in
an auction room is also a member of a Redis sorted set per auction, scored with an
expiry time. The `watchers_refresh` job pushes the expiry forward while the socket
stays; leaving or disconnecting removes it at once, and the sockets of a process that
died drop out of the count within WATCHERS_TTL seconds. The count is a hint shown to
people and never used for a decision, so on any Redis error it falls back to this
process's own count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import join_room, leave_room, rooms

from ...extensions import socketio
from ...outbox import auction_room, user_room
from ..jobs import periodic

log = logging.getLogger(__name__)
ROOM_PREFIX = "auction:"


class WatcherCounter:
    def __init__(self, redis_url: str | None, channel: str, ttl: float) -> None:
        self.ttl = ttl
        self._prefix = f"{channel}:watchers:"
        self._redis = None
        if redis_url and redis_url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5)

    @property
    def shared(self) -> bool:
        """Counts live in Redis, shared by every process (else each process counts its own sockets)."""
        return self._redis is not None

    def _key(self, auction_id: int) -> str:
        return f"{self._prefix}{auction_id}"

    def joined(self, auction_id: int, sid: str) -> None:
        self.refresh([(auction_id, sid)])

    def left(self, auction_id: int, sid: str) -> None:
        if self._redis is None:
            return
        try:
            self._redis.zrem(self._key(auction_id), sid)
        except Exception as exc:
            log.warning("event=watchers_redis_unavailable error=%s", type(exc).__name__)

    def refresh(self, members: Iterable[tuple[int, str]]) -> None:
        """Mark these (auction id, sid) pairs as present for another `ttl` seconds."""
        if self._redis is None:
            return
        expires = time.time() + self.ttl
        try:
            pipe = self._redis.pipeline(transaction=False)
            for auction_id, sid in members:
                pipe.zadd(self._key(auction_id), {sid: expires})
                pipe.expire(self._key(auction_id), int(self.ttl) + 1)
            pipe.execute()
        except Exception as exc:
            log.warning("event=watchers_redis_unavailable error=%s", type(exc).__name__)

    def count(self, auction_id: int) -> int:
        local = local_count(auction_id)
        if self._redis is None:
            return local
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zremrangebyscore(self._key(auction_id), "-inf", time.time())
            pipe.zcard(self._key(auction_id))
            return max(int(pipe.execute()[1]), local)
        except Exception as exc:
            log.warning("event=watchers_redis_unavailable error=%s", type(exc).__name__)
            return local


def local_count(auction_id: int) -> int:
    """Sockets in the auction's room on this process."""
    return sum(1 for _ in socketio.server.manager.get_participants("/", f"{ROOM_PREFIX}{auction_id}"))


def local_members() -> list[tuple[int, str]]:
    """(auction id, sid) for every socket in an auction room on this process."""
    rooms = socketio.server.manager.rooms.get("/", {})
    return [
        (int(room[len(ROOM_PREFIX) :]), sid)
        for room, participants in list(rooms.items())
        if isinstance(room, str) and room.startswith(ROOM_PREFIX)
        for sid in list(participants)
    ]


def watching_live(user_id: int, auction_id: int) -> bool:
    """Whether one of the user's sockets on this process is in the auction's room now (the alerts round asks,
    to send nothing about an auction the user is looking at). Another process's sockets are not seen: with
    several processes this errs towards sending."""
    rooms = socketio.server.manager.rooms.get("/", {})
    watchers = rooms.get(auction_room(auction_id))
    if not watchers:
        return False
    return any(sid in watchers for sid in list(rooms.get(user_room(user_id), {})))


def counter(app: Flask | None = None) -> WatcherCounter:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("auction.watchers")
    if found is None:
        found = WatcherCounter(
            app.config["SOCKETIO_MESSAGE_QUEUE"], app.config["SOCKETIO_CHANNEL"], app.config["WATCHERS_TTL"]
        )
        app.extensions["auction.watchers"] = found
    return found


@periodic("watchers_refresh", "WATCHERS_REFRESH_INTERVAL", every_process=True)
def refresh_watchers(app: Flask) -> None:
    """Keep this process's watchers counted in Redis (a no-op without a message queue)."""
    watchers = counter(app)
    if watchers.shared:  # listing every room member holds the hub for a while on a crowded process
        watchers.refresh(local_members())


# Per room, not per socket: when each auction's room last heard its count, and which have one pending.
_announced_at: dict[int, float] = {}
_announce_pending: set[int] = set()


def _emit_count(auction_id: int) -> int:
    count = counter().count(auction_id)
    _announced_at[auction_id] = time.monotonic()
    socketio.emit("watchers", {"auction_id": auction_id, "count": count}, to=auction_room(auction_id))
    return count


def _announce_later(app: Any, auction_id: int, delay: float) -> None:
    socketio.sleep(delay)
    with app.app_context():
        _announce_pending.discard(auction_id)
        _emit_count(auction_id)


def announce(auction_id: int) -> int:
    """Tell the room how many watch it; returns the count.

    At most once per WATCHERS_ANNOUNCE_INTERVAL per room: a change inside the interval is sent
    once at its end. One broadcast per join made 500 joins cost 130,555 messages (bench/).
    """
    interval = current_app.config["WATCHERS_ANNOUNCE_INTERVAL"]
    since = time.monotonic() - _announced_at.get(auction_id, float("-inf"))
    if interval <= 0 or since >= interval:
        return _emit_count(auction_id)
    if auction_id not in _announce_pending:
        _announce_pending.add(auction_id)
        socketio.start_background_task(_announce_later, current_app._get_current_object(), auction_id, interval - since)
    return counter().count(auction_id)


def enter(auction_id: int) -> int:
    """This socket watches the auction live; returns the new count."""
    join_room(auction_room(auction_id))
    counter().joined(auction_id, request.sid)
    return announce(auction_id)


def leave(auction_id: int) -> None:
    leave_room(auction_room(auction_id))
    counter().left(auction_id, request.sid)
    announce(auction_id)


def leave_all() -> None:
    """On disconnect: the socket's auction rooms are still its rooms while the handler runs."""
    for room in rooms():
        if isinstance(room, str) and room.startswith(ROOM_PREFIX):
            leave(int(room[len(ROOM_PREFIX) :]))

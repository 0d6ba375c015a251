"""How many sockets watch an auction, across server processes when Redis joins them.

One process: Socket.IO's own room membership is exact. Several processes joined by
a Redis message queue: Socket.IO keeps no cross-process membership, so each socket in
an auction room is also a member of a Redis sorted set per auction, scored with an
expiry time. The `watchers_refresh` job pushes the expiry forward while the socket
stays; leaving or disconnecting removes it at once, and the sockets of a process that
died drop out of the count within WATCHERS_TTL seconds. The count is a hint shown to
people and never used for a decision, so on any Redis error it falls back to this
process's own count.

Who watches, for the alerts round (auction/entrypoints/alerts.py, in the jobs process that holds no sockets):
a logged-in socket in an auction's room is also `user id:sid` in a second sorted set per auction, kept the
same way; `watching_live` reads it (or this process's rooms). On a Redis error it answers "not watching",
which sends an alert the page already showed rather than losing one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, request, session
from flask_socketio import join_room, leave_room, rooms

from ...extensions import socketio
from ...outbox import auction_room, user_room
from ..jobs import periodic
from .connection import USER_KEY

log = logging.getLogger(__name__)
ROOM_PREFIX = "auction:"
USER_PREFIX = "user:"


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

    def _users_key(self, auction_id: int) -> str:
        return f"{self._prefix}{auction_id}:users"

    def joined(self, auction_id: int, sid: str, user_id: int | None = None) -> None:
        self.refresh([(auction_id, sid, user_id)])

    def left(self, auction_id: int, sid: str, user_id: int | None = None) -> None:
        if self._redis is None:
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zrem(self._key(auction_id), sid)
            if user_id is not None:
                pipe.zrem(self._users_key(auction_id), f"{user_id}:{sid}")
            pipe.execute()
        except Exception as exc:
            log.warning("event=watchers_redis_unavailable error=%s", type(exc).__name__)

    def refresh(self, members: Iterable[tuple[int, str, int | None]]) -> None:
        """Mark these (auction id, sid, user id or None) as present for another `ttl` seconds."""
        if self._redis is None:
            return
        expires = time.time() + self.ttl
        try:
            pipe = self._redis.pipeline(transaction=False)
            for auction_id, sid, user_id in members:
                pipe.zadd(self._key(auction_id), {sid: expires})
                pipe.expire(self._key(auction_id), int(self.ttl) + 1)
                if user_id is not None:
                    pipe.zadd(self._users_key(auction_id), {f"{user_id}:{sid}": expires})
                    pipe.expire(self._users_key(auction_id), int(self.ttl) + 1)
            pipe.execute()
        except Exception as exc:
            log.warning("event=watchers_redis_unavailable error=%s", type(exc).__name__)

    def watching(self, user_id: int, auction_id: int) -> bool:
        """Whether one of the user's sockets, on any process, is in the auction's room now."""
        if local_watching(user_id, auction_id) or self._redis is None:
            return local_watching(user_id, auction_id)
        try:
            members = self._redis.zrangebyscore(self._users_key(auction_id), time.time(), "+inf")
        except Exception as exc:
            log.warning("event=watchers_redis_unavailable error=%s", type(exc).__name__)
            return False
        prefix = f"{user_id}:".encode()
        return any(member.startswith(prefix) for member in members)

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


def local_members() -> list[tuple[int, str, int | None]]:
    """(auction id, sid, its user's id or None) for every socket in an auction room on this process."""
    rooms = socketio.server.manager.rooms.get("/", {})
    users = {
        sid: int(room[len(USER_PREFIX) :])
        for room, participants in list(rooms.items())
        if isinstance(room, str) and room.startswith(USER_PREFIX)
        for sid in list(participants)
    }
    return [
        (int(room[len(ROOM_PREFIX) :]), sid, users.get(sid))
        for room, participants in list(rooms.items())
        if isinstance(room, str) and room.startswith(ROOM_PREFIX)
        for sid in list(participants)
    ]


def local_watching(user_id: int, auction_id: int) -> bool:
    """Whether one of the user's sockets on this process is in the auction's room."""
    rooms = socketio.server.manager.rooms.get("/", {})
    watchers = rooms.get(auction_room(auction_id))
    if not watchers:
        return False
    return any(sid in watchers for sid in list(rooms.get(user_room(user_id), {})))


def watching_live(user_id: int, auction_id: int) -> bool:
    """The alerts round asks this, to send nothing about an auction the user is looking at."""
    return counter().watching(user_id, auction_id)


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
    counter().joined(auction_id, request.sid, _user_id())
    return announce(auction_id)


def leave(auction_id: int) -> None:
    leave_room(auction_room(auction_id))
    counter().left(auction_id, request.sid, _user_id())
    announce(auction_id)


def _user_id() -> int | None:
    """The socket's user, as its connect found it (no database work)."""
    user = session.get(USER_KEY)
    return user.id if user is not None else None


def leave_all() -> None:
    """On disconnect: the socket's auction rooms are still its rooms while the handler runs."""
    for room in rooms():
        if isinstance(room, str) and room.startswith(ROOM_PREFIX):
            leave(int(room[len(ROOM_PREFIX) :]))

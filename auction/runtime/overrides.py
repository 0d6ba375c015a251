"""Every place the site reaches into a library's internals: what, why, and the version it was checked against.

`OVERRIDES` lists them all, wherever their code lives; tests/test_overrides.py checks that each target still
exists in the installed library, and `./dev upgrade-check` runs those tests (and the live selection under
each runtime) against the newest releases, so an upgrade that moves one fails loudly instead of silently
losing the fix. The overrides a green runtime needs are installed here, by `install()`.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Runtime


@dataclass(frozen=True)
class Override:
    library: str  # the distribution's name on PyPI
    checked: str  # the version it was last checked against
    targets: tuple[str, ...]  # "module:attribute.path" the override replaces or relies on
    where: str  # the code that does it
    why: str


OVERRIDES = (
    Override(
        "SQLAlchemy",
        "2.1.9",
        (
            "sqlalchemy.event.attr:threading",
            "sqlalchemy.orm.mapper:_CONFIGURE_MUTEX",
            "sqlalchemy.sql.lambdas:AnalyzedCode._generation_mutex",
            "sqlalchemy.util.langhelpers:symbol._lock",
            "sqlalchemy.orm.collections:__instrumentation_mutex",
            "sqlalchemy.orm.session:_new_sessionid",
            "sqlalchemy.orm.loading:_new_runid",
        ),
        "auction/runtime/overrides.py sqlalchemy_os_locks",
        "green locks contended between offload threads never wake their waiter: first connects and Sessions hung",
    ),
    Override(
        "SQLAlchemy",
        "2.1.9",
        ("sqlalchemy.pool:QueuePool._queue_class", "sqlalchemy.pool:QueuePool.__init__ (_overflow_lock)"),
        "auction/db/engine.py OSThreadQueuePool",
        "the pool's queue mutex, a green lock, parked every tpool thread under load (docs/performance.md)",
    ),
    Override(
        "Python",
        "3.11",
        ("logging:_lock", "logging:Handler.createLock (lock)"),
        "auction/runtime/overrides.py logging_os_locks, auction/logging_setup.py",
        "units of work log from offload threads; a green logging lock contended there stopped the server",
    ),
    Override(
        "eventlet",
        "0.41.3",
        ("eventlet.websocket:RFC6455WebSocket._apply_mask",),
        "auction/runtime/overrides.py fast_websocket_unmasking",
        "eventlet's byte-by-byte unmasking generator was 3% of the hub on a hot auction",
    ),
    Override(
        "python-socketio",
        "5.18.1",
        ("socketio:RedisManager._handle_emit",),
        "auction/entrypoints/sockets/auction_cache.py",
        "the read model of auctions hears every process's messages where Redis delivers them",
    ),
    Override(
        "python-socketio",
        "5.18.1",
        ("socketio:Server._send_packet", "socketio:Server._send_eio_packet"),
        "auction/entrypoints/probe.py _count_packets (benchmarks only)",
        "counts the packets written per event name; python-socketio has no hook for it",
    ),
    Override(
        "Flask",
        "3.1.3",
        ("flask.ctx:RequestContext.match_request", "flask.ctx:RequestContext.__init__"),
        "auction/entrypoints/contexts.py",
        "a socket event binds the URL map once per socket and reuses the socket's saved session",
    ),
    Override(
        "Flask-SocketIO",
        "5.7.0",
        ("flask_socketio:SocketIO._handle_event",),
        "auction/entrypoints/contexts.py (the environ's saved_session)",
        "Flask-SocketIO replaces each event's session with the socket's saved copy; the context is built with it",
    ),
)


def install(runtime: Runtime) -> None:
    """The overrides a green runtime needs, right after monkey-patching (run.py, before the app is built)."""
    sqlalchemy_os_locks(runtime)
    logging_os_locks(runtime)
    if runtime.name == "eventlet":
        fast_websocket_unmasking()


def sqlalchemy_os_locks(runtime: Runtime) -> None:
    """SQLAlchemy's own module-level locks become the runtime's OS locks, as the pool's are (OSThreadQueuePool).

    Units of work run on offload threads, and under eventlet a green lock contended between OS threads never
    wakes its waiter: the waiting thread starts a hub of its own and sleeps in it for good. SQLAlchemy makes
    such a lock the first time a new pool connects (`_exec_w_sync_on_first_run`, holding it while the dialect
    initializes over the first connection), and a new pool's first connections all took it at once: a
    server's first concurrent requests, and the first ones after `engine.dispose()`, hung for ever
    (tests/test_runtime.py; seen in bench.webhooks as requests never answered). The mapper configuration lock
    is one too, and so are the counters that number every Session and every ORM load (`util.counter()`, a
    lock each): two webhook deliveries' Sessions made at the same moment on two tpool threads hung both
    (bench.webhooks with two processes, one run in three). By hand: no setting asks SQLAlchemy for a lock
    factory, so the module-level locks a unit of work can meet are swapped, and the counters for itertools
    counters, whose next() is atomic under the GIL.
    """
    attr, collections, loading, mapper, session, lambdas, langhelpers = (
        # import_module, not `from sqlalchemy.orm import mapper`: that name is also a function of the package.
        importlib.import_module(f"sqlalchemy.{name}")
        for name in (
            "event.attr",
            "orm.collections",
            "orm.loading",
            "orm.mapper",
            "orm.session",
            "sql.lambdas",
            "util.langhelpers",
        )
    )
    real = runtime.os_threading
    if getattr(attr.threading, "Lock", None) is real.Lock and not isinstance(attr.threading, types.ModuleType):
        return  # already done
    attr.threading = types.SimpleNamespace(Lock=real.Lock)
    mapper._CONFIGURE_MUTEX = real.RLock()
    lambdas.AnalyzedCode._generation_mutex = real.RLock()
    langhelpers.symbol._lock = real.Lock()
    setattr(collections, "__instrumentation_mutex", real.Lock())  # a module-level dunder name
    # Numbering goes on from where it is, so ids already given out are never given again.
    session._new_sessionid = itertools.count(session._new_sessionid() + 1).__next__
    loading._new_runid = itertools.count(loading._new_runid() + 1).__next__


def logging_os_locks(runtime: Runtime) -> None:
    """logging's module lock, as every handler's (logging_setup.py): monkey-patching turns it green, and a logger
    looked up or a level cache refilled on an offload thread (a unit of work logging) takes it. At start-up,
    before any other thread logs."""
    logging._lock = runtime.os_rlock()  # type: ignore[attr-defined]


def unmask(data: bytes, mask: bytes, length: int | None = None, offset: int = 0) -> bytes:
    """XOR the first `length` bytes of a client's websocket payload with its 4-byte `mask`, starting
    `offset` bytes into the mask's cycle (RFC 6455 section 5.3), as eventlet's
    `RFC6455WebSocket._apply_mask` does, but on whole integers instead of one Python step per byte.

    By hand because eventlet has no faster path and no library plugs in here: every frame a browser
    sends is masked, and eventlet's generator was 3% of the hub's time on a hot auction (bench/)."""
    if length is None:
        length = len(data)
    if length <= 0:
        return b""
    turn = offset % 4
    key = (mask[turn:] + mask[:turn]) * (length // 4 + 1)
    masked = int.from_bytes(data[:length], "little") ^ int.from_bytes(key[:length], "little")
    return masked.to_bytes(length, "little")


def fast_websocket_unmasking() -> None:
    """Serve eventlet's websockets with `unmask` (tests/test_overrides.py compares the two)."""
    from eventlet.websocket import RFC6455WebSocket

    RFC6455WebSocket._apply_mask = staticmethod(unmask)

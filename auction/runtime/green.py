"""The green runtimes: eventlet (the site's default) and gevent. Imported only when run.py selects one,
so no other process imports either library."""

from __future__ import annotations

import importlib.util
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from . import Runtime, Waitable, overrides

T = TypeVar("T")
# OS threads that run offloaded work: eventlet's tpool has 20 by default (EVENTLET_THREADPOOL_SIZE); gevent's
# hub threadpool gets as many, so either runtime can keep DB_POOL_SIZE's 20 connections busy.
THREADPOOL_SIZE = 20


class EventletRuntime(Runtime):
    name = "eventlet"
    green = True

    def __init__(self) -> None:
        # eventlet is in bugfix-only mode and says so on import; it is the server the project chose.
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()
        from eventlet import patcher, tpool
        from eventlet.event import Event

        class GreenEvent(Event):  # type: ignore[misc]
            # A queued bid waits on one: a patched threading.Event builds a Condition and a lock for every
            # bid (3.5% of the hub on a hot auction); eventlet's own Event is one object.
            set = Event.send

        self._eventlet, self._tpool, self._event = eventlet, tpool, GreenEvent
        self.os_threading = patcher.original("threading")
        self._os_thread_id = patcher.original("_thread").get_ident

    def offload(self, fn: Callable[..., T], *args: Any) -> T:
        return self._tpool.execute(fn, *args)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        self._eventlet.spawn(fn, *args)

    def sleep(self, seconds: float) -> None:
        self._eventlet.sleep(seconds)

    def event(self) -> Waitable:
        return self._event()

    def os_thread_id(self) -> int:
        return self._os_thread_id()

    def lift_read_timeout(self, environ: dict[str, Any]) -> None:
        source = environ.get("eventlet.input")
        sock = source.get_socket() if source is not None and hasattr(source, "get_socket") else None
        if sock is not None:
            sock.settimeout(None)


class GeventRuntime(Runtime):
    name = "gevent"
    green = True

    def __init__(self) -> None:
        from gevent import monkey

        monkey.patch_all()
        import gevent
        import gevent.event

        self._gevent = gevent
        gevent.get_hub().threadpool.maxsize = THREADPOOL_SIZE
        # gevent's locks, like eventlet's, hang when contended between threadpool threads (a new pool's first
        # connections at once hung in SQLAlchemy's first-connect lock, tests/test_runtime.py): the same real
        # locks as under eventlet.
        self.os_threading = _unpatched_threading(monkey)
        self._os_thread_id = monkey.get_original("_thread", "get_ident")

    def offload(self, fn: Callable[..., T], *args: Any) -> T:
        return self._gevent.get_hub().threadpool.apply(fn, args)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        self._gevent.spawn(fn, *args)

    def sleep(self, seconds: float) -> None:
        self._gevent.sleep(seconds)

    def event(self) -> Waitable:
        return self._gevent.event.Event()

    def os_thread_id(self) -> int:
        return self._os_thread_id()


def _unpatched_threading(monkey: Any) -> types.ModuleType:
    """A private copy of the `threading` module built on the original `_thread`, as eventlet's
    `patcher.original("threading")` is (gevent has no such call): its locks and conditions are OS locks."""
    real_thread = types.ModuleType("_thread")
    real_thread.__dict__.update(sys.modules["_thread"].__dict__)
    for name in monkey.saved.get("_thread", ()):
        setattr(real_thread, name, monkey.get_original("_thread", name))
    spec = importlib.util.find_spec("threading")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    patched, sys.modules["_thread"] = sys.modules["_thread"], real_thread
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules["_thread"] = patched
    return module


def start(mode: str) -> Runtime:
    """Monkey-patch the process for `mode` and install the library overrides a green runtime needs."""
    runtime: Runtime = EventletRuntime() if mode == "eventlet" else GeventRuntime()
    overrides.install(runtime)
    return runtime

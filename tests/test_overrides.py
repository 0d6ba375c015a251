"""Guards for every library internal the site overrides (auction/runtime/overrides.py `OVERRIDES`): each target
still exists where the override expects it. `./dev upgrade-check` runs these against the newest releases."""

from __future__ import annotations

import importlib
import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.runtime.overrides import OVERRIDES, unmask

TARGETS = sorted({(o.library, target) for o in OVERRIDES for target in o.targets})


def _resolve(target: str) -> object:
    """ "module:attr.path", or "module:Class.method (name)": a method that still sets the instance attribute."""
    module_name, _, path = target.partition(":")
    path, _, attribute = path.partition(" (")
    found: object = importlib.import_module(module_name)
    for part in path.split("."):
        found = inspect.getattr_static(found, part) if isinstance(found, type) else getattr(found, part)
    if attribute:
        assert f"self.{attribute.rstrip(')')} =" in inspect.getsource(found), f"{target} sets it no more"
    return found


@pytest.mark.parametrize(("library", "target"), TARGETS, ids=[t for _, t in TARGETS])
def test_every_overridden_target_still_exists(library, target):
    assert _resolve(target) is not None, f"{library}: {target} is gone; see auction/runtime/overrides.py"


def test_flasks_request_context_still_takes_the_session_it_is_handed():
    """auction/entrypoints/contexts.py builds a socket event's context with the socket's saved session."""
    from flask.ctx import RequestContext

    assert "session" in inspect.signature(RequestContext.__init__).parameters


def test_flask_socketio_still_saves_the_socket_session_in_the_environ():
    from flask_socketio import SocketIO

    assert "saved_session" in inspect.getsource(SocketIO._handle_event)


def test_the_redis_manager_still_hears_every_emit_at_handle_emit():
    """auction_cache.py's client manager updates the read model there, for every process's messages."""
    from socketio import RedisManager

    assert list(inspect.signature(RedisManager._handle_emit).parameters) == ["self", "message"]


def test_sqlalchemys_counters_are_still_what_the_override_replaces():
    """util.counter() makes the Session and load numbering functions; the override swaps them for itertools
    counters, keeping the numbering going, so they must still be plain calls returning integers."""
    from sqlalchemy.orm import loading, session

    assert isinstance(session._new_sessionid(), int)
    assert isinstance(loading._new_runid(), int)


@given(
    data=st.binary(max_size=300),
    mask=st.binary(min_size=4, max_size=4),
    cut=st.integers(min_value=0, max_value=300) | st.none(),
    offset=st.integers(min_value=0, max_value=10_000),
)
def test_websocket_unmasking_gives_what_eventlets_own_gives(data, mask, cut, offset):
    """eventlet's runtime serves websockets with overrides.unmask; for any payload, mask, length and offset into
    the mask's cycle (a frame read in pieces) it must equal eventlet's byte-by-byte original."""
    from eventlet.websocket import RFC6455WebSocket

    original = RFC6455WebSocket.__dict__["_apply_mask"]
    assert original.__func__ is not unmask, "the test process is not run.py: eventlet's own is in place"
    length = None if cut is None else min(cut, len(data))
    assert unmask(data, mask, length, offset) == original.__func__(data, mask, length, offset)
    assert unmask(unmask(data, mask, length, offset), mask, length, offset) == data[:length]

"""One way for an adapter to run a use case (auction/entrypoints/usecases.py), and a map with no blank spots.

Every module of auction/entrypoints reaches the database through `usecases.perform`, `read` or `database`;
none calls the Database's own methods or the bid queue. And docs/architecture.md names every module of the
adapters and the runtime, so a newcomer following a bid meets no unexplained file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auction import create_app
from auction.auctions import bids
from auction.entrypoints import usecases

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINTS = ROOT / "auction" / "entrypoints"
# The other ways to run work on the database, which only usecases.py (and the batcher behind it) may use.
OTHER_WAYS = re.compile(
    r"\bget_db\b|\bbid_queue\(|\.transaction\(|\.snapshot\(|\bdb\.run\(|\.extensions\[\"auction\.db\"\]\.run\("
)
ALLOWED = {
    "usecases.py",  # the one door
    "sockets/bid_queue.py",  # the batcher behind `perform(bids.place, ...)`: it runs each batch's unit of work
    # Given their Database by create_app, they read on threads of their own with no app context to find it in:
    "sockets/auction_cache.py",  # the read model of auctions (its loads run on a thread it spawns)
    "metrics.py",  # the scrape's backlog collector
}


def test_no_adapter_runs_work_on_the_database_but_through_usecases():
    offenders = []
    for path in sorted(ENTRYPOINTS.rglob("*.py")):
        name = path.relative_to(ENTRYPOINTS).as_posix()
        if name in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if OTHER_WAYS.search(line):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == []


def test_the_grep_catches_each_other_way():
    for line in (
        "get_db().run(fn)",
        "x = get_db()",
        "bid_queue().submit(cmd, token)",
        "db.transaction(q)",
        "self.db.transaction(q)",
        "get_db().snapshot(q)",
        "db.run(fn)",
    ):
        assert OTHER_WAYS.search(line), line
    assert not OTHER_WAYS.search("perform(fn, x)") and not OTHER_WAYS.search("read(q, consistent=True)")


class _Recorder:
    def __init__(self) -> None:
        self.submitted: list[tuple[object, str | None]] = []

    def submit(self, command: object, token: str | None) -> str:
        self.submitted.append((command, token))
        return "batched"


@pytest.fixture
def app():
    return create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SCHEDULER_ENABLED": False})


def test_create_app_gives_the_bid_use_case_its_batcher(app):
    assert set(app.extensions[usecases.BATCHERS]) == {bids.place}


def test_a_socket_event_performs_a_bid_through_its_batcher_with_its_login(app):
    recorder = _Recorder()
    app.extensions[usecases.BATCHERS] = {bids.place: recorder}
    login = usecases.SocketLogin("token-1", lambda _session: None)
    with app.app_context(), usecases.acting_as(login):
        assert usecases.perform(bids.place, "command") == "batched"
    assert recorder.submitted == [("command", "token-1")]


def test_a_socket_event_re_checks_its_login_in_the_use_cases_transaction(app):
    seen = []

    def refuse(session):
        seen.append(session)
        raise PermissionError("logged out")

    def use_case(uow):
        raise AssertionError("the use case ran for a socket whose login ended")

    with app.app_context():
        with usecases.acting_as(usecases.SocketLogin("t", refuse)), pytest.raises(PermissionError):
            usecases.perform(use_case)
        assert len(seen) == 1
        # Outside a socket event that acts (a page, a job), the use case runs with no login check.
        assert usecases.perform(lambda uow, x: x + 1, 1) == 2
        assert usecases.read(lambda session, x: x * 3, 2) == 6
        assert usecases.read(lambda session: 7, consistent=True) == 7


def _modules() -> set[str]:
    auction = ROOT / "auction"
    return {
        path.relative_to(auction).as_posix()
        for package in ("entrypoints", "runtime")
        for path in (auction / package).rglob("*.py")
    }


def test_the_architecture_page_lists_every_module_of_the_adapters_and_the_runtime():
    page = (ROOT / "docs" / "architecture.md").read_text()
    section = page[page.index("### Every file of the adapters and the runtime") :]
    listed = set(re.findall(r"^\| `((?:entrypoints|runtime)/[\w/]+\.py)` \|", section, re.M))
    modules = _modules()
    assert len(modules) > 40
    assert sorted(modules - listed) == [], "a module the map does not list"
    assert sorted(listed - modules) == [], "a listed module that no longer exists"


def test_only_the_runtime_names_eventlet_or_gevent():
    """Not even in a comment: what depends on the runtime lives in auction/runtime (docs/architecture.md)."""
    named = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "auction").rglob("*.py")
        if "runtime" not in path.relative_to(ROOT / "auction").parts[:1]
        and re.search(r"\b(eventlet|gevent)\b", path.read_text())
    ]
    assert named == []

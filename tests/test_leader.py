"""The jobs lease (auction/entrypoints/leader.py): one holder at a time, freed when the holder is gone.

The live takeover (two run.py jobs processes, the leader SIGKILLed mid-round) is in tests/test_faults.py."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import make_url

from auction.db import Database
from auction.entrypoints import jobs
from auction.entrypoints.leader import Leadership, lease_for, lock_name
from auction.entrypoints.shutdown import DRAIN
from tests.support.faults import TcpProxy, kill_connections, wait_for


@pytest.fixture
def candidates(db_url: str):
    """candidates(n, timeout) -> n Leaderships, each with its own Database as on its own machine."""
    made: list[tuple[Database, Leadership]] = []

    def make(n: int, timeout: int = 10) -> list[Leadership]:
        for _ in range(n):
            db = Database(db_url, pool_size=1)
            made.append((db, Leadership(lease_for(db, timeout))))
        return [leadership for _db, leadership in made[-n:]]

    yield make
    for db, leadership in made:
        close = getattr(leadership.lease, "close", None)
        if close is not None:
            close()
        db.dispose()


def test_one_candidate_leads_and_another_takes_over_once_it_is_gone(candidates, caplog):
    caplog.set_level(logging.INFO, logger="auction")
    first, second, third = candidates(3)
    assert [first.renew(), second.renew(), third.renew()] == [True, False, False]
    assert first.renew() and not second.renew(), "the leader keeps its lease; the others keep waiting"
    first.lease.close()  # what the kernel does to the connection or the lock file of a dead process
    assert [second.renew(), third.renew()] == [True, False]
    assert second.leading and not third.leading
    assert "event=jobs_lease_acquired" in caplog.text


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_a_leader_whose_connection_is_killed_stops_leading(candidates, db_url, caplog):
    caplog.set_level(logging.INFO, logger="auction")
    leader, follower = candidates(2)
    assert leader.renew() and not follower.renew()
    assert kill_connections(db_url) >= 2
    assert not leader.renew(), "the lock went with the connection"
    assert "event=jobs_lease_lost" in caplog.text
    assert follower.renew() or follower.renew()  # a killed follower reconnects on its next attempt


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_the_database_frees_the_lease_of_a_leader_gone_silent_after_the_lease_timeout(candidates):
    # A machine that vanished sends nothing, not even a close: its session ends after wait_timeout.
    leader, follower = candidates(2, timeout=1)
    assert leader.renew() and not follower.renew()
    started = time.monotonic()
    wait_for(follower.renew, timeout=10, interval=0.2, what="the follower's lease")
    assert time.monotonic() - started < 1 + 2, "the silent leader's lease outlived JOBS_LEASE_TIMEOUT"
    assert not leader.renew()


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_a_leader_cut_off_from_the_database_steps_down_before_a_follower_takes_over(db_url):
    # A partition: the leader's packets stop, nothing closes its connection (a vanished machine looks the same).
    proxy = TcpProxy("127.0.0.1", make_url(db_url).port or 3306).start()
    leader_db, follower_db = Database(proxy.url_for(db_url), pool_size=1), Database(db_url, pool_size=1)
    leader, follower = (Leadership(lease_for(db, timeout=2)) for db in (leader_db, follower_db))
    try:
        assert leader.renew() and not follower.renew()
        proxy.freeze()
        frozen = time.monotonic()
        assert not leader.renew(), "a leader that cannot reach the database must not go on leading"
        stepped_down = time.monotonic() - frozen
        wait_for(follower.renew, timeout=10, interval=0.1, what="the follower's lease")
        took_over = time.monotonic() - frozen
        # It gives up after half the lease timeout (1 s), before the server frees the silent session's lock (2 s).
        assert stepped_down < 1.5, f"the cut-off leader led on for {stepped_down:.1f}s"
        assert took_over < 2 + 2, f"the follower led {took_over:.1f}s after the partition"
    finally:
        proxy.cut()
        for db, leadership in ((leader_db, leader), (follower_db, follower)):
            leadership.lease.close()
            db.dispose()


def test_lock_names_fit_mariadb_and_differ_per_database():
    assert lock_name("auction") == "leilao.jobs.auction"
    long_names = {lock_name("x" * 64), lock_name("x" * 63 + "y")}
    assert len(long_names) == 2 and all(len(name) <= 64 for name in long_names)


def test_a_draining_leader_gives_the_lease_up_at_once(candidates, db_url, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="auction")
    leader, follower = candidates(2)
    assert leader.renew() and not follower.renew()
    monkeypatch.setattr(DRAIN, "draining", True)  # SIGTERM: the leader's loop ends and resigns
    database = Database(db_url, pool_size=1)
    jobs._lead(SimpleNamespace(config={"JOBS_LEASE_INTERVAL": 1}, extensions={"auction.db": database}), leader)
    database.dispose()
    assert not leader.leading and "event=jobs_lease_released" in caplog.text
    assert follower.renew(), "the follower leads without waiting for the old leader's exit"

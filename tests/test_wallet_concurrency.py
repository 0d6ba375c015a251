"""Real concurrency: OS threads with their own connections race wallet movements.

Each thread runs its movements through `Database.run` (one short transaction
each, deadlocks retried) on the same two bidder wallets and one seller. After the
race the audit must be clean, the money inside the platform must equal what was
credited minus what was reversed, and replaying every wallet's ledger in lock
order must show no hold that left a balance negative.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from auction import wallet
from auction.db import Database
from auction.errors import ServiceError
from auction.models import Base
from tests.conftest import ARTIFACTS
from tests.support.ledger import (
    add_users,
    empty_tables,
    ledger_violations,
    make_auction,
    replay_violations,
    total_money,
)

THREADS = 8
FEE_BPS = 250


@pytest.fixture(params=["sqlite", "mariadb"])
def race_db(request: pytest.FixtureRequest, tmp_path: Path):
    """A Database sized for the threads (no offload: these are plain OS threads)."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'race.db'}", pool_size=THREADS + 2)
        Base.metadata.create_all(db.engine)
    else:
        db = Database(request.getfixturevalue("mariadb_schema_url"), pool_size=THREADS + 2)
        empty_tables(db)  # no platform accounts either: the first movements race to create them
    yield db
    if not db.is_sqlite:
        empty_tables(db)
    db.dispose()


@dataclass
class Tally:
    """What the threads did, shared under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    done: Counter = field(default_factory=Counter)
    credited: int = 0
    reversed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: str, movement: wallet.Movement | None = None) -> None:
        with self.lock:
            self.done[outcome] += 1
            if movement is not None and not movement.replayed:
                self.credited += movement.amount if movement.kind == "credit" else 0
                self.reversed += movement.amount if movement.kind == "reverse" else 0


@dataclass
class Scene:
    bidders: list[int]
    seller: int
    auctions: list[int]


def setup_scene(db: Database) -> Scene:
    *bidders, seller = add_users(db, 3)
    return Scene(bidders, seller, [make_auction(db, seller, f"lot {n}") for n in range(3)])


def random_movement(rng: random.Random, scene: Scene) -> tuple[str, Callable[..., wallet.Movement], dict]:
    user, auction = rng.choice(scene.bidders), rng.choice(scene.auctions)
    roll = rng.random()
    if roll < 0.25:
        return "credit", wallet.credit, dict(user_id=user, amount=rng.randint(100, 5_000))
    if roll < 0.35:
        return "reverse", wallet.reverse, dict(user_id=user, amount=rng.randint(50, 1_500))
    if roll < 0.65:
        return "hold", wallet.hold, dict(user_id=user, auction_id=auction, amount=rng.randint(50, 3_000))
    if roll < 0.85:
        part = rng.choice([None, rng.randint(1, 1_000)])
        return "release", wallet.release, dict(user_id=user, auction_id=auction, amount=part)
    seller = dict(seller_id=scene.seller, amount=rng.randint(50, 3_000), fee_bps=FEE_BPS)
    return "capture", wallet.capture, dict(user_id=user, auction_id=auction, **seller)


def worker(db: Database, scene: Scene, tally: Tally, number: int, deadline: float) -> None:
    rng = random.Random(number)
    count = 0
    while time.monotonic() < deadline:
        count += 1
        name, fn, kwargs = random_movement(rng, scene)
        kwargs["key"] = f"t{number}-{count}"
        try:
            tally.add(name, db.transaction(lambda s, fn=fn, kwargs=kwargs: fn(s, **kwargs)))
        except ServiceError as exc:  # a refusal (not enough funds, in debt, releasing too much)
            tally.add(f"{name} refused ({exc.code})")
        except Exception as exc:
            with tally.lock:
                tally.errors.append(f"{name}: {type(exc).__name__}: {exc}")


def run_race(db: Database, scene: Scene, seconds: float) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=worker, args=(db, scene, tally, n, deadline)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck"
    return tally


def test_threads_racing_on_two_wallets_create_or_lose_no_money(
    race_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    scene = setup_scene(race_db)
    seconds = 1.5 if race_db.is_sqlite else 3.0
    with caplog.at_level(logging.INFO, logger="auction.db"):
        tally = run_race(race_db, scene, seconds)
    messages = [record.getMessage() for record in caplog.records]
    retries = Counter(message.rsplit("reason=", 1)[-1] for message in messages if "event=tx_retry" in message)
    report = {"backend": race_db.dialect, "threads": THREADS, "seconds": seconds, "retries": dict(retries)}
    report |= {"operations": sum(tally.done.values()), "by_outcome": dict(sorted(tally.done.items()))}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"wallet_concurrency_{race_db.dialect}.json").write_text(json.dumps(report, indent=2))
    print(f"\nwallet race: {json.dumps(report)}")

    assert tally.errors == []
    assert report["operations"] >= 100, report
    for kind in ("credit", "hold", "release", "capture"):
        assert tally.done[kind] > 0, f"no {kind} succeeded: {report}"
    with race_db.session() as session:
        assert wallet.audit(session) == []
        assert ledger_violations(session) == []
        assert replay_violations(session) == []
        assert total_money(session) == tally.credited - tally.reversed


SAME_KEY_CALLS: dict[str, Callable[[Scene], tuple[Callable[..., wallet.Movement], dict]]] = {
    "credit": lambda sc: (wallet.credit, dict(user_id=sc.bidders[0], amount=1_000)),
    "hold": lambda sc: (wallet.hold, dict(user_id=sc.bidders[0], auction_id=sc.auctions[0], amount=300)),
    "release": lambda sc: (wallet.release, dict(user_id=sc.bidders[0], auction_id=sc.auctions[0], amount=100)),
    "capture": lambda sc: (
        wallet.capture,
        dict(user_id=sc.bidders[0], auction_id=sc.auctions[0], seller_id=sc.seller, amount=150, fee_bps=FEE_BPS),
    ),
}


def test_the_same_key_from_many_threads_at_once_has_exactly_one_effect(race_db: Database) -> None:
    scene = setup_scene(race_db)
    for round_number in range(3):
        for name, make_call in SAME_KEY_CALLS.items():
            fn, kwargs = make_call(scene)
            key = f"same-{name}-{round_number}"
            results: list[wallet.Movement | BaseException] = []
            barrier = threading.Barrier(THREADS)

            def call(fn=fn, kwargs=kwargs, key=key, barrier=barrier, results=results) -> None:
                barrier.wait()
                try:
                    results.append(race_db.transaction(lambda s: fn(s, key=key, **kwargs)))
                except Exception as exc:
                    results.append(exc)

            threads = [threading.Thread(target=call) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert all(isinstance(r, wallet.Movement) for r in results), results
            assert len(results) == THREADS
            assert sorted(r.replayed for r in results) == [False] + [True] * (THREADS - 1), (name, results)
            assert len({r.transaction_id for r in results}) == 1
    with race_db.session() as session:
        assert wallet.audit(session) == []
        assert ledger_violations(session) == []
        # three rounds: 3 x 1000 credited, 3 x 300 held, 100 released and 150 captured each time
        assert wallet.balance(session, scene.bidders[0]) == wallet.Balance(3_000 - 3 * 300 + 3 * (300 - 150), 0)
        assert total_money(session) == 3_000

"""Backups as docs/database.md tells an admin to take them: `mariadb-dump --single-transaction --master-data=2` while
bids are being placed, restored into a new database (`flask wallet audit` passes on it), then rolled forward to
the moment of the last bid with the binary logs (`mariadb-binlog --start-position`): point-in-time restore.

A private mariadbd with binary logs on (the shared test server has none), made by the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select

from auction.db import Database
from auction.models import Auction, Bid, LedgerEntry, Wallet
from tests.conftest import IN_CI
from tests.support.auctions import fund, new_auction, place
from tests.support.faults import PrivateMariaDB, wait_for
from tests.support.server import ROOT

pytestmark = [
    pytest.mark.parametrize("backend", ["mariadb"], indirect=True),
    pytest.mark.usefixtures("fast_passwords"),
    pytest.mark.skipif(not shutil.which("mariadb-dump") and not IN_CI, reason="mariadb-dump is not installed"),
]


@pytest.fixture(scope="module")
def private_mariadb(tmp_path_factory):
    server = PrivateMariaDB(tmp_path_factory.mktemp("mariadbd"), binlog=True).install().start()
    server.create_database("auction")
    yield server
    server.kill()


@pytest.fixture
def db_url(private_mariadb, backend) -> str:
    return private_mariadb.url


def flask_audit(url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x" * 32, "ASAAS_WEBHOOK_TOKEN": "t" * 32}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "auction", "wallet", "audit"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def state(url: str) -> tuple:
    """What must be equal after a restore: bids, the auction's row, every balance, the ledger's size."""
    db = Database(url, pool_size=1)
    try:
        return db.transaction(
            lambda s: (
                s.scalar(select(func.count(Bid.id))),
                s.execute(select(Auction.current_price, Auction.bid_count, Auction.leader_id)).all(),
                s.execute(select(Wallet.id, Wallet.available, Wallet.held).order_by(Wallet.id)).all(),
                s.scalar(select(func.count(LedgerEntry.id))),
            )
        )
    finally:
        db.dispose()


def test_a_dump_under_load_restores_audits_and_rolls_forward_with_the_binary_logs(
    private_mariadb, db, make_user, tmp_path
):
    seller, ana, bia = make_user("seller"), make_user("ana"), make_user("bia")
    fund(db, ana, 10_000_000)
    fund(db, bia, 10_000_000)
    auction_id = new_auction(db, seller, min_increment=100)
    stop = threading.Event()
    placed: list[int] = []

    def bidding() -> None:
        amount = 1_000
        while not stop.is_set():
            outcome, _ = place(db, auction_id, (ana, bia)[len(placed) % 2], amount)
            placed.append(outcome.bid_id)
            amount = outcome.next_min

    worker = threading.Thread(target=bidding, daemon=True)
    worker.start()
    try:
        wait_for(lambda: len(placed) >= 20, timeout=60, what="bids before the dump")
        dump = tmp_path / "auction.sql"
        with dump.open("w") as out:
            subprocess.run(
                [
                    "mariadb-dump",
                    *private_mariadb.client_args(),
                    "--single-transaction",
                    "--master-data=2",
                    "--routines",
                    "--triggers",
                    "auction",
                ],
                stdout=out,
                check=True,
                timeout=120,
            )
        during = len(placed)
        wait_for(lambda: len(placed) >= during + 20, timeout=60, what="bids after the dump")
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    final = state(private_mariadb.url)

    # 1. The dump alone: a consistent snapshot of some moment during the bidding; the ledger balances.
    restored = private_mariadb.create_database("restored", schema=False)
    with dump.open() as dumped:
        subprocess.run(["mariadb", *private_mariadb.client_args(), "restored"], stdin=dumped, check=True, timeout=120)
    audited = flask_audit(restored)
    assert audited.returncode == 0 and "ledger OK" in audited.stdout, audited.stdout + audited.stderr
    snapshot = state(restored)
    assert 20 <= snapshot[0] < final[0]
    assert snapshot[1][0][1] == snapshot[0]  # the auction's bid_count matches its rows: no half bid

    # 2. Point in time: replay the binary logs from the position the dump recorded, up to now.
    position = re.search(r"MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)", dump.read_text())
    assert position, "the dump records its binary log position (--master-data=2)"
    data = private_mariadb.folder / "data"
    first = position.group(1)
    logs = sorted(p.name for p in data.glob("binlog.[0-9]*") if p.name >= first)
    replay = subprocess.run(
        [
            "mariadb-binlog",
            "--no-defaults",
            f"--start-position={position.group(2)}",
            "--database=auction",
            "--rewrite-db=auction->restored",
            *[str(data / name) for name in logs],
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    subprocess.run(
        ["mariadb", *private_mariadb.client_args(), "restored"], input=replay.stdout, check=True, timeout=120
    )
    assert state(restored) == final
    audited = flask_audit(restored)
    assert audited.returncode == 0, audited.stdout + audited.stderr

"""Real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the real server (run.py).

Users and auctions are set up through the services on the same SQLite file the
server uses; everything a person does (register, log in, bid, top up, sell) goes
through the pages.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from auction import accounts, clock, wallet
from auction.auctions import bids, closing, listing
from auction.db import Database
from auction.models import Auction, Order
from auction.outbox import Outbox
from tests.conftest import ARTIFACTS, IN_CI, VALID_CPFS
from tests.support.auctions import FACTS
from tests.support.server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.path.exists(CHROMIUM) or IN_CI:
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium); required when CI=true")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Site:
    server: LiveServer
    db: Database
    browser: object
    contexts: list
    # Script errors and CSP violations seen on any page (network drops excepted).
    errors: list

    @property
    def url(self) -> str:
        return self.server.url

    def user(self, username: str, *, funds: int = 0, is_admin: bool = False) -> int:
        cpf = VALID_CPFS[len(username) % len(VALID_CPFS)]

        def create(session: object) -> int:
            user = accounts.register(
                session,
                username=username,
                email=f"{username}@example.com",
                password=PASSWORD,
                cpf_cnpj=cpf,
                is_admin=is_admin,
                verified=True,
            )
            if funds:
                wallet.credit(session, user_id=user.id, amount=funds, key=f"test-funds-{user.id}")
            return user.id

        return self.db.transaction(create)

    def auction(self, seller_id: int, title: str, *, price: int = 10_000, seconds: int = 3600, **extra: object) -> int:
        ends_at = clock.now() + timedelta(seconds=seconds)
        command = listing.NewAuction(
            seller_id=seller_id,
            title=title,
            description=str(extra.pop("description", f"{title}: in good condition, ships in two days.")),
            starting_price=price,
            min_increment=extra.pop("min_increment", None),  # type: ignore[arg-type]
            reserve_price=extra.pop("reserve_price", None),  # type: ignore[arg-type]
            buy_now_price=extra.pop("buy_now_price", None),  # type: ignore[arg-type]
            ends_at=ends_at,
            facts=extra.pop("facts", FACTS),  # type: ignore[arg-type]
        )
        return self.db.run(lambda uow: listing.create(uow, command).id)

    def sold(self, seller_id: int, buyer_id: int, title: str) -> int:
        """An auction of `seller_id` won by `buyer_id` for R$ 120,00 and closed now: its order's id (paid)."""
        auction_id = self.auction(seller_id, title, price=10_000)
        self.db.run(bids.place, bids.PlaceBid(auction_id, buyer_id, 12_000), outbox=Outbox())
        past = clock.now() - timedelta(seconds=1)
        self.db.transaction(lambda s: s.execute(update(Auction).where(Auction.id == auction_id).values(ends_at=past)))
        self.db.run(closing.finish_if_due, auction_id, fee_bps=0, outbox=Outbox())  # or the server's scheduler did
        return self.db.transaction(lambda s: s.scalar(select(Order.id).where(Order.auction_id == auction_id)))

    def end_in(self, auction_id: int, seconds: float) -> None:
        """Move an open auction's end close (the server's scheduler then finishes it on its own)."""
        ends_at = clock.now() + timedelta(seconds=seconds)
        self.db.transaction(
            lambda s: s.execute(update(Auction).where(Auction.id == auction_id).values(ends_at=ends_at))
        )

    def page(
        self, *, width: int = 1280, height: int = 900, locale: str = "en-US", timezone_id: str | None = None
    ) -> object:
        context = self.browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, timezone_id=timezone_id
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("console", lambda msg: self._console(page, msg))
        return page

    def _console(self, page: object, msg: object) -> None:
        expected = ("WebSocket", "ERR_CONNECTION_REFUSED", "Failed to load resource")
        if msg.type == "error" and not any(text in msg.text for text in expected):
            self.errors.append(f"{page.url}: {msg.text}")

    def login(self, page: object, username: str) -> None:
        page.goto(f"{self.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector(f"text={username}", state="attached")

    def open_as(self, username: str, path: str, *, clock_skew: timedelta | None = None, **options: object) -> object:
        page = self.page(**options)
        if clock_skew is not None:
            # The user's computer clock is wrong by `clock_skew` (Date.now() and new Date() say so).
            page.clock.set_system_time(datetime.now(UTC) + clock_skew)
        self.login(page, username)
        page.goto(f"{self.url}{path}")
        return page


@pytest.fixture
def site(chromium: object, live_server_factory: Callable[..., LiveServer], tmp_path: Path) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    server = live_server_factory(url, SOFT_CLOSE_SECONDS="4", LOG_LEVEL="INFO")
    db = Database(url, pool_size=2)
    running = Site(server, db, chromium, [], [])
    yield running
    for context in running.contexts:
        context.close()
    db.dispose()
    assert running.errors == [], "errors in the browser console"


def bid(page: object, amount: str, max_amount: str | None = None, *, confirm: bool = True) -> None:
    """Type a bid and submit it; the confirmation step (shown above the skip threshold) is accepted."""
    page.fill("[data-bid-amount]", amount)
    if max_amount is not None:
        page.click(".proxy summary")
        page.fill("[data-bid-max]", max_amount)
    page.click("[data-bid-submit]")
    if confirm:
        page.locator("[data-confirm-ok]").click()


def screenshot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def make_png(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    """A real PNG image (a soft gradient) built without an image library."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00"
        + bytes(
            value
            for x in range(width)
            for value in ((x * 255 // width + seed) % 256, (y * 255 // height) % 256, (150 + seed) % 256)
        )
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")

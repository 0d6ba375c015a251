"""No visible word escapes translation: every page, in every state, rendered under a pseudo-locale.

The pt_BR catalog is rebuilt at test time with every msgstr replaced by a marked form of its msgid
(⟦Ẁõñ⟧: accented letters inside ⟦ ⟧, placeholders and HTML kept). A seeded world holds auctions,
orders, payments and withdrawals in each of their states, plus the notifications those flows sent.
Every page a GET route serves is crawled as each kind of reader; a text node, title, placeholder,
aria-label, alt or button value that still has letters once the marked parts, the seeded user data
and a short list of proper names are taken out is an unmarked (untranslatable) string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from auction import accounts, clock, create_app, wallet
from auction.auctions import buy_now, closing, listing, relisting, sale_events, second_chance
from auction.db import Database
from auction.entrypoints import i18n
from auction.entrypoints.alerts import unsubscribe_token
from auction.entrypoints.web.auth import PENDING_2FA
from auction.extensions import get_db
from auction.models import Base, Notification, Order, Payment, User
from auction.orders import ratings
from auction.orders import service as orders
from auction.payments import topups
from auction.payouts import withdrawals as w
from tests.conftest import VALID_CPFS
from tests.support.auctions import fund, new_auction, place
from tests.support.payments import TOKEN, event_body, known_payment, post, sim_client, sim_deposit
from tests.test_sale_events import new_event

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "translations" / "pt_BR" / "LC_MESSAGES" / "messages.po"
OPEN, CLOSE = "⟦", "⟧"
ACCENTS = str.maketrans("aeiouAEIOUcnCN", "áéíóúÁÉÍÓÚçñÇÑ")
# What a pseudo string keeps as it is: %(name)s, {name}, HTML tags and entities.
KEEP = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}|&\w+;")
TAG = re.compile(r"(<[^>]+>)")
# Words that are the same in every language: the brand, the payment provider and Brazilian document names.
PROPER_NAMES = {"Leilão", "Asaas", "PIX", "CPF", "CNPJ", "CEP", "UF", "BRL", "Correios"}
MONEY = re.compile(r"[-+]?R\$\s?[\d.]+,\d\d")
DATE = re.compile(r"\d{1,2} [^\W\d]{3,5}\.? \d{4}(, \d\d:\d\d(:\d\d)?)?")
LEFTOVER = re.compile(r"[^\W\d_]{2,}")
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# Machine text (codes, raw bodies) and what a template marks translate="no" are not words to translate.
HIDDEN = {"script", "style", "template", "textarea", "code", "pre", "kbd", "samp"}


def pseudo(text: str) -> str:
    """Each run of text between HTML tags marked on its own (a link inside a sentence is its own text node)."""
    return "".join(part if TAG.fullmatch(part) else _marked(part) for part in TAG.split(text) if part)


def _marked(text: str) -> str:
    if not text.strip():
        return text
    parts, last = [], 0
    for match in KEEP.finditer(text):
        parts.append(text[last : match.start()].translate(ACCENTS))
        parts.append(match.group())
        last = match.end()
    parts.append(text[last:].translate(ACCENTS))
    return OPEN + "".join(parts) + CLOSE


def pseudo_translations(directory: Path) -> Path:
    """The pt_BR catalog with every message replaced by its pseudo form, compiled into `directory`."""
    source = read_po(PO.open("rb"))
    catalog = Catalog(locale="pt_BR")
    for message in source:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            forms = tuple(pseudo(message.id[0] if i == 0 else message.id[1]) for i in range(len(message.string)))
            catalog.add(message.id, forms)
        else:
            catalog.add(message.id, pseudo(message.id))
    target = directory / "pt_BR" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as out:
        write_mo(out, catalog)
    return directory


class Visible(HTMLParser):
    """The strings a reader sees: text outside scripts, and the attributes a browser shows or reads aloud."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in HIDDEN or values.get("translate") == "no" or values.get("lang") not in (None, "pt-BR"):
            # The language switcher names each language in itself (lang="en": "English").
            self._skip.append(tag)
        for name in VISIBLE_ATTRIBUTES:
            if values.get(name):
                self.found.append(values[name] or "")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.found.append(values["value"] or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        skip = len(self._skip)
        self.handle_starttag(tag, attrs)
        del self._skip[skip:]

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.found.append(data)


def unmarked(text: str, user_data: set[str]) -> str:
    """What is left of a visible string once its marked parts, user data, amounts, dates and names are out."""
    while True:
        inner = re.sub(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}", " ", text)
        if inner == text:
            break
        text = inner
    for value in sorted(user_data, key=len, reverse=True):
        text = text.replace(value, " ")
    text = DATE.sub(" ", MONEY.sub(" ", text))
    words = [word for word in LEFTOVER.findall(text) if word not in PROPER_NAMES]
    return " ".join(words)


def leaks(html: str, user_data: set[str]) -> list[str]:
    parser = Visible()
    parser.feed(html)
    return [f"{text.strip()!r}" for text in parser.found if unmarked(text, user_data)]


# -- the seeded world ---------------------------------------------------------------------------------

ADDRESS = {"recipient": "Ana Lima", "line1": "Rua Aurora, 12", "line2": "", "city": "Recife", "state": "PE"}
USER_DATA = {
    "sol",
    "ana",
    "bia",
    "root",
    "Leica M3",
    "Rolleiflex",
    "Lupa antiga",
    "Works well.",
    "Ana Lima",
    "Rua Aurora, 12",
    "Recife",
    "PE",
    "50000-000",
    "SEDEX",
    "BR123456789BR",
    "Chegou quebrada",
    "Chegou bem embalada",
    "Obrigada",
    "example.com",
    "sim.test",
}


class World:
    def __init__(self, app: Any, db: Database) -> None:
        self.app, self.db = app, db
        self.ids: dict[str, int] = {}
        self.payments: list[int] = []
        self.checkouts: list[str] = []

    def user(self, name: str, is_admin: bool = False) -> int:
        fields = {"email": f"{name}@example.com", "password": "correct horse battery", "is_admin": is_admin}
        cpf = VALID_CPFS[len(self.ids) % len(VALID_CPFS)]
        self.ids[name] = self.db.transaction(lambda s: accounts.register(s, username=name, cpf_cnpj=cpf, **fields).id)
        return self.ids[name]

    def client(self, name: str | None) -> Any:
        client = self.app.test_client()
        client.set_cookie("lang", "pt_BR")
        if name == "second factor":  # a password accepted, the authenticator's code asked next
            with client.session_transaction() as session:
                session[PENDING_2FA] = self.ids["ana"]
        elif name is not None:
            token = self.db.transaction(accounts.start_session, self.ids[name])
            with client.session_transaction() as session:
                session["sid"] = token
        return client


def _sold(world: World, title: str) -> int:
    db, ids = world.db, world.ids
    auction_id = new_auction(db, ids["sol"], seconds=60, starting_price=20_000, title=title)
    place(db, auction_id, ids["bia"], 20_000)
    place(db, auction_id, ids["ana"], 25_000)
    return auction_id


def _orders(world: World) -> dict[str, int]:
    """One sold auction per order status, driven through the order service."""
    db, ids = world.db, world.ids
    auctions = {status: _sold(world, f"Leica M3 {status}") for status in orders.OrderStatus}
    USER_DATA.update(f"Leica M3 {status}" for status in orders.OrderStatus)
    clock.advance(timedelta(seconds=61))
    found = {}
    for status, auction_id in auctions.items():
        db.run(closing.finish_if_due, auction_id, fee_bps=500)
        found[status] = db.transaction(lambda s, a=auction_id: s.scalar(select(Order.id).where(Order.auction_id == a)))
    buyer, seller, admin = ids["ana"], ids["sol"], ids["root"]
    address = ADDRESS | {"postal_code": "50000-000"}
    for status in ("shipped", "completed", "disputed", "refunded"):
        order_id = found[status]
        db.run(orders.set_address, orders.SetAddress(order_id, buyer, address))
        db.run(orders.ship, orders.Ship(order_id, seller, "SEDEX", "BR123456789BR", 14))
    db.run(orders.confirm, orders.OrderAction(found["completed"], buyer))
    db.run(ratings.rate, ratings.RateSeller(found["completed"], buyer, 4, "Chegou bem embalada"))
    db.run(ratings.reply, ratings.ReplyToRating(found["completed"], seller, "Obrigada"))
    for status in ("disputed", "refunded"):
        db.run(orders.dispute, orders.OpenDispute(found[status], buyer, "Chegou quebrada"))
    db.run(orders.resolve, orders.Resolve(found["refunded"], admin, "refund"))
    clock.advance(timedelta(days=8))
    db.run(orders.cancel, orders.CancelOrder(found["cancelled"], buyer, 7))
    return found


def _auctions(world: World) -> dict[str, int]:
    """Auctions in the other states: open with a leader, scheduled, unsold, no bids, cancelled, bought."""
    db, ids = world.db, world.ids
    found = {
        "open": new_auction(db, ids["sol"], seconds=86_400, title="Rolleiflex", buy_now_price=90_000),
        "scheduled": new_auction(db, ids["sol"], starts_in=3_600, title="Rolleiflex"),
        "unsold": new_auction(db, ids["sol"], seconds=60, title="Rolleiflex", reserve_price=80_000),
        "no_bids": new_auction(db, ids["sol"], seconds=60, title="Lupa antiga"),
        "cancelled": new_auction(db, ids["sol"], seconds=600, title="Lupa antiga"),
        "bought": new_auction(db, ids["sol"], seconds=600, title="Lupa antiga", buy_now_price=5_000),
    }
    place(db, found["open"], ids["bia"], 2_000)
    place(db, found["open"], ids["ana"], 3_000)
    place(db, found["unsold"], ids["ana"], 2_000)
    db.run(listing.cancel, found["cancelled"], ids["root"])
    db.run(buy_now.buy, buy_now.BuyNow(found["bought"], ids["bia"]))
    clock.advance(timedelta(seconds=61))
    for key in ("unsold", "no_bids"):
        db.run(closing.finish_if_due, found[key], fee_bps=0)
    return found


def _sale_event(world: World) -> int:
    """A sale event (an organizer's lots closing one after another) with one lot, a deposit and approval: bia's
    registration (a buying power, its deposit held) waits for an admin."""
    db, ids = world.db, world.ids
    command = sale_events.CreateEvent(
        organizer_id=ids["sol"],
        title="Lupa antiga",
        description="Works well.",
        terms="Works well.",
        first_close_at=clock.now() + timedelta(days=2),
        lot_interval_seconds=60,
        soft_close_seconds=120,
        deposit_bps=1_000,
        deposit_minimum=500,
        requires_approval=True,
    )
    event_id = db.run(lambda uow: sale_events.create_event(uow, command).id)
    lot = new_auction(db, ids["sol"], seconds=86_400, title="Lupa antiga")
    db.run(sale_events.add_lot, sale_events.AddLot(event_id, lot, ids["sol"]))
    db.run(sale_events.register, sale_events.Register(event_id, ids["bia"], 1, 10_000))
    return event_id


def _payments(world: World) -> list[int]:
    """Top-ups at the simulator (PIX, boleto, card) and payments moved by webhooks into their other states."""
    app, db, ids = world.app, world.db, world.ids
    client = sim_client(app)
    limits = topups.TopUpLimits.from_config(app.config)
    made = [
        topups.create_topup(db, client, topups.StartTopUp(ids["ana"], 10_000, limits, billing_type=kind)).payment_id
        for kind in ("PIX", "BOLETO", "CREDIT_CARD")
    ]
    webhook = app.test_client()
    events = {
        "RECEIVED": ["PAYMENT_RECEIVED"],
        "REFUNDED": ["PAYMENT_RECEIVED", "PAYMENT_REFUNDED"],
        "OVERDUE": ["PAYMENT_OVERDUE"],
        "REFUSED": ["PAYMENT_CREDIT_CARD_CAPTURE_REFUSED"],
        "CHARGEBACK_REQUESTED": ["PAYMENT_RECEIVED", "PAYMENT_CHARGEBACK_REQUESTED"],
        "RECEIVED_IN_CASH": ["PAYMENT_RECEIVED_IN_CASH"],
        "REFUND_IN_PROGRESS": ["PAYMENT_RECEIVED", "PAYMENT_REFUND_IN_PROGRESS"],
    }
    for status, names in events.items():
        asaas_id = f"pay_{status.lower()}"
        made.append(known_payment(db, ids["ana"], asaas_id, 10_000))
        for name in names:
            final = {"PAYMENT_RECEIVED": "RECEIVED", "PAYMENT_REFUND_IN_PROGRESS": "REFUND_IN_PROGRESS"}.get(name)
            post(webhook, event_body(name, asaas_id, status=final or status, netValue=97.01))
    return made


def _withdrawals(world: World) -> None:
    """One withdrawal per status a reader sees."""
    from asaas_sim import sender
    from asaas_sim import transfers as sim_transfers

    app, db, ids = world.app, world.db, world.ids
    seller, client = ids["sol"], sim_client(app)
    cpf = db.transaction(lambda s: s.get(User, seller).cpf_cnpj)
    limits = w.WithdrawalLimits(min_cents=1_000, max_cents=50_000, daily_cents=500_000, approval_cents=30_000)

    def ask(amount: int) -> int:
        return db.run(w.request_withdrawal, w.RequestWithdrawal(seller, amount, cpf, "CPF", limits)).id

    ask(1_000)  # queued: never sent
    refused = ask(40_000)
    db.run(w.refuse, w.AdminDecision(refused, ids["root"], "Conta divergente"))
    USER_DATA.add("Conta divergente")
    ask(45_000)  # awaiting approval
    for amount, outcome in ((2_000, "done"), (2_100, "fail"), (2_200, None)):  # Asaas refuses a repeated transfer
        withdrawal_id, _status = w.withdraw(db, client, w.RequestWithdrawal(seller, amount, cpf, "CPF", limits))
        if outcome:
            transfer_id = db.transaction(lambda s, i=withdrawal_id: s.get(w.Withdrawal, i).asaas_transfer_id)
            with app.test_request_context():
                sender.dispatch(db.transaction(sim_transfers.finish, transfer_id, outcome))


def _after_sale(world: World) -> dict[str, int]:
    """A sale event with a buyer's premium after its close: a lot sold to ana (invoice, shipments, the order with its
    premium), a lot unsold below its reserve with a second-chance offer open to ana, and one relisted."""
    db, ids = world.db, world.ids
    first_close_at = clock.now() + timedelta(minutes=10)
    event_id = new_event(db, ids["sol"], first_close_at=first_close_at, soft_close_seconds=0, title="Lupa antiga")
    lots = {
        "lot_sold": new_auction(db, ids["sol"], seconds=7_200, title="Lupa antiga"),
        "lot_offered": new_auction(db, ids["sol"], seconds=7_200, title="Lupa antiga", reserve_price=80_000),
        "lot_relisted": new_auction(db, ids["sol"], seconds=7_200, title="Lupa antiga", reserve_price=80_000),
    }
    for lot in lots.values():
        db.run(sale_events.add_lot, sale_events.AddLot(event_id, lot, ids["sol"]))
    for name in ("ana", "bia"):
        db.run(sale_events.register, sale_events.Register(event_id, ids[name], 1))
    place(db, lots["lot_sold"], ids["ana"], 2_000)
    place(db, lots["lot_offered"], ids["ana"], 2_000)
    place(db, lots["lot_offered"], ids["bia"], 3_000)
    place(db, lots["lot_relisted"], ids["bia"], 2_000)
    clock.advance(timedelta(hours=1))
    for lot in lots.values():
        db.run(closing.finish_if_due, lot, fee_bps=500)
    db.run(second_chance.make_offer, second_chance.MakeOffer(lots["lot_offered"], ids["sol"], ids["ana"]))
    lots["relist"] = db.run(relisting.relist, relisting.Relist(lots["lot_relisted"], ids["sol"]))
    world.ids["after_sale_event"] = event_id
    world.ids["order_premium"] = db.transaction(
        lambda s: s.scalar(select(Order.id).where(Order.auction_id == lots["lot_sold"]))
    )
    return lots


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from unittest import mock

    from werkzeug.security import generate_password_hash

    tmp = tmp_path_factory.mktemp("pseudo")
    config = {
        "DATABASE_URL": f"sqlite:///{tmp / 'pseudo.db'}",
        "INSTANCE_PATH": str(tmp / "instance"),
        "SECRET_KEY": "test-secret-key",
        "ASAAS_WEBHOOK_TOKEN": TOKEN,
        "TESTING": True,
        "RATE_LIMITS_ENABLED": False,
        "SCHEDULER_ENABLED": False,
        "ASAAS_SIM_DELIVERY": "inline",
        "PUBLIC_URL": "http://sim.test",
        "ASAAS_SIM_CASHOUT_AUTH": "validation_webhook",
        "DEFAULT_LOCALE": "pt_BR",
        "BABEL_TRANSLATION_DIRECTORIES": str(pseudo_translations(tmp / "translations")),
    }
    # localize() remembers translations per locale name: this catalog is another "pt_BR" than the real one.
    i18n._localized.cache_clear()
    app = create_app(config)
    Base.metadata.create_all(app.extensions["auction.db"].engine)
    app.extensions["auction.asaas"] = sim_client(app)
    fast = mock.patch(
        "auction.accounts.service.hash_password", lambda p: generate_password_hash(p, method="pbkdf2:sha256:1")
    )
    with app.app_context(), fast:
        db = get_db()
        world = World(app, db)
        for name in ("sol", "ana", "bia"):
            world.user(name)
        world.user("root", is_admin=True)
        for name in ("ana", "bia", "sol"):
            fund(db, world.ids[name], 200_000)
        sim_deposit(app, db, "6000.00")  # the simulated Asaas account holds what the wallets hold
        world.ids |= {f"auction_{k}": v for k, v in _auctions(world).items()}
        world.ids |= {f"order_{k}": v for k, v in _orders(world).items()}
        world.ids["event"] = _sale_event(world)
        world.ids |= {f"auction_{k}": v for k, v in _after_sale(world).items()}
        world.payments = _payments(world)
        world.checkouts = db.transaction(
            lambda s: [s.get(Payment, p).asaas_payment_id for p in world.payments[:3]]  # PIX, boleto, card
        )
        _withdrawals(world)
        yield world
        assert db.transaction(wallet.audit) == []
    app.extensions["auction.db"].dispose()
    clock.reset()
    i18n._localized.cache_clear()


def _pages(world: World) -> dict[str | None, list[str]]:
    """Every page, by who reads it."""
    ids = world.ids
    auctions = [f"/auctions/{v}" for k, v in ids.items() if k.startswith("auction_")]
    orders_ = [f"/orders/{v}" for k, v in ids.items() if k.startswith("order_")]
    payments = [f"/wallet/payments/{p}" for p in world.payments[:3]]
    # The simulator's checkout, as the payer sees it (Asaas's own page in production).
    payments += [f"/asaas-sim/i/{asaas_id}" for asaas_id in world.checkouts]
    own = ["/", "/sell", "/me/bids", "/me/auctions", "/me/watchlist", "/wallet", "/wallet/payments", "/notifications"]
    own += ["/account/alerts", "/account", "/account/data", "/account/2fa", "/events/new", f"/events/{ids['event']}"]
    # Links from e-mails whose token is not (or no longer) valid: the page says so.
    expired = ["/verify-email/x", "/account/email/confirm/x", "/account/email/not-me/x", "/reset-password/x"]
    unsubscribe = f"/alerts/unsubscribe/{unsubscribe_token(ids['ana'], 'outbid', world.app)}"
    admin = ["/admin/", "/admin/users", "/admin/auctions", "/admin/payments", "/admin/deliveries", "/admin/withdrawals"]
    admin += ["/admin/orders", "/admin/disputes", "/admin/payments/asaas", "/admin/deliveries/1", "/admin/mail"]
    admin += ["/admin/alerts", "/admin/registrations"]
    public = ["/", "/login", "/register", "/forgot-password", "/protecao-ao-comprador", "/no-such-page"]
    public += [f"/events/{ids['event']}"]
    public += [f"/sellers/{ids['sol']}"]
    return {
        None: [*public, unsubscribe, *auctions, *expired],
        "second factor": ["/login/code"],
        "ana": own + auctions + orders_ + payments + [f"/events/{ids['after_sale_event']}/invoice"],
        "sol": own + auctions + orders_ + [f"/events/{ids['after_sale_event']}/shipments"],
        "bia": own + auctions,
        "root": own + admin + auctions + orders_,
    }


def test_every_page_in_every_state_shows_only_translated_words(world: World) -> None:
    found = {}
    for reader, urls in _pages(world).items():
        client = world.client(reader)
        for url in urls:
            answer = client.get(url, headers={"Accept": "text/html"})
            assert answer.status_code in (200, 400, 404, 410), (reader, url, answer.status_code)
            for leak in leaks(answer.get_data(as_text=True), USER_DATA):
                found.setdefault(leak, f"{url} as {reader}")
    assert found == {}, "\n".join(f"{where}: {leak}" for leak, where in sorted(found.items(), key=lambda i: i[1]))


def test_every_notification_the_flows_sent_is_translated(world: World) -> None:
    texts = world.db.transaction(lambda s: set(s.scalars(select(Notification.message))))
    assert len(texts) > 20
    with world.app.test_request_context(headers={"Cookie": "lang=pt_BR"}):
        found = [text for text in texts if unmarked(i18n.localize(text), USER_DATA)]
    assert found == []


def test_the_crawl_reaches_every_page_a_get_route_serves(world: World) -> None:
    crawled = {re.sub(r"/\d+(?=/|$)", "/<id>", url) for urls in _pages(world).values() for url in urls}
    crawled |= {"/alerts/unsubscribe/<id>"}  # its signed token has no digits-only form
    crawled |= {re.sub(r"/x$", "/<id>", url) for url in crawled}
    skipped = {"static", "pages.set_language", "pages.healthz", "photos.photo", "alerts_pages.service_worker"}
    # The legal texts are written whole per language (test_legal_texts_exist_in_both_languages); a JSON download.
    skipped |= {"pages.terms", "pages.privacy", "account.my_data_json"}
    routes = {
        re.sub(r"<[^>]+>", "<id>", rule.rule)
        for rule in world.app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and rule.endpoint not in skipped
        # Development stand-ins (the Asaas simulator, the mail inbox without SMTP) and machine endpoints.
        and not rule.rule.startswith(("/asaas-sim", "/dev/", "/payment/", "/metrics"))
    }
    assert routes - crawled == set()


def test_legal_texts_exist_in_both_languages(world: World) -> None:
    """The terms and the privacy notice are written whole in each language, not assembled from the catalog."""
    for path in ("/termos", "/privacidade"):
        pages = {}
        for lang in ("pt_BR", "en"):
            client = world.app.test_client()
            client.set_cookie("lang", lang)
            answer = client.get(path)
            assert answer.status_code == 200
            pages[lang] = answer.get_data(as_text=True)
        assert pages["pt_BR"].count("<h2") == pages["en"].count("<h2") > 0 and pages["pt_BR"] != pages["en"]


def test_the_marker_catches_an_unmarked_word() -> None:
    assert unmarked(f"{pseudo('Won by %(name)s')} bob", {"bob"}) == ""
    assert unmarked("Order #1", set()) == "Order"
    assert leaks('<button title="Copy">⟦Çópy⟧</button><p lang="en">English</p>', set()) == ["'Copy'"]


# What a page script shows comes from the server's catalog (t(), statusLabel, localizeMessage...): a literal
# with letters handed to the page instead is a word no catalog translates.
SHOWN_LITERAL = re.compile(
    r"(?:textContent|innerText|title|placeholder|ariaLabel|alt)\s*=\s*(['\"`])(?P<a>[^'\"`]*)\1"
    r"|(?:append|prepend|replaceChildren|alert|confirm)\(\s*(['\"`])(?P<b>[^'\"`]*)\3"
    r"|setAttribute\(\s*['\"](?:title|placeholder|aria-label|alt)['\"]\s*,\s*(['\"`])(?P<c>[^'\"`]*)\5"
)


def shown_literals(source: str) -> list[str]:
    found = []
    for match in SHOWN_LITERAL.finditer(source):
        text = re.sub(r"\$\{[^}]*\}", " ", match.group("a") or match.group("b") or match.group("c") or "")
        if LEFTOVER.search(text):
            found.append(text)
    return found


def test_the_page_scripts_show_no_word_of_their_own() -> None:
    found = {
        f"{path.name}: {text!r}"
        for path in sorted((ROOT / "static" / "js").glob("*.js"))
        for text in shown_literals(path.read_text())
    }
    assert found == set()
    assert shown_literals('el.textContent = "Copied"; box.append(`Paid ${x}`); el.textContent = `${a} ${b}`;') == [
        "Copied",
        "Paid  ",
    ]

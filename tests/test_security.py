"""Security: sessions, cookies, headers, rate limits, origins, secrets and who may act for whom.

Each test attacks one protection and fails if that protection is removed.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from auction import create_app
from tests.test_accounts import csrf_token

pytestmark = [pytest.mark.parametrize("backend", ["sqlite"], indirect=True), pytest.mark.usefixtures("fast_passwords")]

PASSWORD = "correct horse battery"


def login(client, username: str, password: str = PASSWORD, **kwargs):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client, "/login")},
        **kwargs,
    )


def session_data(app, client) -> dict:
    """The decoded (signed, client-side) Flask session of a test client."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        return {}
    return dict(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def is_anonymous_page(html: str) -> bool:
    return "Log in" in html and "Log out" not in html


# -- headers and cookies ---------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict_page(response, path: str) -> None:
    """CSP without inline script, no framing, a strict referrer policy, and a page that needs no inline script."""
    assert response.status_code == 200, path
    csp = csp_directives(response.headers["Content-Security-Policy"])
    script_src = csp.get("script-src", csp["default-src"])
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "*" not in script_src and "data:" not in script_src
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    # A JSON data block (`type="application/json"`, the auction page's initial state) is data, never run; its
    # text is Flask's tojson, which writes <, > and & as \u003c..., so no "</script>" can close it early.
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html), (
        f"inline <script> on {path}"
    )
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        assert "<" not in block and ">" not in block, f"unescaped markup in a JSON data block on {path}"
    assert not re.search(r"\son[a-z]+\s*=", html), f"inline event handler attribute on {path}"


@pytest.mark.parametrize("path", ["/login", "/register", "/"])
def test_pages_send_csp_without_inline_script_and_framing_and_referrer_headers(client, path):
    assert_strict_page(client.get(path), path)


def production_app(app_config: dict):
    return create_app(
        {
            **app_config,
            "AUCTION_ENV": "production",
            "SECRET_KEY": "p" * 40,
            "ASAAS_WEBHOOK_TOKEN": "t" * 40,
        }
    )


def test_production_cookies_are_secure_httponly_samesite(app_config, make_user):
    app = production_app(app_config)
    try:
        assert app.config["PRODUCTION"]
        client = app.test_client()
        response = client.get("/login", base_url="https://localhost")
        set_cookie = response.headers["Set-Cookie"]
        assert set_cookie.startswith("auction_session=")
        attributes = {part.strip().split("=")[0].lower(): part for part in set_cookie.split(";")}
        assert "secure" in attributes and "httponly" in attributes
        assert attributes["samesite"].strip().lower() == "samesite=lax"
        assert "Strict-Transport-Security" not in response.headers  # nginx's alone (deploy/nginx)
    finally:
        app.extensions["auction.db"].dispose()


# -- sessions ----------------------------------------------------------------------------


def test_login_does_not_authenticate_the_pre_login_cookie(app, client, make_user):
    """Session fixation: what an attacker planted before the login is not logged in by it."""
    make_user("vitima")
    client.get("/login")
    with client.session_transaction() as planted:
        planted["planted_by_attacker"] = "yes"
    fixed_cookie = client.get_cookie("auction_session").value

    assert login(client, "vitima").status_code == 302
    after = session_data(app, client)
    assert after.get("sid") and "planted_by_attacker" not in after

    attacker = app.test_client()
    attacker.set_cookie("auction_session", fixed_cookie)
    assert is_anonymous_page(attacker.get("/login").get_data(as_text=True))


def test_relogin_as_another_user_gets_a_fresh_token(app, client, make_user):
    make_user("primeiro")
    make_user("segundo")
    login(client, "primeiro")
    first = session_data(app, client)["sid"]
    login(client, "segundo")
    second = session_data(app, client)["sid"]
    assert first != second


def test_logout_revokes_the_session_on_the_server(app, client, make_user):
    make_user("saindo")
    login(client, "saindo")
    stolen = client.get_cookie("auction_session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})

    replay = app.test_client()
    replay.set_cookie("auction_session", stolen)
    assert is_anonymous_page(replay.get("/login").get_data(as_text=True))


def test_forged_session_cookie_is_anonymous(app, make_user):
    make_user("alvo")
    victim = app.test_client()
    login(victim, "alvo")
    token = session_data(app, victim)["sid"]

    other = create_app({**app.config, "SECRET_KEY": "not-the-real-key"})
    forged = other.session_interface.get_signing_serializer(other).dumps({"sid": token + "x"})
    attacker = app.test_client()
    attacker.set_cookie("auction_session", forged)
    assert is_anonymous_page(attacker.get("/login").get_data(as_text=True))
    other.extensions["auction.db"].dispose()


# -- rate limits over HTTP ---------------------------------------------------------------


@pytest.fixture
def limited_app(app_config, frozen_window):
    application = create_app({**app_config, "RATE_LIMITS_ENABLED": True})
    yield application
    application.extensions["auction.db"].dispose()


def test_logins_are_limited_per_user_across_addresses(limited_app, make_user):
    from auction.ratelimit import LIMITS

    make_user("popular")
    answers = [
        login(limited_app.test_client(), "popular", "wrong password", environ_base={"REMOTE_ADDR": f"10.1.0.{n}"})
        for n in range(LIMITS["login_user"].count + 1)
    ]
    assert [a.status_code for a in answers[:-1]] == [400] * LIMITS["login_user"].count
    assert answers[-1].status_code == 429
    assert "too many login attempts" in answers[-1].get_data(as_text=True)
    # Even the right password is refused while the limit lasts: guessing gains nothing.
    right = login(limited_app.test_client(), "popular", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert right.status_code == 429 and limited_app.test_client().get_cookie("auction_session") is None


def test_logins_are_limited_per_address_across_users(limited_app, make_user):
    from auction.ratelimit import LIMITS

    client = limited_app.test_client()
    here = {"REMOTE_ADDR": "10.2.0.1"}
    codes = [
        login(client, f"nobody{n}", "wrong password", environ_base=here).status_code
        for n in range(LIMITS["login_ip"].count + 1)
    ]
    assert codes[:-1] == [400] * LIMITS["login_ip"].count and codes[-1] == 429
    elsewhere = login(limited_app.test_client(), "nobody0", "wrong password", environ_base={"REMOTE_ADDR": "10.2.0.2"})
    assert elsewhere.status_code == 400


def test_registrations_are_limited_per_address(limited_app, db):
    from sqlalchemy import func, select

    from auction.models import User
    from auction.ratelimit import LIMITS
    from tests.conftest import VALID_CPFS

    def register(n: int, ip: str):
        client = limited_app.test_client()
        form = {
            "username": f"new{n}",
            "email": f"new{n}@example.com",
            "password": "a long passphrase",
            "cpf_cnpj": VALID_CPFS[0],
            "accept": "y",
            "csrf_token": csrf_token(client, "/register"),
        }
        return client.post("/register", data=form, environ_base={"REMOTE_ADDR": ip})

    allowed = LIMITS["register_ip"].count
    codes = [register(n, "10.3.0.1").status_code for n in range(allowed + 1)]
    assert codes[:-1] == [302] * allowed and codes[-1] == 429
    assert register(99, "10.3.0.2").status_code == 302
    assert db.transaction(lambda s: s.scalar(select(func.count(User.id)))) == allowed + 1


# -- request size ------------------------------------------------------------------------


def test_oversized_request_is_refused_with_413(app_config, db):
    default = create_app({k: v for k, v in app_config.items() if k != "MAX_CONTENT_LENGTH"})
    assert 0 < default.config["MAX_CONTENT_LENGTH"] <= 16 * 1024 * 1024
    default.extensions["auction.db"].dispose()

    small = create_app({**app_config, "MAX_CONTENT_LENGTH": 4096})
    client = small.test_client()
    response = client.post("/login", data={"username": "x" * 10_000, "password": "y"})
    assert response.status_code == 413
    small.extensions["auction.db"].dispose()


# -- sockets: origin ---------------------------------------------------------------------


def socket_connects(url: str, origin: str, transport: str) -> bool:
    import socketio

    # websocket-client adds its own Origin header; it must be replaced, not duplicated.
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin})
    headers = {"Origin": origin} if transport == "polling" else {}
    try:
        client.connect(url, headers=headers, transports=[transport], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return False
    client.disconnect()
    return True


@pytest.mark.live
@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_socket_from_another_origin_is_refused_unless_configured(live_server_factory, db_url, transport):
    server = live_server_factory(db_url, SOCKETIO_CORS_ORIGINS="https://partner.example")
    assert socket_connects(server.url, server.url, transport)
    assert socket_connects(server.url, "https://partner.example", transport)
    assert not socket_connects(server.url, "https://evil.example", transport)
    assert not socket_connects(server.url, "null", transport)


# -- sockets: who is acting --------------------------------------------------------------


@pytest.fixture
def open_socket(app):
    """open_socket(http_client or None, **connect kwargs) -> a Flask-SocketIO test client."""
    from auction.extensions import socketio

    opened = []

    def factory(http=None, **kwargs):
        sock = socketio.test_client(app, flask_test_client=http, **kwargs)
        assert sock.is_connected()
        opened.append(sock)
        return sock

    yield factory
    for sock in opened:
        if sock.is_connected():
            sock.disconnect()


@pytest.fixture
def market(app, db, make_user):
    """A seller's open auction, a bidder with money and one without."""
    from tests.support.auctions import fund, new_auction

    ids = {name: make_user(name) for name in ("seller", "rica", "pobre")}
    fund(db, ids["rica"], 50_000)
    ids["auction"] = new_auction(db, ids["seller"])
    return ids


def logged_in(app, username: str):
    http = app.test_client()
    assert login(http, username).status_code == 302
    return http


def bid_error(sock, auction_id: int, amount: int = 1_500, **extra) -> str | None:
    ack = sock.emit("bid", {"auction_id": auction_id, "amount": amount, **extra}, callback=True)
    return None if ack["ok"] else ack["error"]


def test_socket_identity_comes_only_from_the_flask_session(app, market, open_socket):
    missing_auction = market["auction"] + 10_000
    assert bid_error(open_socket(logged_in(app, "pobre")), missing_auction) == "not_found"
    assert bid_error(open_socket(), missing_auction) == "not_logged_in"
    # Claims in the connect payload or the query string are not identities.
    claims = {"user_id": market["rica"], "username": "rica", "token": "x"}
    assert bid_error(open_socket(auth=claims), missing_auction) == "not_logged_in"
    assert bid_error(open_socket(query_string=f"user_id={market['rica']}"), missing_auction) == "not_logged_in"


def test_a_replayed_cookie_after_logout_opens_only_anonymous_sockets(app, market, open_socket):
    http = logged_in(app, "rica")
    stolen = http.get_cookie("auction_session").value
    http.post("/logout", data={"csrf_token": csrf_token(http, "/login")})
    replay = app.test_client()
    replay.set_cookie("auction_session", stolen)
    assert bid_error(open_socket(replay), market["auction"]) == "not_logged_in"


def test_logout_also_ends_sockets_that_were_already_open(app, market, open_socket):
    http = logged_in(app, "rica")
    sock = open_socket(http)
    http.post("/logout", data={"csrf_token": csrf_token(http, "/login")})
    assert bid_error(sock, market["auction"]) == "not_logged_in"


def test_payload_user_ids_are_ignored_when_bidding(app, db, market, open_socket):
    from tests.support.auctions import load_auction

    sock = open_socket(logged_in(app, "pobre"))
    someone_else = {"user_id": market["rica"], "bidder_id": market["rica"], "username": "rica"}
    assert bid_error(sock, market["auction"], **someone_else) == "insufficient_funds"
    auction = load_auction(db, market["auction"])
    assert auction.bid_count == 0 and auction.leader_id is None
    assert db.transaction(wallet_of, market["rica"]) == (50_000, 0)


def wallet_of(session, user_id: int) -> tuple[int, int]:
    from auction import wallet

    balance = wallet.balance(session, user_id)
    return balance.available, balance.held


def test_payload_user_ids_are_ignored_when_adding_money(app, db, market, open_socket):
    from sqlalchemy import select

    from auction.models import Payment
    from tests.support.payments import sim_client

    app.extensions["auction.asaas"] = sim_client(app)
    sock = open_socket(logged_in(app, "pobre"))
    ack = sock.emit("add_money", {"amount": 2_000, "user_id": market["rica"]}, callback=True)
    assert ack["ok"] is True, ack
    owners = db.transaction(lambda s: s.execute(select(Payment.id, Payment.user_id)).all())
    assert [(row.id, row.user_id) for row in owners] == [(ack["payment_id"], market["pobre"])]


# -- sockets: rate limits ----------------------------------------------------------------


@pytest.fixture
def tight_limits(app, monkeypatch, frozen_window):
    """Small limits, so the test decides when they trip."""
    from auction import ratelimit

    app.extensions["auction.ratelimit"] = ratelimit.RateLimiter(enabled=True)
    limits = {"bid_user": 3, "bid_ip": 5, "topup_user": 2, "topup_ip": 3, "socket_event_sid": 4, "socket_event_ip": 6}
    for name, count in limits.items():
        monkeypatch.setitem(ratelimit.LIMITS, name, ratelimit.Limit(count, 1))


def test_bids_are_rate_limited_per_user_then_per_address(app, market, make_user, open_socket, tight_limits):
    missing = market["auction"] + 10_000
    first = open_socket(logged_in(app, "pobre"))
    assert [bid_error(first, missing) for _ in range(4)] == ["not_found"] * 3 + ["rate_limited"]
    make_user("vizinha")
    # Same address, a different user: their own budget (3) is fresh, but the address has 5 in all
    # and 3 are spent (the refused 4th bid stopped at the per-user check).
    second = open_socket(logged_in(app, "vizinha"))
    assert [bid_error(second, missing) for _ in range(3)] == ["not_found", "not_found", "rate_limited"]


def test_top_ups_are_rate_limited_per_user_then_per_address(app, market, make_user, open_socket, tight_limits):
    def add_money(sock) -> str:
        return sock.emit("add_money", {"amount": -1}, callback=True)["error"]

    first = open_socket(logged_in(app, "pobre"))
    assert [add_money(first) for _ in range(3)] == ["invalid", "invalid", "rate_limited"]
    make_user("vizinha")
    second = open_socket(logged_in(app, "vizinha"))
    assert [add_money(second) for _ in range(2)] == ["invalid", "rate_limited"]


def test_other_socket_events_are_rate_limited_per_connection_then_per_address(
    app, market, make_user, open_socket, tight_limits
):
    def join(sock) -> str:
        ack = sock.emit("join_auction", {"auction_id": market["auction"]}, callback=True)
        return "ok" if ack["ok"] else ack["error"]

    def watch(sock) -> str:
        ack = sock.emit("watch", {"auction_id": market["auction"]}, callback=True)
        return "ok" if ack["ok"] else ack["error"]

    first = open_socket(logged_in(app, "pobre"))
    assert [join(first), watch(first), join(first), watch(first), join(first)] == ["ok"] * 4 + ["rate_limited"]
    # A second connection from the same address: its own budget (4) is fresh, but the address has 6
    # in all and 4 are spent (the refused 5th event stopped at the per-connection check).
    make_user("vizinha")
    second = open_socket(logged_in(app, "vizinha"))
    assert [join(second) for _ in range(3)] == ["ok", "ok", "rate_limited"]


# -- no IDOR ---------------------------------------------------------------------------------


@pytest.fixture
def victim(app, db, make_user):
    """A user with money, a payment and a notification, each with a distinctive value."""
    from auction import notifications
    from tests.support.auctions import fund
    from tests.support.payments import known_payment

    victim_id = make_user("vitima")
    fund(db, victim_id, 123_456)
    payment_id = known_payment(db, victim_id, "pay_victim0000001", value=98_765, invoice_url="https://pay.example/v1")
    note_id = db.run(lambda uow: notifications.notify(uow, victim_id, "payment", "Mensagem secreta da vitima"))
    return {"id": victim_id, "payment": payment_id, "notification": note_id}


VICTIM_MARKERS = ("1.234,56", "987,65", "Mensagem secreta da vitima", "pay.example/v1", "vitima")


def test_no_user_sees_another_users_wallet_payments_or_notifications(app, db, make_user, victim):
    make_user("curioso")
    http = logged_in(app, "curioso")
    v = victim["id"]
    urls = [
        "/wallet",
        f"/wallet?user_id={v}",
        f"/wallet?user={v}&id={v}",
        "/wallet/payments",
        f"/wallet/payments?user_id={v}&payment_id={victim['payment']}",
        "/notifications",
        f"/notifications?user_id={v}&id={victim['notification']}",
        f"/me/bids?user_id={v}",
        f"/me/auctions?user_id={v}",
        f"/users/{v}/wallet",
        f"/wallet/{v}",
        f"/payments/{victim['payment']}",
        f"/notifications/{victim['notification']}",
    ]
    for url in urls:
        response = http.get(url)
        assert response.status_code in {200, 404}, url
        body = response.get_data(as_text=True)
        leaked = [marker for marker in VICTIM_MARKERS if marker in body]
        assert not leaked, f"{url} shows {leaked}"


def test_marking_another_users_notification_read_changes_nothing(app, db, make_user, victim):
    from auction.models import Notification

    make_user("curioso")
    http = logged_in(app, "curioso")
    token = csrf_token(http, "/notifications")
    http.post("/notifications/read", data={"id": str(victim["notification"]), "csrf_token": token})
    http.post("/notifications/read", data={"csrf_token": token})
    assert db.transaction(lambda s: s.get(Notification, victim["notification"]).read_at) is None


@pytest.mark.parametrize(
    "url",
    ["/admin/", "/admin/users", "/admin/payments", "/admin/deliveries", "/admin/deliveries/1", "/asaas-sim/admin"],
)
def test_admin_pages_refuse_ordinary_users(app, make_user, url):
    make_user("comum")
    http = logged_in(app, "comum")
    assert http.get(url).status_code == 403
    assert app.test_client().get(url).status_code == 302  # anonymous: to the login page


# -- the webhook token and the API key -------------------------------------------------------


def test_webhook_token_is_checked_by_hmac_compare_digest(client, monkeypatch):
    """Constant time: the decision is compare_digest's (patched to refuse everything, the right token fails)."""
    import hmac

    from tests.support.payments import TOKEN, event_body, post

    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert post(client, event_body("PAYMENT_CREATED", "pay_unknown1"), token="wrong-token").status_code == 401
    assert post(client, event_body("PAYMENT_CREATED", "pay_unknown1")).status_code == 200
    assert len(calls) == 2 and all(TOKEN.encode() in (a, b) or TOKEN in (a, b) for a, b in calls)

    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: False)
    assert post(client, event_body("PAYMENT_CREATED", "pay_unknown2")).status_code == 401


def test_simulator_is_not_mounted_when_a_real_asaas_key_is_set(app_config):
    app = create_app({**app_config, "ASAAS_API_KEY": "$aact_real_key_for_this_test_000000"})
    try:
        assert app.config["ASAAS_SIMULATOR"] is False
        client = app.test_client()
        assert (
            client.post("/asaas-sim/v3/customers", json={"name": "x"}, headers={"access_token": "x"}).status_code == 404
        )
        assert client.get("/asaas-sim/i/pay_1").status_code == 404
    finally:
        app.extensions["auction.db"].dispose()


class LiveBrowser:
    """requests against a live server, keeping every text it was shown."""

    def __init__(self, url: str) -> None:
        import requests

        self.url = url
        self.http = requests.Session()
        self.seen: list[str] = []

    def get(self, path: str):
        response = self.http.get(self.url + path, timeout=10)
        self.seen.append(response.text)
        return response

    def post(self, path: str, **kwargs):
        response = self.http.post(self.url + path, timeout=10, **kwargs)
        self.seen.append(response.text + str(response.headers))
        return response

    def form(self, path: str, fields: dict) -> object:
        page = self.get(path).text
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        return self.post(path, data={**fields, "csrf_token": match.group(1) if match else ""})


@pytest.mark.live
def test_webhook_token_and_api_key_never_reach_logs_pages_or_error_messages(live_server_factory, db_url, httpserver):
    import secrets

    import socketio

    from tests.conftest import VALID_CPFS

    key = f"$aact_YTU5YTE0M2M2N2I4MTliNzk0YTI5N2U5MzdjNWZmNDQ6OjAwMDAw{secrets.token_hex(8)}"
    token = f"whk-{secrets.token_hex(20)}"
    # A careless upstream that echoes the key in its error descriptions.
    echo = {"errors": [{"code": "invalid_action", "description": f"A chave {key} foi recusada"}]}
    httpserver.expect_request(re.compile("^/")).respond_with_json(echo, status=400)
    server = live_server_factory(
        db_url,
        ASAAS_API_KEY=key,
        ASAAS_WEBHOOK_TOKEN=token,
        ASAAS_BASE_URL=httpserver.url_for("/v3"),
        LOG_LEVEL="DEBUG",
        RECONCILE_INTERVAL="1",
    )
    browser = LiveBrowser(server.url)
    registered = browser.form(
        "/register",
        {
            "username": "segredo",
            "email": "s@example.com",
            "password": "a long passphrase",
            "cpf_cnpj": VALID_CPFS[1],
            "accept": "y",
        },
    )
    assert registered.status_code == 200 and "segredo" in registered.text  # followed the redirect home

    sock = socketio.Client(reconnection=False)
    cookie = browser.http.cookies["auction_session"]
    sock.connect(server.url, headers={"Cookie": f"auction_session={cookie}"}, transports=["websocket"])
    acks = [sock.call("add_money", {"amount": 1_000}, timeout=15) for _ in range(2)]
    sock.disconnect()
    assert all(ack["ok"] is False for ack in acks), acks
    topup_page = browser.get("/wallet").text
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', topup_page)
    browser.post("/wallet/topup", data={"amount": "25,00", "csrf_token": match.group(1) if match else ""})
    browser.get("/wallet")

    body = json.dumps({"id": "evt_s1", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_s1", "value": 10}})
    for sent in (None, "", "wrong", token[:-1], token + "x", token.upper()):
        headers = {"Content-Type": "application/json"} | ({"asaas-access-token": sent} if sent is not None else {})
        assert browser.post("/payment/webhook", data=body, headers=headers).status_code == 401
    for bad in (b"{", b'{"event": 1}', b"[" * 5000):
        browser.post("/payment/webhook", data=bad, headers={"asaas-access-token": token})
    browser.post("/payment/webhook", data=body, headers={"asaas-access-token": token})
    for path in ("/", "/wallet/payments", "/notifications", "/nope", "/asaas-sim/admin", "/healthz"):
        browser.get(path)
    time.sleep(1.5)  # a reconciliation round against the echoing upstream

    texts = {"log": server.log(), **{f"response {n}": text for n, text in enumerate(browser.seen)}}
    texts |= {f"ack {n}": json.dumps(ack) for n, ack in enumerate(acks)}
    for secret in (key, key[6:40], token, token[4:]):
        leaks = [where for where, text in texts.items() if secret in text]
        assert not leaks, f"secret {secret[:8]}... found in {leaks}"
    assert "event=webhook_unauthorized" in texts["log"]


@pytest.mark.live
def test_oversized_socket_message_drops_only_that_connection(live_server_factory, db_url):
    import socketio

    from tests.support.faults import wait_for

    server = live_server_factory(db_url)
    big = socketio.Client(reconnection=False)
    big.connect(server.url, transports=["websocket"], wait_timeout=5)
    with pytest.raises(socketio.exceptions.SocketIOError):  # no answer: the server closed the connection
        big.call("join_auction", {"auction_id": 1, "pad": "x" * 200_000}, timeout=3)
    wait_for(lambda: not big.connected, timeout=5, what="the oversized socket to be dropped")
    small = socketio.Client(reconnection=False)
    small.connect(server.url, transports=["websocket"], wait_timeout=5)
    assert small.call("join_auction", {"auction_id": 999_999}, timeout=5)["error"] == "not_found"
    small.disconnect()
    big.disconnect()


def test_log_lines_are_scrubbed_of_secrets_and_key_shapes(app_config, caplog):
    import logging

    key = "$aact_" + "Zk9" * 14
    token = "whk-" + "Qx7" * 12
    app = create_app({**app_config, "ASAAS_API_KEY": key, "ASAAS_WEBHOOK_TOKEN": token})
    log = logging.getLogger("auction.scrub_test")
    with caplog.at_level(logging.INFO):
        log.info("event=one key=%s", key)
        log.info("event=two sent=%r", {"asaas-access-token": token})
        log.warning("event=three headers={'access_token': 'abc123otherkey'} url=https://x/?password=hunter2hunter2")
        log.info("event=four %s", "a different key $aact_OTHERKEY0000000000 in an upstream error")
    text = caplog.text
    for secret in (key, token, "abc123otherkey", "hunter2hunter2", "OTHERKEY0000000000"):
        assert secret not in text
    assert all(f"event={n}" in text for n in ("one", "two", "three", "four"))
    app.extensions["auction.db"].dispose()


def test_behind_a_trusted_proxy_per_address_limits_see_the_client_and_spoofing_splits_nothing(
    app_config, frozen_window
):
    from auction.ratelimit import LIMITS

    allowed = LIMITS["login_ip"].count
    behind_nginx = {"REMOTE_ADDR": "10.9.0.1"}

    def attempts(app, forwarded_for: list[str]) -> list[int]:
        return [
            login(
                app.test_client(),
                f"nobody{n}",
                "wrong password",
                environ_base=behind_nginx,
                headers={"X-Forwarded-For": ip},
            ).status_code
            for n, ip in enumerate(forwarded_for)
        ]

    proxied = create_app({**app_config, "RATE_LIMITS_ENABLED": True, "TRUSTED_PROXIES": 1})
    # Outside Socket.IO's middleware, so sockets get the client's address too.
    assert type(proxied.wsgi_app.app).__name__ == "_SocketIOMiddleware"
    assert attempts(proxied, ["203.0.113.7"] * (allowed + 1))[-1] == 429
    assert attempts(proxied, ["203.0.113.8"]) == [400]  # another client behind the same proxy
    proxied.extensions["auction.db"].dispose()

    direct = create_app({**app_config, "RATE_LIMITS_ENABLED": True})
    spoofed = attempts(direct, [f"198.51.100.{n}" for n in range(allowed + 1)])
    assert spoofed[-1] == 429  # a made-up X-Forwarded-For does not buy a fresh address
    direct.extensions["auction.db"].dispose()


def test_logged_in_and_admin_pages_send_the_headers_and_carry_no_inline_script(app, db, make_user):
    from tests.support.auctions import new_auction

    admin = make_user("chefe", is_admin=True)
    auction_id = new_auction(db, admin)
    http = logged_in(app, "chefe")
    for path in (
        "/wallet",
        "/wallet/payments",
        "/notifications",
        "/sell",
        "/me/bids",
        "/me/auctions",
        f"/auctions/{auction_id}",
        "/admin/",
        "/admin/users",
        "/admin/payments",
        "/admin/deliveries",
    ):
        assert_strict_page(http.get(path), path)

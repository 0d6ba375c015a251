"""The Asaas client against a local fake Asaas (pytest-httpserver): every call and every error path."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests
from pytest_httpserver import HTTPServer

from auction.payments.client import (
    USER_AGENT,
    AsaasClient,
    AsaasError,
    AsaasInvalid,
    AsaasNotFound,
    AsaasRateLimited,
    AsaasUnauthorized,
    AsaasUnavailable,
    client_from_config,
)

KEY = "$aact_SECRET_never_in_messages_123"
PAYMENT = {"object": "payment", "id": "pay_1", "status": "PENDING", "invoiceUrl": "https://x/i/1", "value": 50.0}
CUSTOMER = {"object": "customer", "id": "cus_000000000001", "cpfCnpj": "52998224725"}


def page(offset: int = 0, **filters: str) -> dict:
    return {**filters, "offset": str(offset), "limit": "100"}


def listing(*items: dict) -> dict:
    return {"object": "list", "hasMore": False, "totalCount": len(items), "limit": 10, "offset": 0, "data": list(items)}


@pytest.fixture
def asaas(httpserver: HTTPServer) -> AsaasClient:
    return AsaasClient(base_url=httpserver.url_for("/v3"), api_key=KEY, timeout=0.5, retries=3, sleep=lambda _s: None)


def assert_no_key(exc: BaseException) -> None:
    assert KEY not in str(exc) and KEY not in repr(exc) and KEY not in repr(exc.__dict__)
    assert exc.__cause__ is None or KEY not in str(exc.__cause__)


class RecordingSession(requests.Session):
    """Werkzeug's server drops headers with underscores, so look at what the client sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]
        self.sent.append(request)
        return super().send(request, **kwargs)


def test_every_request_sends_the_key_user_agent_json_and_a_timeout(httpserver: HTTPServer):
    session = RecordingSession()
    client = AsaasClient(base_url=httpserver.url_for("/v3"), api_key=KEY, timeout=0.5, session=session)
    httpserver.expect_request("/v3/payments/pay_1", method="GET", headers={"User-Agent": USER_AGENT}).respond_with_json(
        PAYMENT
    )
    assert client.get_payment("pay_1") == PAYMENT
    [sent] = session.sent
    assert sent.headers["access_token"] == KEY
    assert sent.headers["Content-Type"] == "application/json"
    assert KEY not in repr(client)


def test_create_customer_posts_its_fields(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_request(
        "/v3/customers",
        method="POST",
        json={
            "name": "Ana",
            "cpfCnpj": "52998224725",
            "email": "ana@example.com",
            "externalReference": "7",
            "notificationDisabled": True,
        },
    ).respond_with_json(CUSTOMER)
    created = asaas.create_customer(name="Ana", cpf_cnpj="52998224725", email="ana@example.com", external_reference="7")
    assert created["id"] == "cus_000000000001"


def test_find_customers_by_reference_and_cpf(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_request("/v3/customers", query_string=page(externalReference="7")).respond_with_json(
        listing(CUSTOMER)
    )
    httpserver.expect_request("/v3/customers", query_string=page(cpfCnpj="52998224725")).respond_with_json(listing())
    assert asaas.find_customers(external_reference="7") == [CUSTOMER]
    assert asaas.find_customers(cpf_cnpj="52998224725") == []


def test_get_customer(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_request("/v3/customers/cus_000000000001").respond_with_json(CUSTOMER)
    assert asaas.get_customer("cus_000000000001") == CUSTOMER


def test_create_payment_sends_the_value_as_a_json_number_with_our_reference(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_request(
        "/v3/payments",
        method="POST",
        json={
            "customer": "cus_1",
            "billingType": "UNDEFINED",
            "value": 50.0,
            "dueDate": "2026-11-28",
            "description": "Wallet top-up #3",
            "externalReference": "topup-3",
        },
    ).respond_with_json(PAYMENT)
    got = asaas.create_payment(
        customer="cus_1",
        value="50.00",
        due_date="2026-11-28",
        external_reference="topup-3",
        description="Wallet top-up #3",
    )
    assert got["invoiceUrl"] == "https://x/i/1"


def test_find_payments_by_reference(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_request("/v3/payments", query_string=page(externalReference="topup-3")).respond_with_json(
        listing(PAYMENT)
    )
    assert asaas.find_payments("topup-3") == [PAYMENT]


def test_refund_full_and_partial(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_ordered_request("/v3/payments/pay_1/refund", method="POST", json={}).respond_with_json(PAYMENT)
    httpserver.expect_ordered_request(
        "/v3/payments/pay_1/refund", method="POST", json={"value": 10.0}
    ).respond_with_json(PAYMENT)
    asaas.refund_payment("pay_1")
    asaas.refund_payment("pay_1", "10.00")
    httpserver.check_assertions()


def test_payment_links_create_get_delete(httpserver: HTTPServer, asaas: AsaasClient):
    link = {"id": "725104409743", "url": "https://www.asaas.com/c/725104409743", "active": True}
    httpserver.expect_request("/v3/paymentLinks", method="POST").respond_with_json(link)
    httpserver.expect_request("/v3/paymentLinks/725104409743", method="GET").respond_with_json(link)
    httpserver.expect_request("/v3/paymentLinks/725104409743", method="DELETE").respond_with_json({"deleted": True})
    assert asaas.create_payment_link(name="R$ 50", value="50.00")["url"].endswith("725104409743")
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["chargeType"] == "DETACHED" and body["billingType"] == "UNDEFINED" and body["value"] == 50.0
    assert asaas.get_payment_link("725104409743") == link
    assert asaas.delete_payment_link("725104409743") == {"deleted": True}


def test_a_400_carries_asaas_error_codes_and_descriptions(httpserver: HTTPServer, asaas: AsaasClient):
    errors = {"errors": [{"code": "invalid_value", "description": "O valor deve ser maior que R$ 5,00."}]}
    httpserver.expect_request("/v3/payments", method="POST").respond_with_json(errors, status=400)
    with pytest.raises(AsaasInvalid) as caught:
        asaas.create_payment(customer="c", value="1.00", due_date="2026-11-28", external_reference="r", description="d")
    assert caught.value.status == 400
    assert caught.value.codes == ["invalid_value"]
    assert "O valor deve ser maior que R$ 5,00." in str(caught.value)
    assert len(httpserver.log) == 1  # a refusal is not retried
    assert_no_key(caught.value)


@pytest.mark.parametrize(
    "status, error_class",
    [
        (401, AsaasUnauthorized),
        (404, AsaasNotFound),
        (429, AsaasRateLimited),
        (500, AsaasUnavailable),
        (503, AsaasUnavailable),
    ],
)
def test_error_statuses_map_to_exceptions_without_the_key(httpserver, asaas, status, error_class):
    httpserver.expect_request("/v3/payments/pay_1").respond_with_data("nope", status=status)
    with pytest.raises(error_class) as caught:
        asaas.get_payment("pay_1")
    assert caught.value.status == status
    assert_no_key(caught.value)


def test_gets_are_retried_on_5xx_then_succeed(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_ordered_request("/v3/payments/pay_1").respond_with_data("", status=503)
    httpserver.expect_ordered_request("/v3/payments/pay_1").respond_with_data("", status=502)
    httpserver.expect_ordered_request("/v3/payments/pay_1").respond_with_json(PAYMENT)
    assert asaas.get_payment("pay_1") == PAYMENT


def test_a_429_is_not_retried_and_nothing_is_sent_until_its_reset(httpserver: HTTPServer):
    now = [1000.0]
    client = AsaasClient(
        base_url=httpserver.url_for("/v3"), api_key=KEY, sleep=lambda _s: None, monotonic=lambda: now[0]
    )
    httpserver.expect_ordered_request("/v3/payments/pay_1").respond_with_data(
        "", status=429, headers={"RateLimit-Limit": "25000", "RateLimit-Remaining": "0", "RateLimit-Reset": "30"}
    )
    httpserver.expect_ordered_request("/v3/payments/pay_1").respond_with_json(PAYMENT)
    with pytest.raises(AsaasRateLimited) as caught:
        client.get_payment("pay_1")
    assert caught.value.retry_after == 30
    assert len(httpserver.log) == 1  # not retried after 0.25 s and 0.5 s
    now[0] += 29
    with pytest.raises(AsaasRateLimited):
        client.get_payment("pay_1")
    assert len(httpserver.log) == 1  # refused without a request: asking again would only extend the block
    now[0] += 2
    assert client.get_payment("pay_1") == PAYMENT


def test_the_meter_sees_every_response_and_its_rate_limit_headers(httpserver: HTTPServer):
    seen: list[tuple] = []

    class Meter:
        def observed(self, **kwargs):
            seen.append(tuple(sorted(kwargs.items())))

    client = AsaasClient(base_url=httpserver.url_for("/v3"), api_key=KEY, meter=Meter(), sleep=lambda _s: None)
    httpserver.expect_request("/v3/payments/pay_1").respond_with_json(
        PAYMENT, headers={"RateLimit-Limit": "25000", "RateLimit-Remaining": "24990", "RateLimit-Reset": "3600"}
    )
    client.get_payment("pay_1")
    assert seen == [(("limit", 25000), ("remaining", 24990), ("reset", 3600.0), ("status", 200))]


def test_lists_are_paged_until_has_more_is_false(httpserver: HTTPServer, asaas: AsaasClient):
    first = [{"id": f"cus_{i}"} for i in range(100)]
    httpserver.expect_request("/v3/customers", query_string=page(0, cpfCnpj="52998224725")).respond_with_json(
        {"object": "list", "hasMore": True, "totalCount": 101, "limit": 100, "offset": 0, "data": first}
    )
    httpserver.expect_request("/v3/customers", query_string=page(100, cpfCnpj="52998224725")).respond_with_json(
        {"object": "list", "hasMore": False, "totalCount": 101, "limit": 100, "offset": 100, "data": [CUSTOMER]}
    )
    found = asaas.find_customers(cpf_cnpj="52998224725")
    assert len(found) == 101 and found[-1] == CUSTOMER


def test_backoff_grows_between_retries(httpserver: HTTPServer):
    slept: list[float] = []
    client = AsaasClient(base_url=httpserver.url_for("/v3"), api_key=KEY, retries=3, backoff=0.1, sleep=slept.append)
    httpserver.expect_request("/v3/payments/pay_1").respond_with_data("", status=503)
    with pytest.raises(AsaasUnavailable):
        client.get_payment("pay_1")
    assert slept == [0.1, 0.2]
    assert len(httpserver.log) == 3


def test_a_timeout_is_unavailable_and_retried():
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = AsaasClient(base_url=f"http://127.0.0.1:{port}/v3", api_key=KEY, timeout=0.3, sleep=lambda _s: None)
        started = time.monotonic()
        with pytest.raises(AsaasUnavailable) as caught:
            client.get_payment("pay_1")
    assert "did not answer" in str(caught.value)
    assert 0.8 < time.monotonic() - started < 3  # three attempts of 0.3 s
    assert_no_key(caught.value)


def test_no_connection_is_unavailable(asaas: AsaasClient):
    client = AsaasClient(base_url="http://127.0.0.1:1/v3", api_key=KEY, timeout=0.5, retries=2, sleep=lambda _s: None)
    with pytest.raises(AsaasUnavailable) as caught:
        client.get_payment("pay_1")
    assert_no_key(caught.value)


def test_a_failed_post_is_recovered_by_its_external_reference(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_ordered_request("/v3/payments", method="POST").respond_with_data("", status=502)
    httpserver.expect_ordered_request("/v3/payments", method="GET").respond_with_json(listing(PAYMENT))
    got = asaas.create_payment(
        customer="c", value="50.00", due_date="2026-11-28", external_reference="topup-3", description="d"
    )
    assert got == PAYMENT
    assert [entry[0].method for entry in httpserver.log] == ["POST", "GET"]


def test_a_failed_post_not_found_by_reference_is_sent_again(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_ordered_request("/v3/payments", method="POST").respond_with_data("", status=500)
    httpserver.expect_ordered_request("/v3/payments", method="GET").respond_with_json(listing())
    httpserver.expect_ordered_request("/v3/payments", method="POST").respond_with_json(PAYMENT)
    assert asaas.create_payment(
        customer="c", value="5.00", due_date="2026-11-28", external_reference="t", description="d"
    )
    assert [entry[0].method for entry in httpserver.log] == ["POST", "GET", "POST"]


def test_a_refund_is_never_retried(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_request("/v3/payments/pay_1/refund", method="POST").respond_with_data("", status=503)
    with pytest.raises(AsaasUnavailable):
        asaas.refund_payment("pay_1")
    assert len(httpserver.log) == 1


def test_a_body_that_is_not_json_is_an_error(httpserver: HTTPServer, asaas: AsaasClient):
    httpserver.expect_request("/v3/payments/pay_1").respond_with_data("<html>", status=200)
    with pytest.raises(AsaasError):
        asaas.get_payment("pay_1")


def test_ids_with_path_characters_never_reach_the_url(asaas: AsaasClient, httpserver: HTTPServer):
    with pytest.raises(AsaasInvalid):
        asaas.get_payment("../customers")
    assert httpserver.log == []


def test_the_configured_client_uses_the_simulator_without_a_key():
    client = client_from_config({"ASAAS_BASE_URL": "http://h/asaas-sim/v3", "ASAAS_API_KEY": "", "ASAAS_TIMEOUT": 3})
    assert client.api_key.startswith("$aact_") and client.timeout == 3.0


def test_a_key_echoed_by_the_upstream_is_redacted_from_errors(httpserver: HTTPServer, asaas: AsaasClient):
    echo = {"errors": [{"code": "invalid_action", "description": f"A chave {KEY} foi recusada ($aact_other123)"}]}
    httpserver.expect_request("/v3/payments/pay_1").respond_with_json(echo, status=400)
    with pytest.raises(AsaasInvalid) as caught:
        asaas.get_payment("pay_1")
    assert_no_key(caught.value)
    assert "aact_" not in str(caught.value) and "A chave [redacted] foi recusada" in str(caught.value)


def test_a_429_blocks_only_its_endpoint(httpserver: HTTPServer):
    """RateLimit-* and 429s are per endpoint at Asaas: one endpoint's block must not stop the others."""
    client = AsaasClient(base_url=httpserver.url_for("/v3"), api_key=KEY, sleep=lambda _s: None)
    httpserver.expect_request("/v3/payments/pay_1").respond_with_data(
        "", status=429, headers={"RateLimit-Limit": "100", "RateLimit-Remaining": "0", "RateLimit-Reset": "30"}
    )
    httpserver.expect_request("/v3/customers/cus_1").respond_with_json(
        {"id": "cus_1"}, headers={"RateLimit-Limit": "100", "RateLimit-Remaining": "99", "RateLimit-Reset": "60"}
    )
    with pytest.raises(AsaasRateLimited):
        client.get_payment("pay_1")
    with pytest.raises(AsaasRateLimited):
        client.get_payment("pay_2")  # the same endpoint, another id: still blocked, nothing sent
    assert client.get_customer("cus_1") == {"id": "cus_1"}
    assert len(httpserver.log) == 2
    assert client.limits["GET /customers/{id}"] == (100, 99, 60.0)


def test_no_more_gets_in_flight_than_asaas_allows():
    in_flight, most = [0], [0]
    lock = threading.Lock()

    class Slow(requests.adapters.BaseAdapter):
        def send(self, request, **_kwargs):
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
            time.sleep(0.05)
            with lock:
                in_flight[0] -= 1
            answer = requests.Response()
            answer.status_code, answer._content, answer.request = 200, b'{"id": "cus_1"}', request
            return answer

    client = AsaasClient(base_url="http://asaas.test/v3", api_key=KEY, max_concurrent_gets=3)
    client.session.mount("http://asaas.test/", Slow())
    threads = [threading.Thread(target=client.get_customer, args=("cus_1",)) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 3

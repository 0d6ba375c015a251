"""A small client for the Asaas v3 REST API (and the built-in simulator, which speaks the same subset).

About 500 lines on purpose: one method per Asaas endpoint the site uses, plus the shared retry, quota and paging rules.

Every call has a timeout. Only safe calls are retried (with exponential backoff):
GETs, and POSTs that carry our own `externalReference`, because before trying
again the client looks the object up by that reference and returns it if the
first attempt did land. Asaas's `RateLimit-*` headers and 429s are per endpoint
(docs.asaas.com, API limits): a 429 is never retried at once; the client reads
`RateLimit-Reset` and refuses calls to that endpoint until then (AsaasRateLimited,
without a request), others go on. At most 50 GETs are in flight at once (Asaas's
limit). Every response is told to the `meter` (auction.payments.quota), which counts
the 12-hour quota from our own requests. Lists are paged with `offset`/`limit`
until `hasMore` is false. Errors carry Asaas's codes and descriptions; the API key
never appears in an exception, a log line or a repr.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests

log = logging.getLogger(__name__)

USER_AGENT = "leilao-auction/1.0 (+https://github.com/)"
DEV_API_KEY = "$aact_simulator_dev_key"
RETRY_STATUSES = {500, 502, 503, 504}
PAGE_LIMIT = 100  # Asaas's largest page
MAX_PAGES = 200
# A 429 with no RateLimit-Reset: wait this long (seconds) before the next request.
DEFAULT_RATE_LIMIT_WAIT = 60.0
# Asaas writes its dates and times in Brasília time, without an offset (expirationDate "2026-12-18 23:59:59",
# dueDate "2026-12-18", the dateCreated[ge] filter): read and write them in that zone, never as UTC.
BRASILIA = ZoneInfo("America/Sao_Paulo")


def parse_asaas_datetime(text: str) -> datetime:
    """Asaas's "YYYY-MM-DD HH:MM:SS" (Brasília time) as an aware UTC datetime; ValueError if it is not one."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BRASILIA)
    return moment.astimezone(UTC)


def asaas_date(moment: datetime) -> str:
    """The calendar day (YYYY-MM-DD) a moment falls on in Brasília, as Asaas's date fields and filters mean it."""
    return moment.astimezone(BRASILIA).date().isoformat()


class AsaasError(Exception):
    """Asaas refused or could not answer. `errors` is Asaas's list of {code, description}."""

    def __init__(self, message: str, *, status: int | None = None, errors: list[dict[str, str]] | None = None):
        self.status = status
        self.errors = errors or []
        # A refusal of a POST resent after an attempt that got no answer: that first attempt may exist.
        self.after_unanswered = False
        detail = "; ".join(f"{e.get('code')}: {e.get('description')}" for e in self.errors)
        super().__init__(f"{message}{' (' + detail + ')' if detail else ''}")

    @property
    def codes(self) -> list[str]:
        return [str(e.get("code")) for e in self.errors]


class AsaasInvalid(AsaasError):
    """400: the request was refused; see `errors`."""

    @property
    def needs_critical_authorisation(self) -> bool:
        """Asaas's "critical authorisation" refusal: the account wants an SMS/app token for this action
        (docs.asaas.com, security: "Your account has critical authorization enabled...")."""
        phrases = ("critical authorization", "autorização crítica")
        return any(
            e.get("code") == "invalid_action" and any(p in str(e.get("description", "")).lower() for p in phrases)
            for e in self.errors
        )


class AsaasUnauthorized(AsaasError):
    """401: the API key is missing or wrong."""


class AsaasNotFound(AsaasError):
    """404: no such object."""


class AsaasRateLimited(AsaasError):
    """429: too many requests; `retry_after` seconds until Asaas takes requests again."""

    def __init__(self, message: str, *, retry_after: float = DEFAULT_RATE_LIMIT_WAIT, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Meter(Protocol):
    """Told about every response (auction.payments.quota.QuotaMeter)."""

    def observed(self, *, status: int, limit: int | None, remaining: int | None, reset: float | None) -> None: ...


class AsaasUnavailable(AsaasError):
    """5xx, a timeout or no connection: Asaas could not answer now."""


class IncompleteLookup(AsaasUnavailable):
    """A list could not be read to its end: what it did not show may exist."""


STATUS_ERRORS: dict[int, type[AsaasError]] = {
    400: AsaasInvalid,
    401: AsaasUnauthorized,
    403: AsaasUnauthorized,
    404: AsaasNotFound,
    429: AsaasRateLimited,
}


@dataclass
class AsaasClient:
    base_url: str
    api_key: str = field(repr=False)
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.25
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    meter: Meter | None = field(default=None, repr=False)
    # After a 429, per endpoint ("GET /payments/{id}"): no request to it leaves before this monotonic time.
    blocked: dict[str, float] = field(default_factory=dict, repr=False)
    # The last RateLimit-Limit/-Remaining/-Reset each endpoint answered (this process's view, for the admin page).
    limits: dict[str, tuple[int | None, int | None, float | None]] = field(default_factory=dict, repr=False)
    # Asaas allows "up to 50 concurrent GET requests"; more wait here instead of drawing a 429.
    max_concurrent_gets: int = 50
    _gets: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._gets = threading.BoundedSemaphore(self.max_concurrent_gets)

    # -- customers ---------------------------------------------------------------

    def create_customer(
        self, *, name: str, cpf_cnpj: str, email: str | None = None, external_reference: str | None = None
    ) -> dict[str, Any]:
        body = {"name": name, "cpfCnpj": cpf_cnpj, "email": email, "externalReference": external_reference}
        body = {k: v for k, v in body.items() if v is not None} | {"notificationDisabled": True}
        lookup = (
            (lambda: self._first(self.find_customers(external_reference=external_reference)))
            if (external_reference)
            else None
        )
        return self._post("/customers", body, lookup)

    def find_customers(self, *, external_reference: str | None = None, cpf_cnpj: str | None = None) -> list[dict]:
        params = {"externalReference": external_reference, "cpfCnpj": cpf_cnpj}
        return list(self.pages("/customers", {k: v for k, v in params.items() if v}))

    def get_customer(self, customer_id: str) -> dict[str, Any]:
        return self._get(f"/customers/{_safe_id(customer_id)}")

    # -- payments ---------------------------------------------------------------

    def create_payment(
        self,
        *,
        customer: str,
        value: str,
        due_date: str,
        external_reference: str,
        description: str,
        billing_type: str = "UNDEFINED",
        success_url: str | None = None,
    ) -> dict[str, Any]:
        """POST /payments; `value` is decimal reais ("150.00"), sent as a JSON number.

        `success_url`: where Asaas's own page sends the payer back after paying (`callback.successUrl`; Asaas
        accepts only a domain registered in the account's settings).
        """
        body: dict[str, Any] = {
            "customer": customer,
            "billingType": billing_type,
            "value": json_number(value),
            "dueDate": due_date,
            "description": description,
            "externalReference": external_reference,
        }
        if success_url:
            body["callback"] = {"successUrl": success_url, "autoRedirect": True}
        return self._post("/payments", body, lambda: self._first(self.find_payments(external_reference)))

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        return self._get(f"/payments/{_safe_id(payment_id)}")

    def find_payments(self, external_reference: str) -> list[dict[str, Any]]:
        return list(self.pages("/payments", {"externalReference": external_reference}))

    def list_payments(self, **filters: str) -> Iterator[dict[str, Any]]:
        """GET /payments with Asaas's filters (e.g. `**{"dateCreated[ge]": "2026-11-01"}`), every page."""
        return self.pages("/payments", filters)

    def delete_payment(self, payment_id: str) -> dict[str, Any]:
        """DELETE /payments/{id}: an abandoned charge can no longer be paid."""
        return self._request("DELETE", f"/payments/{_safe_id(payment_id)}")

    def pix_qr_code(self, payment_id: str) -> dict[str, Any]:
        """`{encodedImage, payload, expirationDate}`: the QR code (base64 PNG) and the copy-paste code."""
        return self._get(f"/payments/{_safe_id(payment_id)}/pixQrCode")

    def identification_field(self, payment_id: str) -> dict[str, Any]:
        """`{identificationField, nossoNumero, barCode}`: the boleto's digitable line."""
        return self._get(f"/payments/{_safe_id(payment_id)}/identificationField")

    def refund_payment(self, payment_id: str, value: str | None = None, description: str | None = None) -> dict:
        """Refund all (no value) or part of a payment. Not retried: a refund must never be sent twice."""
        body = {k: v for k, v in {"value": json_number(value), "description": description}.items() if v is not None}
        return self._post(f"/payments/{_safe_id(payment_id)}/refund", body, None)

    # -- webhooks -----------------------------------------------------------------

    def list_webhooks(self) -> list[dict[str, Any]]:
        return list(self.pages("/webhooks", {}))

    def create_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._post("/webhooks", body, None)

    def update_webhook(self, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("PUT", f"/webhooks/{_safe_id(webhook_id)}", json=body)

    # -- payment links ------------------------------------------------------------

    def create_payment_link(
        self, *, name: str, value: str, description: str = "", due_date_limit_days: int = 3
    ) -> dict:
        body = {
            "name": name,
            "description": description,
            "value": json_number(value),
            "billingType": "UNDEFINED",
            "chargeType": "DETACHED",
            "dueDateLimitDays": due_date_limit_days,
            "notificationEnabled": False,
        }
        return self._post("/paymentLinks", body, None)

    def get_payment_link(self, link_id: str) -> dict[str, Any]:
        return self._get(f"/paymentLinks/{_safe_id(link_id)}")

    def delete_payment_link(self, link_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"/paymentLinks/{_safe_id(link_id)}")

    # -- transfers (money out; used by auction.payouts) ----------------------------------

    def create_transfer(
        self, *, value: str, pix_key: str, pix_key_type: str, description: str, external_reference: str, since: date
    ) -> dict[str, Any]:
        """POST /transfers to a PIX key (`value` decimal reais, sent as a JSON number). Retried only after looking
        the reference up among the transfers created since `since`, so it cannot pay twice."""
        body = {
            "operationType": "PIX",
            "pixAddressKey": pix_key,
            "pixAddressKeyType": pix_key_type,
            "value": json_number(value),
            "description": description,
            "externalReference": external_reference,
        }
        return self._post("/transfers", body, lambda: self.find_transfer(external_reference, since))

    def get_transfer(self, transfer_id: str) -> dict[str, Any]:
        return self._get(f"/transfers/{_safe_id(transfer_id)}")

    def cancel_transfer(self, transfer_id: str) -> dict[str, Any]:
        """DELETE /transfers/{id}/cancel: only a transfer still PENDING can be cancelled."""
        return self._request("DELETE", f"/transfers/{_safe_id(transfer_id)}/cancel")

    def find_transfer(self, external_reference: str, since: date) -> dict[str, Any] | None:
        """The transfer carrying our reference, created on or after `since`.

        GET /transfers has no reference filter (only `dateCreated[ge]/[le]`, `transferDate`, `type`), so every
        page of the window is read and compared. A look-up that cannot read the whole window raises
        (IncompleteLookup, or the request's error): the caller must not send again on a partial answer.
        """
        filters = {"dateCreated[ge]": since.isoformat()}
        found = next(
            (
                t
                for t in self.pages("/transfers", filters, strict=True)
                if t.get("externalReference") == external_reference
            ),
            None,
        )
        return found

    def balance(self) -> dict[str, Any]:
        """GET /finance/balance: `{"balance": 1234.56}`, what the account can transfer now."""
        return self._get("/finance/balance")

    def financial_transactions(self, start: date, finish: date) -> Iterator[dict[str, Any]]:
        """GET /financialTransactions: the account statement (every movement of the balance), every page."""
        return self.pages("/financialTransactions", {"startDate": start.isoformat(), "finishDate": finish.isoformat()})

    # -- transport -----------------------------------------------------------------

    @staticmethod
    def _first(items: list[dict[str, Any]]) -> dict[str, Any] | None:
        return items[0] if items else None

    def pages(self, path: str, params: dict[str, Any], *, strict: bool = False) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, page by page (`offset`/`limit`, until `hasMore` is false).

        `strict`: more than MAX_PAGES pages raises IncompleteLookup instead of stopping with a warning.
        """
        offset = 0
        for _ in range(MAX_PAGES):
            page = self._get(path, {**params, "offset": offset, "limit": PAGE_LIMIT})
            data = page.get("data") or []
            yield from data
            if not page.get("hasMore") or not data:
                return
            offset += len(data)
        log.warning("event=asaas_list_truncated path=%s pages=%s", path, MAX_PAGES)
        if strict:
            raise IncompleteLookup(f"GET {path}: more than {MAX_PAGES} pages; the look-up is incomplete")

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._with_retries("GET", path, lambda: self._request("GET", path, params=params))

    def _post(self, path: str, body: dict[str, Any], lookup: Callable[[], dict | None] | None) -> dict[str, Any]:
        """POST; retried only when `lookup` can tell whether an earlier attempt already created it."""
        if lookup is None:
            return self._request("POST", path, json=body)
        attempt = 0

        def once() -> dict[str, Any]:
            nonlocal attempt
            attempt += 1
            if attempt > 1 and (found := lookup()) is not None:
                log.info("event=asaas_post_recovered path=%s", path)
                return found
            try:
                return self._request("POST", path, json=body)
            except AsaasInvalid as exc:
                exc.after_unanswered = attempt > 1
                raise

        return self._with_retries("POST", path, once)

    def _with_retries(self, method: str, path: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        delay = self.backoff
        for attempt in range(1, self.retries + 1):
            try:
                return call()
            except AsaasUnavailable as exc:
                if attempt == self.retries:
                    raise
                log.info("event=asaas_retry method=%s path=%s attempt=%d status=%s", method, path, attempt, exc.status)
                self.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {
            "access_token": self.api_key,
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        url = f"{self.base_url}{path}"
        endpoint = endpoint_of(method, path)
        wait = self.blocked.get(endpoint, 0.0) - self.monotonic()
        if wait > 0:
            # Asaas said to wait: asking again before the reset would only extend the block.
            raise AsaasRateLimited(f"Asaas's rate limit: {endpoint} not sent", status=429, retry_after=wait)
        try:
            if method == "GET":
                with self._gets:
                    response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            else:
                response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise AsaasUnavailable(f"Asaas did not answer {method} {path} within {self.timeout}s") from None
        except requests.RequestException as exc:
            raise AsaasUnavailable(f"cannot reach Asaas for {method} {path}: {type(exc).__name__}") from None
        self._observe(endpoint, response)
        if response.status_code == 429:
            reset = _header_number(response, "RateLimit-Reset")
            wait = reset if reset is not None and reset > 0 else DEFAULT_RATE_LIMIT_WAIT
            self.blocked[endpoint] = self.monotonic() + wait
            log.warning("event=asaas_rate_limited method=%s path=%s wait_s=%s", method, path, wait)
            raise AsaasRateLimited(f"Asaas refused {method} {path}: rate limited", status=429, retry_after=wait)
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError:
                raise AsaasUnavailable(f"Asaas answered {method} {path} with a body that is not JSON") from None
        errors = [{k: _redact(v, self.api_key) for k, v in e.items()} for e in _errors_of(response)]
        error_class = STATUS_ERRORS.get(response.status_code, AsaasUnavailable)
        log.info(
            "event=asaas_error method=%s path=%s status=%s codes=%s",
            method,
            path,
            response.status_code,
            ",".join(str(e.get("code")) for e in errors) or "-",
        )
        raise error_class(
            f"Asaas refused {method} {path} with HTTP {response.status_code}",
            status=response.status_code,
            errors=errors,
        )

    def _observe(self, endpoint: str, response: requests.Response) -> None:
        limit = _int_or_none(_header_number(response, "RateLimit-Limit"))
        remaining = _int_or_none(_header_number(response, "RateLimit-Remaining"))
        reset = _header_number(response, "RateLimit-Reset")
        if limit is not None:
            self.limits[endpoint] = (limit, remaining, reset)
        if self.meter is None:
            return
        try:
            self.meter.observed(status=response.status_code, limit=limit, remaining=remaining, reset=reset)
        except Exception:  # the meter is bookkeeping: it must never fail a payment
            log.exception("event=asaas_meter_failed")


def endpoint_of(method: str, path: str) -> str:
    """Asaas limits requests per endpoint: the method and the path with its id left out ("GET /payments/{id}")."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) > 1:
        parts[1] = "{id}"
    return f"{method} /{'/'.join(parts)}"


def _header_number(response: requests.Response, name: str) -> float | None:
    try:
        return float(response.headers.get(name, ""))
    except ValueError:
        return None


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def json_number(value: str | None) -> float | None:
    """Decimal reais as the JSON number Asaas documents ("150.00" -> 150.0; repr keeps two decimals exact)."""
    return None if value is None else float(value)


def _errors_of(response: requests.Response) -> list[dict[str, str]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [
        {"code": str(e.get("code", "")), "description": str(e.get("description", ""))}
        for e in errors
        if isinstance(e, dict)
    ]


API_KEY_PATTERN = re.compile(r"\$?aact_[A-Za-z0-9_:$=+/-]+")


def _redact(text: str, api_key: str) -> str:
    """An upstream that echoes the key in an error description must not put it in our exceptions."""
    if api_key:
        text = text.replace(api_key, "[redacted]")
    return API_KEY_PATTERN.sub("[redacted]", text)


def _safe_id(value: str) -> str:
    """Asaas ids are letters, digits, '_' and '-': anything else never reaches the URL path."""
    if not value or not all(c.isalnum() or c in "_-" for c in value):
        raise AsaasInvalid(f"not an Asaas id: {value[:40]!r}")
    return value


def client_from_config(config: Any, meter: Meter | None = None) -> AsaasClient:
    """The client for this app: Asaas when ASAAS_API_KEY is set, else the built-in simulator."""
    return AsaasClient(
        base_url=config["ASAAS_BASE_URL"],
        api_key=config["ASAAS_API_KEY"] or DEV_API_KEY,
        timeout=float(config["ASAAS_TIMEOUT"]),
        meter=meter,
    )

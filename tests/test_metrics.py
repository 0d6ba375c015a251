"""GET /metrics (auction/entrypoints/metrics.py): not public, and its numbers are the site's.

The live test runs two real processes sharing one METRICS_DIR, bids on one and scrapes the other."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from auction import accounts, clock
from auction.db import Database
from auction.models import AlertDelivery, Base, OutgoingMail, WebhookDelivery
from tests.conftest import VALID_CPFS
from tests.support.auctions import fund, new_auction
from tests.support.faults import wait_for
from tests.support.payments import TOKEN as WEBHOOK_TOKEN
from tests.support.server import ROOT
from tests.support.sockets import PASSWORD, SocketUser
from tests.test_webhook import body_for

METRICS_TOKEN = "metrics-token-for-the-test-0123456789"
SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@SQLITE
def test_metrics_answer_404_without_a_token_configured_and_401_without_the_right_one(app_config):
    from auction import create_app

    assert create_app(app_config).test_client().get("/metrics").status_code == 404
    client = create_app({**app_config, "METRICS_TOKEN": METRICS_TOKEN}).test_client()
    for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        response = client.get("/metrics", headers=header)
        assert response.status_code == 401 and METRICS_TOKEN not in response.get_data(as_text=True)
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200

    # docs/deploy.md's table lists exactly the metrics served, and its alerts use no other.
    served = {f.name for f in text_string_to_metric_families(response.get_data(as_text=True))}
    served = {name for name in served if name.startswith("leilao_")}
    section = (ROOT / "docs" / "deploy.md").read_text().split("## Metrics", 1)[1].split("\n## ", 1)[0]
    table = {row.split("`")[1] for row in section.splitlines() if row.startswith("| `leilao_")}
    assert table == served
    mentioned = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in re.findall(r"leilao_\w+", section)}
    assert mentioned <= served, mentioned - served


@pytest.fixture
def people(db_url: str, fast_passwords) -> Iterator[tuple[Database, dict[str, int]]]:
    """The live servers' database with a seller and two funded bidders."""
    database = Database(db_url, pool_size=2)
    Base.metadata.create_all(database.engine)
    ids = {}
    for name in ("seller", "bidder1", "bidder2"):
        ids[name] = database.transaction(
            lambda s, n=name: (
                accounts.register(s, username=n, email=f"{n}@example.com", password=PASSWORD, cpf_cnpj=VALID_CPFS[0]).id
            )
        )
        if name != "seller":
            fund(database, ids[name], 1_000_000)
    yield database, ids
    database.dispose()


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} from a live server's /metrics."""
    response = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


WAITED = 120  # seconds each queue's oldest message has waited when scraped


def waiting_in_each_queue(session, user_id: int, since: datetime) -> None:
    """One message waiting in each backlog since `since`: an alert due, a mail queued, a delivery unprocessed."""
    session.add_all(
        [
            AlertDelivery(
                user_id=user_id, kind="outbid", channel="push", message="m", path="/", due_at=since, created_at=since
            ),
            OutgoingMail(
                message_id="<metrics-test@leilao>",
                kind="verify_email",
                to_address="bidder1@example.com",
                subject="s",
                text_body="t",
                html_body="h",
                next_attempt_at=since,
                created_at=since,
            ),
            WebhookDelivery(event_id="evt_metrics", event="PAYMENT_RECEIVED", raw_body="{}", received_at=since),
        ]
    )


def sampled(samples: dict) -> dict | None:
    """The scrape once the site's sampler counted its two sockets and the leader's first audit ran."""
    ready = value(samples, "leilao_open_sockets") == 2 and value(samples, "leilao_wallet_audit_timestamp_seconds")
    return samples if ready else None


@SQLITE
@pytest.mark.live
def test_a_scrape_of_one_process_counts_the_bids_webhooks_and_sockets_of_another(
    live_server_factory, db_url, people, tmp_path
):
    database, ids = people
    auction_id = new_auction(database, ids["seller"], seconds=3600)
    # The outboxes' own jobs are off: what waits in them stays there to be counted.
    shared = {
        "METRICS_DIR": str(tmp_path / "metrics"),
        "METRICS_TOKEN": METRICS_TOKEN,
        "ALERTS_INTERVAL": "0",
        "MAIL_SEND_INTERVAL": "0",
    }
    site = live_server_factory(db_url, **shared, SCHEDULER_ENABLED="false")
    jobs = live_server_factory(db_url, **shared)  # leads the jobs, audits the wallet on its first round
    bidders = [SocketUser(site.url, "bidder1"), SocketUser(site.url, "bidder2")]
    try:
        amounts = itertools.count(1_000, 500)
        acks = [bidders[n % 2].call("bid", {"auction_id": auction_id, "amount": next(amounts)}) for n in range(3)]
        acks.append(bidders[0].call("bid", {"auction_id": auction_id, "amount": 1_000}))  # below the price
        assert [ack["ok"] for ack in acks] == [True, True, True, False] and acks[3]["error"] == "too_low"
        webhook = requests.post(
            f"{site.url}/payment/webhook",
            json=body_for("PAYMENT_RECEIVED", "pay_nobody_knows"),
            headers={"asaas-access-token": WEBHOOK_TOKEN},
            timeout=10,
        )
        assert webhook.json()["outcome"] == "unmatched"
        requests.post(f"{site.url}/payment/webhook", json={}, timeout=10)  # no token: 401
        database.transaction(waiting_in_each_queue, ids["bidder1"], clock.now() - timedelta(seconds=WAITED))
        # The samplers write every second; the leader's audit runs as it starts leading.
        samples = wait_for(
            lambda: sampled(scrape(jobs.url)), what="the site's sockets and the audit in the jobs process's scrape"
        )
    finally:
        for bidder in bidders:
            bidder.close()

    events = "leilao_socket_events_total"
    assert value(samples, events, event="bid", outcome="ok") == 3
    assert value(samples, events, event="bid", outcome="too_low") == 1
    assert value(samples, "leilao_socket_event_seconds_count", event="bid") == 4
    assert value(samples, "leilao_bid_batch_size_sum") == 4 and 1 <= value(samples, "leilao_bid_batch_size_count") <= 4
    webhooks = "leilao_webhook_deliveries_total"
    assert value(samples, webhooks, status="200", outcome="unmatched") == 1
    assert value(samples, webhooks, status="401", outcome="unauthorized") == 1
    assert value(samples, "leilao_jobs_leader") == 1
    assert value(samples, "leilao_wallet_audit_problems") == 0
    assert value(samples, "leilao_hub_lag_seconds_count") >= 2  # both processes sampled
    assert value(samples, "leilao_metrics_database_up") == 1
    for queue in ("alerts", "mail", "webhooks"):
        assert value(samples, "leilao_queue_depth", queue=queue) == 1, queue
        assert WAITED <= value(samples, "leilao_queue_oldest_seconds", queue=queue) < WAITED + 60, queue
    assert value(samples, "leilao_asaas_quota") == 25_000

    # A SIGKILLed process's live gauges go with it: the jobs process was the only leader.
    jobs.kill()
    after = scrape(site.url)
    assert value(after, "leilao_jobs_leader") == 0
    assert value(after, events, event="bid", outcome="ok") == 3, "counts of the processes that lived stay"
    wait_for(lambda: value(scrape(site.url), "leilao_open_sockets") == 0, what="the closed sockets sampled")

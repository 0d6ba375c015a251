"""deploy/ as shipped: only the jobs processes (one leading at a time) run the site-wide jobs, every process
refreshes its own sockets, the nginx site renders from its settings and nginx accepts it (`nginx -t`)."""

from __future__ import annotations

import re
import subprocess

import pytest
from werkzeug.test import Client

from auction import create_app
from auction.config import load_config
from auction.db import Database
from auction.entrypoints import guard, jobs
from tests.support.nginx import NGINX, nginx_available, render, self_signed_certificate
from tests.support.server import ROOT

UNITS = ROOT / "deploy" / "systemd"


def scheduler_setting(unit: str) -> str:
    found = re.search(r"SCHEDULER_ENABLED=(\w+)", (UNITS / unit).read_text())
    assert found, unit
    return found.group(1)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_jobs_process_answers_monitoring_only(app_config):
    assert "SERVE_SITE=false" in (UNITS / "leilao-jobs.service").read_text()
    for serve_site, page_status in ((False, 404), (True, 200)):
        app = create_app({**app_config, "SERVE_SITE": serve_site})
        client = Client(guard.protect(app))
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == page_status
        assert client.get("/login").status_code == page_status
        assert client.get("/socket.io/?EIO=4&transport=polling").status_code == page_status
        app.extensions["auction.db"].dispose()


def test_site_processes_leave_the_site_wide_jobs_to_the_jobs_processes():
    assert scheduler_setting("leilao-site@.service") == "false"
    assert scheduler_setting("leilao-jobs.service") == "true"
    assert sorted(path.name for path in UNITS.glob("*.service")) == ["leilao-jobs.service", "leilao-site@.service"]


@pytest.mark.parametrize("scheduler_enabled", [True, False])
def test_a_process_without_the_scheduler_still_refreshes_its_own_watchers(scheduler_enabled, monkeypatch, tmp_path):
    started: list[str] = []

    def start(task, _app, *args):
        started.append(args[0] if task is jobs._loop else task.__name__)

    monkeypatch.setattr(jobs.socketio, "start_background_task", start)
    config = {**load_config({"INSTANCE_PATH": str(tmp_path)}), "SCHEDULER_ENABLED": scheduler_enabled}
    database = Database("sqlite://", pool_size=1)
    app = create_app({"DATABASE_URL": "sqlite://", "INSTANCE_PATH": str(tmp_path)})
    app.extensions["auction.db"].dispose()
    wired = app.extensions["auction.jobs"]  # the jobs create_app wires
    extensions = {"auction.db": database, "auction.jobs": wired}
    jobs.start_background_tasks(type("App", (), {"config": config, "extensions": extensions})())
    database.dispose()
    # The site-wide jobs (those on by default) and the bid for their lease (entrypoints/leader.py).
    site_wide = {name for name, key, _job, every in wired if not every and float(config[key]) > 0} | {"_lead"}
    assert {"auction_scheduler", "payments_reconcile", "orders_release", "wallet_audit"} <= site_wide
    assert "watchers_refresh" in started
    assert site_wide <= set(started) if scheduler_enabled else not site_wide & set(started)


def test_the_nginx_site_needs_a_server_name():
    with pytest.raises(SystemExit, match="LEILAO_SERVER_NAME"):
        render.settings({})


@pytest.mark.skipif(not nginx_available(), reason="nginx is not installed")
@pytest.mark.parametrize(
    ("https", "http", "ipv6", "listens"),
    [
        ("127.0.0.1:18443", "127.0.0.1:18080", "off", ["127.0.0.1:18080;", "127.0.0.1:18443 ssl http2;"]),
        # An address in a port setting with IPv6 on (the default) once rendered `listen [::]:127.0.0.1:...`.
        ("127.0.0.1:18443", "18080", "on", ["18080;", "[::]:18080;", "127.0.0.1:18443 ssl http2;"]),
        ("18443", "18080", "on", ["18080;", "[::]:18080;", "18443 ssl http2;", "[::]:18443 ssl http2;"]),
    ],
)
def test_nginx_accepts_the_rendered_site(tmp_path, https, http, ipv6, listens):
    cert, key = self_signed_certificate(tmp_path)
    site = render.render_nginx(
        render.settings(
            {
                "LEILAO_SERVER_NAME": "leilao.example",
                "LEILAO_TLS_CERTIFICATE": str(cert),
                "LEILAO_TLS_CERTIFICATE_KEY": str(key),
                "LEILAO_SITE_PORTS": "5001,5002,5003",
                "LEILAO_HTTPS_PORT": https,
                "LEILAO_HTTP_PORT": http,
                "LEILAO_LISTEN_IPV6": ipv6,
            }
        )
    )
    assert [line.split(None, 1)[1] for line in site.splitlines() if line.strip().startswith("listen ")] == listens
    assert "return 301 https://$host:18443$request_uri;" in site
    assert site.count("server 127.0.0.1:50") == 3 and "@" not in site.split("\n", 3)[3]
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ include /etc/nginx/mime.types; include {tmp_path / 'site.conf'}; }}\n"
    )
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr

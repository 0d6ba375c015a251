"""Configuration from the environment, and production mode's refusals."""

from __future__ import annotations

import subprocess
import sys

import pytest

from auction.config import ConfigError, load_config
from tests.support.server import ROOT


def test_development_defaults_are_safe_and_complete(tmp_path):
    config = load_config({}, instance_path=tmp_path)
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'auction.db'}"
    assert config["PORT"] == 5000 and config["HOST"] == "127.0.0.1"
    assert config["ASAAS_SIMULATOR"] is True
    assert len(config["SECRET_KEY"]) == 64
    assert load_config({}, instance_path=tmp_path)["SECRET_KEY"] == config["SECRET_KEY"]


def test_the_asaas_simulator_and_its_settings_are_the_development_default_only(tmp_path):
    dev = load_config({"PUBLIC_URL": "http://site.test/"}, instance_path=tmp_path)
    assert dev["ASAAS_SIMULATOR"] is True and dev["ASAAS_BASE_URL"] == "http://site.test/asaas-sim/v3"
    assert dev["ASAAS_SIM_DELIVERY"] == "background"
    assert dev["ASAAS_SIM_WEBHOOK_URL"] == "http://site.test/payment/webhook"
    assert load_config({"ASAAS_API_KEY": "$aact_real"}, instance_path=tmp_path)["ASAAS_SIMULATOR"] is False
    production = {"AUCTION_ENV": "production", "SECRET_KEY": "s" * 40, "ASAAS_WEBHOOK_TOKEN": "t" * 40}
    assert load_config(production, instance_path=tmp_path)["ASAAS_SIMULATOR"] is False


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ASAAS_WEBHOOK_TOKEN"])
def test_production_refuses_to_start_without_secrets(tmp_path, missing):
    env = {"AUCTION_ENV": "production", "SECRET_KEY": "s" * 40, "ASAAS_WEBHOOK_TOKEN": "t" * 40}
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        load_config(env, instance_path=tmp_path)


def test_production_refuses_a_short_metrics_token_and_takes_none(tmp_path):
    env = {"AUCTION_ENV": "production", "SECRET_KEY": "s" * 40, "ASAAS_WEBHOOK_TOKEN": "t" * 40}
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        load_config({**env, "METRICS_TOKEN": "CHANGE-ME"}, instance_path=tmp_path)
    assert load_config(env, instance_path=tmp_path)["METRICS_TOKEN"] is None
    assert load_config({**env, "METRICS_TOKEN": "m" * 32}, instance_path=tmp_path)["METRICS_TOKEN"] == "m" * 32


@pytest.mark.parametrize("interval, timeout", [("6", "10"), ("0", "10"), ("1", "1")])
def test_a_jobs_lease_that_would_lapse_between_renewals_is_refused(tmp_path, interval, timeout):
    with pytest.raises(ConfigError, match="JOBS_LEASE_INTERVAL"):
        load_config({"JOBS_LEASE_INTERVAL": interval, "JOBS_LEASE_TIMEOUT": timeout}, instance_path=tmp_path)


def test_production_sets_secure_cookies(tmp_path):
    config = load_config(
        {"AUCTION_ENV": "production", "SECRET_KEY": "s" * 40, "ASAAS_WEBHOOK_TOKEN": "t" * 40}, instance_path=tmp_path
    )
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_run_py_explains_missing_production_secret(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "run.py")],
        env={"AUCTION_ENV": "production", "INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_database_is_one_clear_line_without_password(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "run.py")],
        env={
            "DATABASE_URL": "mariadb+mariadbconnector://app:hunter2secret@127.0.0.1:1/auction",
            "INSTANCE_PATH": str(tmp_path),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "cannot reach the database at mariadb+mariadbconnector://app:***@127.0.0.1:1/auction" in result.stderr
    assert "hunter2secret" not in result.stderr and "Traceback" not in result.stderr

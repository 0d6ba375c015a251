"""bench.runtimes goes on past a runtime that fails, and reports it in that runtime's column with the reason."""

from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest


@pytest.fixture
def runtimes():
    # bench.common turns SIGTERM and SIGHUP into SystemExit for the benchmark's own process: not for pytest's.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    from bench import runtimes

    for sig, handler in saved.items():
        signal.signal(sig, handler)
    return runtimes


def _scenario(fails_on: str, ran: list[str]) -> SimpleNamespace:
    def run(args):
        ran.append(args.server)
        if args.server == fails_on:
            raise RuntimeError("load generator failed before READY: 'join_auction timed out'\nmore")
        return "| metric | value |\n| --- | --- |\n| acks/s | 100 |\n| scenario | x |"

    parser = SimpleNamespace(parse_args=lambda argv: SimpleNamespace(server=argv[1]))
    return SimpleNamespace(run=run, parser=lambda: parser)


def test_a_failed_runtime_is_reported_and_the_next_one_runs(runtimes, monkeypatch, capsys):
    ran: list[str] = []
    monkeypatch.setattr(runtimes, "hot_auction", _scenario("none", ran))
    monkeypatch.setattr(runtimes, "fanout", _scenario("threading", ran))
    assert runtimes.main(["--duration", "1"]) == 1
    assert ran == ["eventlet", "gevent", "threading"] * 2
    printed = capsys.readouterr().out
    fan_out = printed[printed.index("### fan-out") :]
    assert "| result | ok | ok | FAILED (RuntimeError: load generator failed before READY" in fan_out
    assert "| acks/s | 100 | 100 |  |" in fan_out


def test_the_fan_out_default_is_what_threading_holds(runtimes, monkeypatch):
    seen = []
    scenario = _scenario("none", [])
    scenario.parser = lambda: SimpleNamespace(
        parse_args=lambda argv: seen.append(argv) or SimpleNamespace(server=argv[1])
    )
    monkeypatch.setattr(runtimes, "hot_auction", _scenario("none", []))
    monkeypatch.setattr(runtimes, "fanout", scenario)
    assert runtimes.main(["--runtimes", "threading"]) == 0
    assert seen[0][seen[0].index("--watchers") + 1] == str(runtimes.WATCHERS) == "500"

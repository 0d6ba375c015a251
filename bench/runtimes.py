"""The hot-auction and fan-out scenarios on each runtime run.py serves with (eventlet, gevent, threading),
one after the other in one run, printed side by side (docs/performance.md, The three runtimes).

    python -m bench.runtimes                                       # 200 hot bidders, 500 watchers, 10 s each
    python -m bench.runtimes --watchers 2000                       # past what threading holds (it fails)
    python -m bench.runtimes --duration 3 --bidders 5 --watchers 20 --fanout-rate 5   # a smoke run
    python -m bench.runtimes --runtimes eventlet gevent            # a subset

Each scenario's own table is printed as it ends (and kept in bench/results/), then one table per scenario
with a column per runtime. A runtime whose run fails (threading with thousands of watchers: Werkzeug's server
gives each websocket an OS thread, and the load generators' joins time out) is reported in its column as
failed, with the reason, and the next runtime runs; the command then exits 1. The fan-out default is 500
watchers, which all three hold (docs/performance.md, The three runtimes). Run it on a quiet machine: the
runtimes' numbers are only comparable when nothing else shares the cores.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench import fanout, hot_auction
from bench.common import RUNTIMES

# Rows that describe the run rather than measure it (they differ by runtime by construction).
_SKIP = {"scenario", "configuration", "when (UTC)"}
RESULT = "result"  # the first row of each side-by-side table: ok, or failed with the reason
# What threading's server holds (docs/performance.md): the fan-out's default here, so one run compares all three.
WATCHERS = 500


def rows_of(table: str) -> dict[str, str]:
    """A scenario's markdown table (`| metric | value |`) as a dict."""
    found = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|", 1)]
        if len(cells) == 2:
            found[cells[0]] = cells[1]
    return found


def side_by_side(title: str, by_runtime: dict[str, dict[str, str]]) -> str:
    runtimes = list(by_runtime)
    metrics: list[str] = []
    for rows in by_runtime.values():
        metrics += [metric for metric in rows if metric not in metrics and metric not in _SKIP]
    lines = [f"### {title}", "", "| metric | " + " | ".join(runtimes) + " |", "| --- |" + " --- |" * len(runtimes)]
    lines += [f"| {m} | " + " | ".join(by_runtime[r].get(m, "") for r in runtimes) + " |" for m in metrics]
    return "\n".join(lines)


def scenario_args(module: Any, runtime: str, argv: list[str]) -> Any:
    return module.parser().parse_args(["--server", runtime, *argv])


def measure(module: Any, runtime: str, argv: list[str]) -> dict[str, str]:
    """One scenario on one runtime: its table's rows, or only the reason it failed (the scenario stops its
    servers and drops its database on the way out; a signal still stops the whole command)."""
    try:
        rows = rows_of(module.run(scenario_args(module, runtime, argv)))
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        print(f"== {runtime} failed: {type(exc).__name__}: {reason}", flush=True)
        return {RESULT: f"FAILED ({type(exc).__name__}: {reason})"}
    return {RESULT: "ok", **rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtimes", nargs="+", choices=RUNTIMES, default=list(RUNTIMES))
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per scenario and runtime")
    parser.add_argument("--bidders", type=int, help="hot auction: bidders (its default: 200)")
    parser.add_argument("--hot-rate", type=float, default=0, help="hot auction: open-loop bids/s (0: closed loop)")
    parser.add_argument("--watchers", type=int, default=WATCHERS, help="fan-out: watchers (default: %(default)s)")
    parser.add_argument("--fanout-rate", type=float, help="fan-out: bids/s (its default: 50)")
    args = parser.parse_args(argv)

    common = ["--duration", str(args.duration)]
    hot = [*common, "--rate", str(args.hot_rate)] + (["--bidders", str(args.bidders)] if args.bidders else [])
    fan = [*common]
    fan += ["--watchers", str(args.watchers)] if args.watchers else []
    fan += ["--rate", str(args.fanout_rate)] if args.fanout_rate else []
    tables, failed = [], False
    for title, module, extra in (("hot auction", hot_auction, hot), ("fan-out", fanout, fan)):
        by_runtime = {runtime: measure(module, runtime, extra) for runtime in args.runtimes}
        failed = failed or any(rows[RESULT] != "ok" for rows in by_runtime.values())
        tables.append(side_by_side(title, by_runtime))
    print("\n\n" + "\n\n".join(tables), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

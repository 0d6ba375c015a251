"""Benchmarks for issue #9: one command per scenario, e.g. `python -m bench.hot_auction`.

Not part of the test suite (pytest only collects tests/). See docs/performance.md.
"""

"""Every setting `auction/config.py` reads from the environment is in README's configuration table (what an
operator sets) or in docs/performance.md's tuning table (what only benchmarks tune), in one of them only, and
the tables name no setting the code does not read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def settings_read_by_the_code() -> set[str]:
    source = (ROOT / "auction" / "config.py").read_text()
    return set(re.findall(r'env\.get\("([A-Z0-9_]+)"\)', source)) | set(
        re.findall(r'_(?:int|choice)\(env, "([A-Z0-9_]+)"', source)
    )


def settings_in_the_table(document: str, heading: str) -> set[str]:
    table = (ROOT / document).read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    return {
        name
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z0-9_]+)`", row.split("|")[1])
    }


def test_every_setting_is_documented_and_every_documented_setting_exists():
    readme = settings_in_the_table("README.md", "## Configuration")
    tuning = settings_in_the_table("docs/performance.md", "## Tuning settings (benchmarks only)")
    code, docs = settings_read_by_the_code(), readme | tuning
    assert code, "no settings found: the pattern no longer matches config.py"
    assert readme & tuning == set(), "settings in both README's table and docs/performance.md's"
    assert code - docs == set(), "settings read in config.py but missing from README's table"
    assert docs - code == set(), "settings in README's table that config.py does not read"

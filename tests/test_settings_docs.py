"""Every setting `auction/config.py` reads from the environment is in README's configuration table, and
the table names no setting the code does not read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def settings_read_by_the_code() -> set[str]:
    source = (ROOT / "auction" / "config.py").read_text()
    return set(re.findall(r'env\.get\("([A-Z0-9_]+)"\)', source)) | set(
        re.findall(r'_(?:int|choice)\(env, "([A-Z0-9_]+)"', source)
    )


def settings_in_the_readme() -> set[str]:
    table = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return {
        name
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z0-9_]+)`", row.split("|")[1])
    }


def test_every_setting_is_documented_and_every_documented_setting_exists():
    code, docs = settings_read_by_the_code(), settings_in_the_readme()
    assert code, "no settings found: the pattern no longer matches config.py"
    assert code - docs == set(), "settings read in config.py but missing from README's table"
    assert docs - code == set(), "settings in README's table that config.py does not read"

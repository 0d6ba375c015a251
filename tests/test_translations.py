"""The pt_BR catalog is complete and compiled: every string the code and templates mark is translated,
and the committed .mo is the .po compiled (so a fresh checkout serves Portuguese without a build step)."""

from __future__ import annotations

import gettext
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "translations" / "pt_BR" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot.open("rb")) if m.id}


def test_every_marked_string_has_a_portuguese_translation(tmp_path: Path) -> None:
    catalog = read_po(PO.open("rb"))
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = extracted(tmp_path) - translated
    assert missing == set(), "run pybabel extract/update and translate these (README, Translations)"


def test_the_committed_mo_is_the_po_compiled() -> None:
    compiled = gettext.GNUTranslations(MO.open("rb"))
    for message in read_po(PO.open("rb")):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            assert compiled.ngettext(message.id[0], message.id[1], 5) == message.string[2]
        else:
            assert compiled.gettext(message.id) == message.string, message.id

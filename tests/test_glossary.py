"""The pt_BR catalog speaks the auction vocabulary of docs/glossary.md: no word of its "avoid" column."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "docs" / "glossary.md"
PO = ROOT / "translations" / "pt_BR" / "LC_MESSAGES" / "messages.po"


def glossary_rows() -> list[list[str]]:
    rows = []
    for line in GLOSSARY.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("pt-BR", "---"):
            rows.append(cells)
    return rows


def avoided() -> dict[str, re.Pattern[str]]:
    words = {word.strip() for row in glossary_rows() for word in row[3].split(",") if word.strip()}
    return {word: re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE) for word in words}


def translations() -> dict[str, str]:
    found = {}
    for message in read_po(PO.open("rb")):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        found[msgid] = " / ".join(strings)
    return found


def test_the_glossary_has_its_rows_and_avoid_lists() -> None:
    rows = glossary_rows()
    assert len(rows) >= 20
    assert {"arrematado", "lote", "lance", "Compre já"} <= {row[0] for row in rows}
    assert "vencido" in avoided()


def test_no_portuguese_string_uses_a_word_the_glossary_says_to_avoid() -> None:
    patterns = avoided()
    found = [
        f"{msgid!r} -> {text!r}: {word}"
        for msgid, text in translations().items()
        for word, pattern in patterns.items()
        if pattern.search(text)
    ]
    assert found == [], "use the glossary's word (docs/glossary.md)"


def test_won_reads_arrematado_never_vencido() -> None:
    catalog = translations()
    assert catalog["Won"] == "Arrematado"
    assert catalog["Won by {name} for {amount}."].startswith("Arrematado por")
    assert catalog["Bidder {number}"] == "Participante {number}"

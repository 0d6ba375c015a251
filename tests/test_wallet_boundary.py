"""Only auction/wallet/ledger.py may write the balance columns (wallets.available / wallets.held).

The scan reads every module under auction/ with `ast` and flags: assignments to
`.available` / `.held` (plain, augmented, `setattr`), `available=` / `held=` or
`Wallet.available` / `"held"` keys inside `update()`, `.values()`, `insert()` or
`Wallet(...)`, and SQL text that updates the wallets table's balance columns.
The wallet package itself depends on no other area of the site.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.source import string_of

PACKAGE = Path(__file__).resolve().parents[1] / "auction"
OWNER = PACKAGE / "wallet" / "ledger.py"
OWNER_NAME = OWNER.relative_to(PACKAGE.parent).as_posix()
BALANCE = {"available", "held"}
WRITE_CALLS = {"update", "values", "insert", "Wallet", "ordered_values"}
SQL_BALANCE_UPDATE = re.compile(r"\bUPDATE\s+`?wallets`?\b.*?\bSET\b.*?\b(available|held)\s*=", re.I | re.S)
# Files that may write balances in SQL text, and why.
SQL_ALLOWED = {
    # It renders demo_data.sql for the mysql client: the balances it sets are the
    # SUM of the ledger entries it writes in the same script (what the audit checks).
    "auction/schema_sql.py": "recomputes balances from ledger_entries in generated demo SQL",
}


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _is_balance_key(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in BALANCE
    return isinstance(node, ast.Attribute) and node.attr in BALANCE and getattr(node.value, "id", "") == "Wallet"


def _text(node: ast.AST) -> str | None:
    return string_of(node, "{}")


def balance_writes(source: str, relative: str) -> list[str]:
    """Every place in `source` that writes a balance column, as `path:line what`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        what = None
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            attrs = [t.attr for t in targets if isinstance(t, ast.Attribute) and t.attr in BALANCE]
            what = f"assigns .{attrs[0]}" if attrs else None
        elif isinstance(node, ast.Call) and _call_name(node) == "setattr" and len(node.args) >= 2:
            what = "setattr of a balance" if _is_balance_key(node.args[1]) else None
        elif isinstance(node, ast.Call) and _call_name(node) in WRITE_CALLS:
            keys = [kw.arg for kw in node.keywords if kw.arg in BALANCE]
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    keys += [ast.unparse(key) for key in arg.keys if _is_balance_key(key)]
            what = f"{_call_name(node)}() sets {', '.join(keys)}" if keys else None
        elif (text := _text(node)) is not None and SQL_BALANCE_UPDATE.search(text):
            what = None if relative in SQL_ALLOWED else "SQL text updates wallets' balances"
        if what:
            found.append(f"{relative}:{node.lineno} {what}")
    return list(dict.fromkeys(found))  # an f-string's pieces are visited again on their own


def test_no_module_but_the_wallet_writes_balance_columns() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != OWNER:
            relative = path.relative_to(PACKAGE.parent).as_posix()
            offenders += balance_writes(path.read_text(encoding="utf-8"), relative)
    assert offenders == [], f"only {OWNER_NAME} may change balances:\n" + "\n".join(offenders)


def test_the_scan_catches_every_kind_of_balance_write() -> None:
    source = """
wallet.available = 0
row.held += 5
setattr(account, "available", 1)
session.execute(update(Wallet).values(available=Wallet.available + 1))
session.execute(update(Wallet).values({Wallet.held: 0}))
session.add(Wallet(user_id=1, available=100))
session.execute(text(f"UPDATE wallets SET held = 0 WHERE id = {wallet_id}"))
balance = wallet.balance(session, 1).available
session.execute(update(Auction).values(status="open"))
"""
    found = balance_writes(source, "auction/rogue.py")
    assert [line.split(" ", 1)[0] for line in found] == [f"auction/rogue.py:{n}" for n in range(2, 9)], found
    assert balance_writes(OWNER.read_text(encoding="utf-8"), OWNER_NAME), "the real writer looks clean"

"""Reading the project's own code in tests (ast): the text a string argument makes."""

from __future__ import annotations

import ast


def string_of(node: ast.AST, fill: str) -> str | None:
    """A literal string, or an f-string with `fill` for each value it formats in; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else fill for part in node.values)
    return None

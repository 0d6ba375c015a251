"""The auction site: `create_app()` (auction/app.py) builds a configured Flask app with its extensions.

Importing the package imports nothing else, so run.py can choose the runtime (auction/runtime), which
monkey-patches the standard library for a green server, before Flask, SQLAlchemy or the app are imported.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

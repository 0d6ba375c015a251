"""The code keeps the shape docs/architecture.md describes.

The import direction is import-linter's job (contracts in pyproject.toml; `./dev test` runs it too, so a
violation fails CI even when someone runs pytest alone). The tables of docs/architecture.md name a file and
a function at each step of a bid and a webhook: each must exist, so the page cannot drift from the code.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _steps() -> list[tuple[str, str, bool]]:
    """(files, name, dotted) from the path tables: rows whose second column names Python files. A dotted
    name (`bids.place`) is a use of another module's function in that file; a plain one is defined or imported there."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    pairs = []
    for row in text.splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) != 3 or ".py" not in cells[1]:
            continue
        files = re.findall(r"`([\w/]+\.py)`", cells[1])
        names = re.findall(r"`([^`]+)`", cells[2])
        for name in names:
            for part in re.split(r"\s*(?:→|,|\(|\))\s*", name):
                function = part.split(".")[-1].strip()
                if re.fullmatch(r"[A-Za-z_]\w*", function):
                    pairs.append((" ".join(files), function, "." in part))
    return pairs


def test_every_file_and_function_named_on_the_architecture_page_exists():
    steps = _steps()
    assert len(steps) >= 20, "the path tables were not found"
    missing = []
    for files, function, dotted in steps:
        sources = [ROOT / name for name in files.split()]
        assert all(path.exists() for path in sources), f"missing file in {files}"
        text = "\n".join(path.read_text() for path in sources)
        pattern = (
            rf"\b{function}\b"
            if dotted
            else rf"(def|class) {function}\b|^{function} = |^from .* import .*\b{function}\b"
        )
        if not re.search(pattern, text, re.M):
            missing.append(f"{function} in {files}")
    assert missing == []


def test_create_app_wires_every_socket_handler_and_every_periodic_job_defined(tmp_path):
    """Nothing registers itself by being imported: a handler or a job in a module create_app does not list would
    never run. Every one defined anywhere under auction/ must be among those create_app wired."""
    import importlib
    import pkgutil
    from types import FunctionType

    import auction
    from auction import create_app
    from auction.entrypoints import jobs
    from auction.entrypoints.sockets import acks

    defined_jobs, defined_events = set(), set()
    for module_info in pkgutil.walk_packages(auction.__path__, "auction."):
        if module_info.name.startswith("auction.runtime."):
            continue  # selecting a green runtime would monkey-patch the test process
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if type(value) is FunctionType:
                if getattr(value, jobs.PERIODIC, None):
                    defined_jobs.add(getattr(value, jobs.PERIODIC)[0])
                if getattr(value, acks.SOCKET_EVENT, None):
                    defined_events.add(getattr(value, acks.SOCKET_EVENT)[0])
    app = create_app({"DATABASE_URL": "sqlite://", "INSTANCE_PATH": str(tmp_path)})
    app.extensions["auction.db"].dispose()
    assert defined_jobs == {name for name, *_ in app.extensions["auction.jobs"]}
    registered = {message for message, *_ in app.extensions["socketio"].handlers}
    assert defined_events and defined_events <= registered

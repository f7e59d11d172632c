"""A question answered on the command line does not start the terminal app's machinery.

Not timed: which modules a real `journeytui stats --json` process imports
(``python -X importtime`` lists every one), on a real demo store.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from journeytui.store import Store


def imported_by(*args: str, check: bool = True) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "journeytui", *args],
        capture_output=True, text=True, timeout=120, check=check,
    )
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_stats_json_does_not_import_textual(tmp_path: Path) -> None:
    db = tmp_path / "journeys.db"
    Store.create(db).close()
    names = imported_by("stats", "--json", "--db", str(db))
    assert "journeytui.cli" in names  # the listing is real
    assert not {n for n in names if n == "textual" or n.startswith("textual.")}
    assert not {n for n in names if n.startswith("journeytui.tui")}


def test_the_app_start_imports_no_command_module(tmp_path: Path) -> None:
    # no command word: the terminal app's path (here it stops at once: no such store);
    # the parser for the app registers no command, so neither the webhook server's
    # HTTP library nor the other commands' modules are loaded on the way
    names = imported_by("--db", str(tmp_path / "missing.db"), check=False)
    assert "journeytui.cli.app_cmd" in names  # the app's path was taken
    commands = {n for n in names if n.startswith("journeytui.cli.") and n.endswith("_cmd")}
    assert commands == {"journeytui.cli.app_cmd"}
    assert not {n for n in names if n == "aiohttp" or n.startswith("aiohttp.")}

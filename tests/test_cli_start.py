"""A question answered on the command line does not start the terminal app's machinery.

Not timed: which modules a real `journeytui stats --json` process imports
(``python -X importtime`` lists every one), on a real demo store.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from journeytui.store import Store


def imported_by(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "journeytui", *args],
        capture_output=True, text=True, timeout=120, check=True,
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

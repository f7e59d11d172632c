"""Hostile store files given to --db: empty, damaged, read-only, foreign, a directory,
a FIFO, a symlink loop.  Every command says what is wrong with the file, exits 2,
never shows a traceback and never changes the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.conftest import contacts_csv, run_cli

READERS = [["stats"], ["contact", "ann"], ["activities", "Teaser"], ["journey", "list"]]


@pytest.mark.parametrize("argv", [*READERS, ["import", "contacts", "IN.csv"], []],
                         ids=["stats", "contact", "activities", "journeys", "import", "app"])
def test_an_empty_file_is_not_a_store(tmp_path: Path, argv: list[str]) -> None:
    db = tmp_path / "journeys.db"
    db.write_bytes(b"")
    csv_file = contacts_csv(tmp_path / "IN.csv", 3)
    argv = [str(csv_file) if a == "IN.csv" else a for a in argv]
    result = run_cli("--db", str(db), *argv, cwd=tmp_path)
    result.refused("empty file", "not a journeytui store", "nothing was changed")
    assert "upgrade" not in result.err
    assert db.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["IN.csv", "journeys.db"]

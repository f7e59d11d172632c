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


def corrupt(db: Path, *tables: str) -> None:
    """Overwrite the root page of each of *tables* with garbage (a damaged disk)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    roots = dict(conn.execute("SELECT name, rootpage FROM sqlite_master WHERE type='table'"))
    conn.close()
    with db.open("r+b") as handle:
        for table in tables:
            handle.seek((roots[table] - 1) * page)
            handle.write(b"\xa5" * page)


DAMAGED = ("the store is damaged", "database disk image is malformed", "nothing was changed",
           "Restore it from a backup", ".recover")


@pytest.mark.parametrize(
    "argv",
    [["stats"], ["contact", "ann@example.com"], ["activities", "Teaser"],
     ["import", "contacts", "IN.csv"], ["forget", "ann@example.com"]],
    ids=["stats", "contact", "activities", "import", "forget"],
)
def test_a_damaged_store_is_said_to_be_damaged_and_never_written(
    small_db: Path, tmp_path: Path, argv: list[str]
) -> None:
    corrupt(small_db, "emails", "contacts")
    before = small_db.read_bytes()
    csv_file = contacts_csv(tmp_path / "IN.csv", 3)
    argv = [str(csv_file) if a == "IN.csv" else a for a in argv]
    result = run_cli("--db", str(small_db), *argv, cwd=tmp_path)
    result.refused(*DAMAGED)
    assert small_db.read_bytes() == before


async def test_the_app_on_a_damaged_store_says_so(small_db: Path, app_factory, settle) -> None:
    corrupt(small_db, "emails")
    app = app_factory(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("the store is damaged" in m and ".recover" in m for m in said), said

"""Hostile store files given to --db: empty, damaged, read-only, foreign, a directory,
a FIFO, a symlink loop.  Every command says what is wrong with the file, exits 2,
never shows a traceback and never changes the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.conftest import (
    contacts_csv,
    mount_namespace_available,
    run_cli,
    run_main,
    run_many_in_readonly_mount,
)

READERS = [["stats"], ["contact", "ann"], ["activities", "Teaser"], ["journey", "list"]]


@pytest.mark.parametrize("argv", [*READERS, ["import", "contacts", "IN.csv"], []],
                         ids=["stats", "contact", "activities", "journeys", "import", "app"])
def test_an_empty_file_is_not_a_store(tmp_path: Path, argv: list[str]) -> None:
    db = tmp_path / "journeys.db"
    db.write_bytes(b"")
    csv_file = contacts_csv(tmp_path / "IN.csv", 3)
    argv = [str(csv_file) if a == "IN.csv" else a for a in argv]
    result = run_main("--db", str(db), *argv, cwd=tmp_path)
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
    result = run_main("--db", str(small_db), *argv, cwd=tmp_path)
    result.refused(*DAMAGED)
    assert small_db.read_bytes() == before


async def test_the_app_on_a_damaged_store_says_so(small_db: Path, app_factory, settle) -> None:
    corrupt(small_db, "emails")
    app = app_factory(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("the store is damaged" in m and ".recover" in m for m in said), said


# -- a valid store in a read-only folder or filesystem ----------------------------------
READ_RUNS = [["--db", "DB", "stats"], ["--db", "DB", "contact", "ann@example.com"],
             ["--db", "DB", "journey", "list"], ["--db", "DB", "activities", "Teaser"]]
WRITE_RUNS = [["--db", "DB", "import", "contacts", "IN.csv"],
              ["--db", "DB", "forget", "ann@example.com"]]


def check_readonly_runs(reads: list, writes: list, expected: list) -> None:  # type: ignore[type-arg]
    for got, want in zip(reads, expected, strict=True):
        assert got.code == 0, got.err
        assert got.out == want.out and "Traceback" not in got.err
    for got in writes:
        got.refused("cannot write", "read-only", "nothing was changed")


def test_a_store_in_a_read_only_folder_reads_and_refuses_writes(
    small_db: Path, tmp_path: Path
) -> None:
    from tests.hostile.conftest import ReadOnlyFolder

    csv_file = contacts_csv(tmp_path / "IN.csv", 3)
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "journeys.db"
    db.write_bytes(small_db.read_bytes())
    expected = [run_main(*[str(small_db) if a == "DB" else a for a in argv]) for argv in READ_RUNS]
    runs = [[str(db) if a == "DB" else str(csv_file) if a == "IN.csv" else a for a in argv]
            for argv in READ_RUNS + WRITE_RUNS]
    with ReadOnlyFolder(folder):
        results = [run_main(*argv) for argv in runs]
    reads, writes = results[: len(READ_RUNS)], results[len(READ_RUNS):]
    check_readonly_runs(reads, writes, expected)
    assert "the folder" in writes[0].err and str(folder) in writes[0].err
    assert sorted(p.name for p in folder.iterdir()) == ["journeys.db"]  # no -wal, no -shm
    assert db.read_bytes() == small_db.read_bytes()


@pytest.mark.skipif(not mount_namespace_available(),
                    reason="needs root with CAP_SYS_ADMIN for a private tmpfs (CI has it)")
def test_a_store_on_a_read_only_filesystem_reads_and_refuses_writes(
    small_db: Path, tmp_path: Path
) -> None:
    csv_file = contacts_csv(tmp_path / "IN.csv", 3)
    expected = [run_main(*[str(small_db) if a == "DB" else a for a in argv]) for argv in READ_RUNS]
    runs = [[str(csv_file) if a == "IN.csv" else a for a in argv] for argv in READ_RUNS + WRITE_RUNS]
    results = run_many_in_readonly_mount(small_db, runs, tmp_path)
    reads, writes = results[: len(READ_RUNS)], results[len(READ_RUNS):]
    check_readonly_runs(reads, writes, expected)
    assert "mounted read-only" in writes[0].err
    assert (tmp_path / "ro-listing.txt").read_text().split() == ["journeys.db"]
    assert (tmp_path / "ro-after.db").read_bytes() == small_db.read_bytes()


async def test_the_app_on_a_store_in_a_read_only_folder_works_read_only(
    small_db: Path, tmp_path: Path, app_factory, settle
) -> None:
    from tests.hostile.conftest import ReadOnlyFolder
    from tests.tui.test_text_safety import screen_text

    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "journeys.db"
    db.write_bytes(small_db.read_bytes())
    with ReadOnlyFolder(folder):
        app = app_factory(db)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.readonly
            text = screen_text(app)
            assert "(read-only)" in text and "Teaser" in text
            said = [n.message for n in app._notifications]
            assert any("open read-only" in m and "the folder" in m for m in said), said
            await pilot.press("3", *"ann")
            await settle(pilot)
            assert "Ann Lee" in screen_text(app)
        assert sorted(p.name for p in folder.iterdir()) == ["journeys.db"]


@pytest.mark.parametrize("kind", ["char-device", "fifo", "symlink-loop", "dangling-symlink",
                                  "directory", "foreign-sqlite", "text-file"])
def test_a_db_path_that_is_no_store_is_named_and_never_blocks(tmp_path: Path, kind: str) -> None:
    import os
    import sqlite3

    db = tmp_path / "journeys.db"
    words = {"char-device": "not a regular file", "fifo": "not a regular file",
             "symlink-loop": "symbolic link", "dangling-symlink": "symbolic link",
             "directory": "directory", "foreign-sqlite": "not a journeytui store",
             "text-file": "not a journeytui store"}[kind]
    if kind == "char-device":
        db = Path("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(db)
    elif kind == "symlink-loop":
        db.symlink_to(db)
    elif kind == "dangling-symlink":
        db.symlink_to(tmp_path / "gone.db")
    elif kind == "directory":
        db.mkdir()
    elif kind == "foreign-sqlite":
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE invoices (id INTEGER)")
        conn.commit()
        conn.close()
    else:
        db.write_text("name,email\nann,ann@example.com\n" * 200)
    before = sorted(p.name for p in tmp_path.iterdir())
    # a FIFO or a device could hang (or flood) its reader: a process of its own there
    run = run_cli if kind in ("char-device", "fifo") else run_main
    for argv in (["stats"], ["import", "contacts", str(contacts_csv(tmp_path / "c.csv", 2))]):
        run("--db", str(db), *argv).refused(words)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({*before, "c.csv"})

"""`journeytui demo`: refuses to overwrite, replaces atomically with --force, loses nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from journeytui import demo
from journeytui.cli import main
from journeytui.demo import simulation, writers
from journeytui.store import Store

from .conftest import read_tables


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_writes_a_store_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.db"
    assert main(["demo", "--db", str(path), "--contacts", "60", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert f"Wrote {path}: 60 contacts, 30 emails" in out
    assert " sends" in out and " in " in out and "demo journeys" in out
    assert _names(tmp_path) == ["d.db"]  # no temp file, no -wal left behind
    with Store.open(path, readonly=True) as store:
        assert store.count("contacts") == 60


def test_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.db"
    path.write_bytes(b"precious, not a store")
    assert main(["demo", "--db", str(path), "--contacts", "10"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "already exists" in err and "--force" in err
    assert path.read_bytes() == b"precious, not a store"
    assert _names(tmp_path) == ["d.db"]


def test_force_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    assert main(["demo", "--db", str(path), "--contacts", "40", "--seed", "1"]) == 0
    first = read_tables(path)
    assert main(["demo", "--db", str(path), "--contacts", "40", "--seed", "2", "--force"]) == 0
    second = read_tables(path)
    assert first["contacts"] != second["contacts"]
    fresh = tmp_path / "fresh.db"
    demo.generate(fresh, contacts=40, seed=2)
    assert read_tables(fresh) == second
    assert _names(tmp_path) == ["d.db", "fresh.db"]


def test_force_folds_a_write_ahead_log_first(tmp_path: Path) -> None:
    """A stale -wal next to the new file would be replayed into it: it must go."""
    path = tmp_path / "d.db"
    demo.generate(path, contacts=30)
    with Store.open(path) as store, store.transaction():  # WAL mode, as the app uses it
        store.conn.execute("UPDATE contacts SET first_name = 'Changed' WHERE id = 1")
    # leave a -wal behind as a crashed app would (copy it back after the clean close)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("UPDATE contacts SET first_name = 'InWal' WHERE id = 1")
    wal_bytes = Path(f"{path}-wal").read_bytes()
    conn.close()
    Path(f"{path}-wal").write_bytes(wal_bytes)
    assert main(["demo", "--db", str(path), "--contacts", "30", "--seed", "9", "--force"]) == 0
    assert _names(tmp_path) == ["d.db"]
    fresh = tmp_path / "fresh.db"
    demo.generate(fresh, contacts=30, seed=9)
    assert read_tables(fresh) == read_tables(path)


def test_refuses_while_the_store_is_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.db"
    demo.generate(path, contacts=30)
    before = read_tables(path)
    with Store.open(path) as app:  # e.g. the app, in another terminal
        assert app.count("contacts") == 30
        assert main(["demo", "--db", str(path), "--contacts", "30", "--force"]) == 2
        assert "is in use" in capsys.readouterr().err
    assert read_tables(path) == before
    assert not any(n.endswith(".tmp") for n in _names(tmp_path))


def test_a_failure_midway_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.db"
    demo.generate(path, contacts=30)
    before = read_tables(path)

    def broken(self: object, k: int) -> list[object]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(simulation.Simulation, "email_events", broken)
    assert main(["demo", "--db", str(path), "--contacts", "30", "--force"]) == 1
    assert "disk on fire" in capsys.readouterr().err
    assert _names(tmp_path) == ["d.db"]
    assert read_tables(path) == before


@pytest.mark.parametrize("bad", ["0", "-5", "99999999"])
def test_bad_contact_counts_are_refused(
    tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.db"
    assert main(["demo", "--db", str(path), "--contacts", bad]) == 2
    assert f"--contacts {bad}" in capsys.readouterr().err
    assert not path.exists()


def test_missing_folder_and_directory_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", str(tmp_path / "nope" / "d.db"), "--contacts", "5"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["demo", "--db", str(tmp_path), "--contacts", "5", "--force"]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_a_full_disk_is_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.db"

    def full(self: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(writers.BulkSink, "finish", full)
    assert main(["demo", "--db", str(path), "--contacts", "30"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: could not write the demo store (database or disk is full)" in err
    assert _names(tmp_path) == []

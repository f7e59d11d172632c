"""`journeytui` with no command: a bad store or theme is reported before Textual starts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from journeytui.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def test_missing_store(tmp_path: Path, capsys, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    code, err = run(["--db", str(tmp_path / "nope.db")], capsys)
    assert code == 2
    assert "nope.db: no such store" in err
    assert not (tmp_path / "nope.db").exists()


def test_foreign_and_corrupt_files(tmp_path: Path, capsys, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    code, err = run(["--db", str(foreign)], capsys)
    assert code == 2 and "not a journeytui store" in err
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    code, err = run(["--db", str(junk)], capsys)
    assert code == 2 and "junk.db" in err and "Traceback" not in err


def test_newer_store(demo_db: Path, capsys, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(demo_db)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    code, err = run(["--db", str(demo_db)], capsys)
    assert code == 2 and "newer journeytui" in err


def test_unknown_theme(demo_db: Path, capsys, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    code, err = run(["--db", str(demo_db), "--theme", "nope"], capsys)
    assert code == 2
    assert "--theme nope: no such theme" in err and "journey-dark" in err

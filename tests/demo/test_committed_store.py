"""The committed journeys.db is exactly what `journeytui demo` writes by default.

If this fails after a change to the generator, the schema or the demo journeys,
regenerate it from the repository root and commit it:

    .venv/bin/journeytui demo --db journeys.db --force
"""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.demo import DEFAULT_CONTACTS, DEFAULT_SEED

from .conftest import diff_tables, read_tables

COMMITTED = Path(__file__).resolve().parents[2] / "journeys.db"
REGENERATE = "run `.venv/bin/journeytui demo --db journeys.db --force` and commit journeys.db"


def test_committed_store_exists_and_is_small() -> None:
    assert COMMITTED.is_file(), f"{COMMITTED} is missing: {REGENERATE}"
    assert COMMITTED.stat().st_size < 8 * 1024 * 1024
    # one self-contained file: rollback-journal mode, so no -wal is needed to read it
    assert COMMITTED.read_bytes()[18:20] == b"\x01\x01", f"journeys.db is in WAL mode: {REGENERATE}"


def test_committed_store_is_current(default_store: Path) -> None:
    if not COMMITTED.is_file():
        pytest.fail(f"{COMMITTED} is missing: {REGENERATE}")
    committed = read_tables(COMMITTED)
    fresh = read_tables(default_store)
    meta = dict(committed["meta"])  # type: ignore[arg-type]
    assert meta.get("demo") == f'{{"contacts": {DEFAULT_CONTACTS}, "seed": {DEFAULT_SEED}}}'
    problems = diff_tables(committed, fresh)
    assert problems == [], f"journeys.db is out of date: {REGENERATE}\n" + "\n".join(problems)

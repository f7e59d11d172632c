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
REGENERATE = (
    "run `.venv/bin/journeytui demo --db journeys.db --force` and commit journeys.db "
    "(or `git checkout journeys.db` if it was only changed by using the app on it)"
)


def test_committed_store_exists_and_is_small() -> None:
    assert COMMITTED.is_file(), f"{COMMITTED} is missing: {REGENERATE}"
    assert COMMITTED.stat().st_size < 8 * 1024 * 1024
    # (Its journal mode is not checked: the app switches a store it opens to WAL.
    # The generator's own output is checked in test_determinism.py.)


def test_committed_store_is_current(default_store: Path) -> None:
    if not COMMITTED.is_file():
        pytest.fail(f"{COMMITTED} is missing: {REGENERATE}")
    committed = read_tables(COMMITTED)
    fresh = read_tables(default_store)
    meta = dict(committed["meta"])  # type: ignore[arg-type]
    assert meta.get("demo") == f'{{"contacts": {DEFAULT_CONTACTS}, "seed": {DEFAULT_SEED}}}'
    problems = diff_tables(committed, fresh)
    assert problems == [], f"journeys.db is out of date: {REGENERATE}\n" + "\n".join(problems)

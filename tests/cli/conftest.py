"""Fixtures of the two-process list tests (see split_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.split_support import own_temp, short_sample


@pytest.fixture()
def short_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables sized by their first 2 rows, written in chunks of 3 rows."""
    short_sample(monkeypatch)


@pytest.fixture()
def temp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The temporary folder, the test's own (to see that nothing is left in it)."""
    return own_temp(monkeypatch, tmp_path)

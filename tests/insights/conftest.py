from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "engine"))

TUI_FIXTURE = Path(__file__).resolve().parent.parent / "tui" / "fixtures" / "demo-200-seed7.db.gz"


@pytest.fixture
def small_demo_db(tmp_path: Path) -> Path:
    """The TUI tests' 200-contact demo store (a private copy)."""
    path = tmp_path / "journeys.db"
    with gzip.open(TUI_FIXTURE, "rb") as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return path

"""The insights tests' fixtures (the hand-built store helpers, the 200-contact demo
store) shared here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_insights_conftest", Path(__file__).resolve().parent.parent / "insights" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)

small_demo_db = _shared.small_demo_db

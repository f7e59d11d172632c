"""The receiver's checkpointer never creates a file where the store was."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from journeytui.store import Store
from journeytui.webhook import ingest
from journeytui.webhook.ingest import _Checkpointer


def test_a_store_moved_away_is_not_replaced_by_an_empty_file(tmp_path: Path) -> None:
    # The checkpointer connects in its own thread, which may start after the store was
    # moved (the /health test renames it right after the receiver starts).
    gone = tmp_path / "moved away.db"
    checkpointer = _Checkpointer(gone)
    checkpointer.close()  # its thread has run (and given up)
    assert not gone.exists()


def lists_in_the_main_file(path: Path) -> int:
    """The lists the store file itself holds (immutable: the log is not read)."""
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM lists").fetchone()[0])
    finally:
        conn.close()


def test_it_copies_the_log_back_into_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # its period, shorter: the test waits for one copy (any period would do)
    monkeypatch.setattr(ingest, "CHECKPOINT_EVERY_S", 0.05)
    path = tmp_path / "store #1 ?.db"  # a name that needs quoting in a URI
    Store.create(path).close()
    store = Store.open(path)
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")  # as the receiver's writer
    with store.transaction() as conn:
        conn.executemany("INSERT INTO lists(name) VALUES (?)", [(f"l{i}",) for i in range(50)])
    assert lists_in_the_main_file(path) == 0  # the 50 rows are in the log only
    checkpointer = _Checkpointer(path)
    checkpointer.dirty.set()
    deadline = time.monotonic() + 30  # a limit for a stuck thread, not a timing
    while checkpointer.dirty.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    checkpointer.close()
    try:  # (before the store's own close, which would checkpoint too)
        assert lists_in_the_main_file(path) == 50
    finally:
        store.close()

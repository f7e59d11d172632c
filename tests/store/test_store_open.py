"""Opening stores: missing, corrupt, foreign, newer, read-only — clear words, nothing touched."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from journeytui.store import SCHEMA_VERSION, Store, StoreError


def _digest(path: Path) -> bytes:
    return path.read_bytes()


def test_create_sets_version_wal_and_app(tmp_path: Path) -> None:
    s = Store.create(tmp_path / "a.db")
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.meta("app") == "journeytui"
    s.close()
    again = Store.open(tmp_path / "a.db")
    assert again.meta("app") == "journeytui"
    again.close()


def test_missing_store_is_named_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store"):
        Store.open(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


def test_corrupt_file_is_refused_untouched(tmp_path: Path) -> None:
    p = tmp_path / "junk.db"
    p.write_bytes(b"this is not a database at all" * 100)
    before = _digest(p)
    with pytest.raises(StoreError, match="junk.db"):
        Store.open(p)
    assert _digest(p) == before


def test_foreign_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    p = tmp_path / "other.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    before = _digest(p)
    with pytest.raises(StoreError, match="not a journeytui store"):
        Store.open(p)
    assert _digest(p) == before


def test_newer_store_is_refused_untouched(tmp_path: Path) -> None:
    p = tmp_path / "new.db"
    Store.create(p).close()
    conn = sqlite3.connect(p)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = _digest(p)
    with pytest.raises(StoreError, match="newer journeytui"):
        Store.open(p)
    assert _digest(p) == before


def test_read_only_file_opens_for_reading_and_refuses_writes(tmp_path: Path) -> None:
    p = tmp_path / "ro.db"
    s = Store.create(p)
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    os.chmod(p, 0o444)
    try:
        if os.access(p, os.W_OK):
            pytest.skip("running as a user who can write read-only files")
        ro = Store.open(p)
        assert ro.readonly
        assert ro.meta("app") == "journeytui"
        with pytest.raises(StoreError, match="read-only"), ro.transaction():
            pass
        ro.close()
    finally:
        os.chmod(p, 0o644)


def test_transaction_rolls_back_everything(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as c:
        c.execute("INSERT INTO lists(name) VALUES ('A')")
        raise RuntimeError("boom")
    assert store.count("lists") == 0


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="directory"):
        Store.open(tmp_path)


def test_readonly_open_refuses_writes(tmp_path: Path) -> None:
    p = tmp_path / "ro2.db"
    Store.create(p).close()
    ro = Store.open(p, readonly=True)
    with pytest.raises(StoreError, match="read-only"), ro.transaction():
        pass
    with pytest.raises(sqlite3.OperationalError):
        ro.conn.execute("INSERT INTO lists(name) VALUES ('x')")
    ro.close()


def test_a_version_1_store_is_migrated_forward(tmp_path: Path) -> None:
    from journeytui.store.db import _split_sql
    from journeytui.store.schema import MIGRATIONS

    p = tmp_path / "v1.db"
    conn = sqlite3.connect(p)
    for stmt in _split_sql(MIGRATIONS[0]):
        conn.execute(stmt)
    conn.execute("INSERT INTO meta VALUES ('app', 'journeytui'), ('token_key', '00')")
    conn.execute("INSERT INTO contacts(email, created_at) VALUES ('old@example.com', 1)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    s = Store.open(p)
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
    assert s.conn.execute("SELECT email, spam_reported_at FROM contacts").fetchall() == [
        ("old@example.com", None)]
    s.close()


@pytest.mark.parametrize("readonly", [False, True])
def test_an_empty_file_is_named_as_such_and_left_alone(tmp_path: Path, readonly: bool) -> None:
    p = tmp_path / "empty.db"
    p.write_bytes(b"")
    with pytest.raises(StoreError, match=r"empty\.db: an empty file \(0 bytes\), not a "
                                         r"journeytui store; nothing was changed"):
        Store.open(p, readonly=readonly)
    assert p.read_bytes() == b""
    assert sorted(x.name for x in tmp_path.iterdir()) == ["empty.db"]  # no -wal, no -shm


def test_a_writer_runs_a_quick_check_and_never_writes_into_a_damaged_store(
    tmp_path: Path,
) -> None:
    p = tmp_path / "damaged.db"
    s = Store.create(p)
    with s.transaction() as c:
        c.execute("INSERT INTO lists(name) VALUES ('News')")
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = s.conn.execute("PRAGMA page_size").fetchone()[0]
    root = s.conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'lists'").fetchone()[0]
    s.close()
    with p.open("r+b") as handle:
        handle.seek((root - 1) * page)
        handle.write(b"\xa5" * page)
    before = p.read_bytes()
    store = Store.open(p)
    with pytest.raises(StoreError, match=r"the store is damaged .*\.recover"), \
            store.transaction() as c:
        c.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
    store.close()
    assert p.read_bytes() == before


def test_a_large_store_is_not_quick_checked_before_each_process_first_write(
    tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The O(size) check is for stores up to QUICK_CHECK_MAX_BYTES; a larger one is left to
    SQLite's own checks, so a small import into a big store costs what the batch costs."""
    import sqlite3 as _sqlite3

    from journeytui.store import Store, db

    path = tmp_path / "big.db"
    Store.create(path).close()
    checks: list[str] = []
    real_connect = _sqlite3.connect

    class Spy(_sqlite3.Connection):
        def execute(self, sql, *args):  # type: ignore[no-untyped-def,override]
            if "quick_check" in sql:
                checks.append(sql)
            return super().execute(sql, *args)

    monkeypatch.setattr(db.sqlite3, "connect",
                        lambda *a, **k: real_connect(*a, **{**k, "factory": Spy}))
    monkeypatch.setattr(db, "QUICK_CHECK_MAX_BYTES", 0)  # every store is "large"
    store = Store.open(path)
    try:
        with store.transaction() as c:
            c.execute("INSERT INTO meta(key, value) VALUES ('probe', '1')")
    finally:
        store.close()
    assert checks == []
    monkeypatch.setattr(db, "QUICK_CHECK_MAX_BYTES", 1 << 30)  # and a small one is checked
    db.Store._checked.clear()
    store = Store.open(path)
    try:
        with store.transaction() as c:
            c.execute("UPDATE meta SET value = '2' WHERE key = 'probe'")
    finally:
        store.close()
    assert checks and all("quick_check" in s for s in checks)

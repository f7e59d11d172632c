"""Store.transaction's wait limit and damage check: what a long-lived writer (the
webhook receiver) asks of the one transaction helper."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from journeytui.store import Store, StoreError
from journeytui.store.db import NOTICE_AFTER, StoreBusyError


def busy_timeout(store: Store) -> int:
    return int(store.conn.execute("PRAGMA busy_timeout").fetchone()[0])


def lists(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT name FROM lists ORDER BY name")]


def test_a_wait_limit_gives_up_quietly_and_writes_nothing(store: Store) -> None:
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    heard: list[bool] = []
    store.on_wait = lambda _store, waiting: heard.append(waiting)
    try:
        with pytest.raises(StoreBusyError) as caught, store.transaction(wait=0.2) as conn:
            conn.execute("INSERT INTO lists(name) VALUES ('mine')")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert isinstance(caught.value, StoreError)  # a user's error: said, never a traceback
    assert "for more than 0.2 s; nothing was changed" in str(caught.value)
    assert heard == []  # a limited wait is quiet: the caller says "busy" its own way
    assert not store.conn.in_transaction
    # the connection's usual wait is back (NOTICE_AFTER = 3 s -> 3000 ms)
    assert busy_timeout(store) == int(NOTICE_AFTER * 1000) == 3000
    assert lists(store) == []


def test_a_wait_limit_writes_when_the_lock_is_free(store: Store) -> None:
    with store.transaction(wait=0.2) as conn:
        conn.execute("INSERT INTO lists(name) VALUES ('mine')")
    assert lists(store) == ["mine"]
    assert busy_timeout(store) == 3000


def test_a_nested_transaction_joins_whatever_the_outer_one_asked(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction(wait=0.2, check=False) as conn:
        conn.execute("INSERT INTO lists(name) VALUES ('outer')")
        with store.transaction() as inner:
            inner.execute("INSERT INTO lists(name) VALUES ('inner')")
        raise RuntimeError("the outer one fails")
    assert lists(store) == []  # all or nothing: the inner write went with the outer


def test_the_damage_check_can_be_left_to_the_start_of_a_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.db"
    Store.create(path).close()
    monkeypatch.setattr(Store, "_checked", set())  # (files checked in this process)
    with Store.open(path) as store:
        with store.transaction(check=False) as conn:
            conn.execute("INSERT INTO lists(name) VALUES ('unchecked')")
        assert Store._checked == set()  # no quick_check ran
        with store.transaction() as conn:
            conn.execute("INSERT INTO lists(name) VALUES ('checked')")
        assert len(Store._checked) == 1  # this file, now checked
        assert lists(store) == ["checked", "unchecked"]

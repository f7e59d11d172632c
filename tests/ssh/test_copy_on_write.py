"""A private session's store: read through mode=ro connections, copied at the first write.

The real StorePool (journeytui.store.pool) on real SQLite files, and the real domain's
journey save (the app's write path in the Conditions pane).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from journeytui.store import Store, StoreError
from journeytui.store.pool import SESSION_STORE_ENV, StorePool


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from journeytui.demo import generate

    path = tmp_path_factory.mktemp("cow") / "demo.db"
    generate(path, contacts=150)
    Store.open(path).close()  # merged: the file alone is the store
    return path.read_bytes()


@pytest.fixture
def source(tmp_path: Path, demo_bytes: bytes) -> Path:
    path = tmp_path / "operator" / "journeys.db"
    path.parent.mkdir()
    path.write_bytes(demo_bytes)
    return path


def test_the_server_and_the_app_name_the_same_variable() -> None:
    from journeytui.ssh.session import SESSION_STORE_ENV as SERVER_SIDE

    assert SERVER_SIDE == SESSION_STORE_ENV


def test_reading_makes_no_copy_and_cannot_write(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "session" / "journeys.db"
    dest.parent.mkdir()
    before = digest(source)
    pool = StorePool(source, copy_on_write=dest)
    try:
        with pool.store() as store:
            assert store.count("contacts") == 150
            assert store.readonly  # code that writes only when it may leaves it alone
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                store.conn.execute("UPDATE contacts SET email = email")  # mode=ro: SQLite says no
        assert not dest.exists() and not pool.copied
    finally:
        pool.close()
    assert digest(source) == before


def test_the_first_journey_save_copies_then_goes_on_in_the_copy(
    source: Path, tmp_path: Path
) -> None:
    from journeytui.domain.journeys import get_journey, list_journeys, save_journey

    dest = tmp_path / "session" / "journeys.db"
    dest.parent.mkdir()
    before = digest(source)
    told: list[Path] = []
    pool = StorePool(source, copy_on_write=dest, on_copy=told.append)
    try:
        with pool.store() as store:
            name = list_journeys(store)[0].name
            journey, version = get_journey(store, name)
        journey = journey.model_copy(update={"goal": "a visitor's goal"})
        with pool.store() as reader:  # an idle reader on the source, to be retired
            pass
        with pool.store() as store:
            new = save_journey(store, journey, expected_version=version)
        assert new == version + 1
        assert told == [dest] and pool.copied and dest.exists()
        assert dest.stat().st_mode & 0o777 == 0o600
        with pool.store() as store:  # every later query reads the copy
            assert store.path == dest and not store.readonly
            assert get_journey(store, name)[1] == new
            assert store is not reader
            again = journey.model_copy(update={"goal": "another goal"})
            new2 = save_journey(store, again, expected_version=new)  # no second copy
        assert told == [dest] and new2 == new + 1
    finally:
        pool.close()
    assert digest(source) == before
    with closing(Store.open(source, readonly=True)) as src:
        assert get_journey(src, name)[1] == version  # the store itself never saw it


def test_two_first_writes_at_once_make_one_copy(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "session" / "journeys.db"
    dest.parent.mkdir()
    told: list[Path] = []
    pool = StorePool(source, copy_on_write=dest, on_copy=told.append)
    stores = [pool._open(), pool._open()]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(store: Store, n: int) -> None:
        try:
            start.wait(5)
            with store.transaction() as conn:
                conn.execute(
                    "INSERT INTO contacts(email, created_at) VALUES (?, 0)",
                    (f"visitor-{n}@example.com",),
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for store in stores:
        store.close()
    pool.close()
    assert errors == [] and told == [dest]
    with closing(sqlite3.connect(dest)) as conn:
        rows = conn.execute("SELECT count(*) FROM contacts WHERE email LIKE 'visitor-%'")
        assert rows.fetchone()[0] == 2
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT count(*) FROM contacts WHERE email LIKE 'visitor-%'")
        assert rows.fetchone()[0] == 0


def test_a_read_only_app_makes_no_copy(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "journeys.db"
    pool = StorePool(source, readonly=True, copy_on_write=dest)
    try:
        with (
            pool.store() as store,
            pytest.raises(StoreError, match="read-only"),
            store.transaction(),
        ):
            pass
    finally:
        pool.close()
    assert not dest.exists()


def test_the_app_of_a_private_session_reads_the_store_read_only(
    source: Path, tmp_path: Path
) -> None:
    from journeytui.tui.app import make_app

    dest = tmp_path / "journeys.db"
    app = make_app(source, config_dir=tmp_path / "config", session_store=dest)
    assert not app.readonly  # saves are allowed: they go to the copy
    assert app.pool.copy_on_write == dest
    with app.pool.store() as store:
        assert store.readonly and store.count("contacts") == 150
    app.pool.close()
    assert not dest.exists()

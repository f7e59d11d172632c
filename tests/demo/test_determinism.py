"""Same --contacts and --seed → same content; another seed → other content."""

from __future__ import annotations

from pathlib import Path

from journeytui.demo import generate, token_key_for
from journeytui.store import Store

from .conftest import diff_tables, read_tables


def test_same_seed_same_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    generate(a, contacts=400, seed=7)
    generate(b, contacts=400, seed=7)
    assert diff_tables(read_tables(a), read_tables(b)) == []


def test_other_seed_other_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    generate(a, contacts=400, seed=7)
    generate(b, contacts=400, seed=8)
    ta, tb = read_tables(a), read_tables(b)
    for table in ("contacts", "sends", "activities", "anonymous_events", "email_stats"):
        assert ta[table] != tb[table], table
    # the catalog is the same whatever the seed
    assert ta["lists"] == tb["lists"]
    assert [r[1] for r in ta["emails"]] == [r[1] for r in tb["emails"]]


def test_token_key_and_created_at_come_from_the_seed_and_the_fixed_clock(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    generate(path, contacts=20, seed=11)
    with Store.open(path, readonly=True) as store:
        assert store.token_key == token_key_for(11)
        assert store.meta("created_at") == "1793491200"  # 2026-11-01 00:00 UTC
    assert token_key_for(11) != token_key_for(12)


def test_store_is_one_wal_mode_file(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    generate(path, contacts=20)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.db"]  # the WAL is folded in
    header = path.read_bytes()[:20]
    assert header[18:20] == b"\x02\x02"  # WAL mode: opening it never rewrites the header
    before = path.read_bytes()
    Store.open(path).close()  # what the app does when it starts
    assert path.read_bytes() == before


def test_tiny_stores_work_and_carry_the_demo_journeys(tmp_path: Path) -> None:
    for n in (1, 3, 25):
        path = tmp_path / f"tiny{n}.db"
        generate(path, contacts=n, seed=n)
        with Store.open(path, readonly=True) as store:
            assert store.count("contacts") == n
            names = {r[0] for r in store.conn.execute("SELECT name FROM journeys")}
            assert {"Lead nurturing", "Webinar"} <= names

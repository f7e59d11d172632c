"""Shared helpers for the demo-data tests: build stores once, read tables by content."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from journeytui.demo import generate

Rows = dict[str, list[tuple[object, ...]]]


def read_tables(path: Path, *, skip_meta_keys: tuple[str, ...] = ()) -> Rows:
    """Every table's rows, ordered by every column: a comparison of content, not bytes."""
    conn = sqlite3.connect(path)  # not mode=ro: a read-only connection leaves -wal/-shm
    conn.execute("PRAGMA query_only = ON")
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        out: Rows = {"user_version": [(conn.execute("PRAGMA user_version").fetchone()[0],)]}
        for table in tables:
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            order = ", ".join(f'"{c}"' for c in cols)
            rows = conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()
            if table == "meta":
                rows = [r for r in rows if r[0] not in skip_meta_keys]
            out[table] = rows
        return out
    finally:
        conn.close()


def diff_tables(a: Rows, b: Rows) -> list[str]:
    """Human-readable differences (empty when equal)."""
    problems = []
    for table in sorted(set(a) | set(b)):
        ra, rb = a.get(table), b.get(table)
        if ra is None or rb is None:
            problems.append(f"{table}: only in {'second' if ra is None else 'first'}")
        elif ra != rb:
            sa, sb = set(ra), set(rb)
            problems.append(
                f"{table}: {len(ra)} vs {len(rb)} rows; e.g. only first {sorted(sa - sb)[:2]},"
                f" only second {sorted(sb - sa)[:2]}"
            )
    return problems


@pytest.fixture(scope="session")
def default_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store `journeytui demo` writes by default (built once per session)."""
    path = tmp_path_factory.mktemp("demo-default") / "journeys.db"
    generate(path)
    return path


@pytest.fixture(scope="session")
def default_conn(default_store: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{default_store}?mode=ro", uri=True)
    yield conn
    conn.close()

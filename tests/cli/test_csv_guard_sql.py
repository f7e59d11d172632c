"""The CSV formula guard SQLite applies as it reads (stage contacts, segment exports)
guards exactly the cells the spreadsheet rule names: a leading ``'`` before text
starting with ``= + - @``, a tab or a carriage return, nothing else."""

from __future__ import annotations

import sqlite3

from journeytui.domain.in_stage import csv_guard_sql


def test_the_guard_looks_at_the_first_character_only() -> None:
    conn = sqlite3.connect(":memory:")
    sql = f"SELECT {csv_guard_sql(':v')}"
    starts = {"=", "+", "-", "@", "\t", "\r"}
    # every first character below 256 and some beyond, after it text that would be
    # guarded itself; the empty text
    values = [chr(i) + "=x" for i in range(1, 256)] + ["Ł=1", "\u200f=1", "😀-", "", "A"]
    for v in values:
        guarded = conn.execute(sql, {"v": v}).fetchone()[0]
        assert guarded == ("'" + v if v[:1] in starts else v), repr(v)
    # a number stored in a text column stays as it is unless it is negative
    assert conn.execute(sql, {"v": -5}).fetchone()[0] == "'-5"
    assert conn.execute(sql, {"v": 5}).fetchone()[0] == 5

"""What keeps `activities EMAIL` close to SQLite's own read of the same rows: one
cursor over the email's index in the list's order (no sort, no scan of the table),
rows shaped by SQLite, lines formatted straight from text cells, and the A/B variant
check of the heading read from its own index — with the same output as before."""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.cli.stream import write_table
from journeytui.demo import generate
from journeytui.present import activity_label, activity_label_sql
from journeytui.store import Store

KINDS = ("open", "click", "unsubscribe", "spam", "confirm", "form", "visit")


def test_the_sql_label_says_what_activity_label_says() -> None:
    conn = sqlite3.connect(":memory:")
    sql = f"SELECT {activity_label_sql('?1', '?2', '?3')}"
    for kind in KINDS:
        for bot in (0, 1):
            for machine in (0, 1):
                got = conn.execute(sql, (kind, bot, machine)).fetchone()[0]
                assert got == activity_label(kind, bot=bool(bot), machine=bool(machine))
    # by hand: a bot click and a machine open are told apart, nothing else is
    assert conn.execute(sql, ("click", 1, 0)).fetchone()[0] == "click (bot?)"
    assert conn.execute(sql, ("open", 0, 1)).fetchone()[0] == "machine open"
    assert conn.execute(sql, ("spam", 1, 1)).fetchone()[0] == "spam"


class Watched:
    """Rows handed out one at a time, noting how much had been written at each."""

    def __init__(self, rows: list[tuple[str, ...]], out: io.StringIO) -> None:
        self.rows = iter(rows)
        self.out = out
        self.written_at: list[int] = []

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return self

    def __next__(self) -> tuple[str, ...]:
        row = next(self.rows)
        self.written_at.append(len(self.out.getvalue()))
        return row


def test_text_rows_give_the_same_lines_and_are_written_as_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import journeytui.cli.stream as stream

    monkeypatch.setattr(stream, "SAMPLE", 2)
    monkeypatch.setattr(stream, "CHUNK", 3)
    rows = [
        ("2026-01-01 08:00", "Ann", "open", ""),
        ("2026-01-01 08:01", "Bo", "click", "https://x.example/a "),
        # chunk 1 (rows 3-5): plain text, one cell wider than the sample's column
        ("2026-01-01 08:02", "Carolina", "open", ""),
        ("2026-01-01 08:03", "Di", "spam", ""),
        ("2026-01-01 08:04", "Ed", "form", "Signup"),
        # chunk 2 (rows 6-8): an escape sequence and a bidi override in the data
        ("2026-01-01 08:05", "Fay\x1b[2J", "open", ""),
        ("2026-01-01 08:06", "Gus", "click", "https://x.example/\u202egpj.exe"),
        ("2026-01-01 08:07", "Hal", "visit", ""),
    ]
    head = ["Time (UTC)", "Who", "Activity", "Value"]
    out = io.StringIO()
    items = Watched(rows, out)
    assert write_table(head, items, right=set(), out=out, texts=True) == 8
    plain = io.StringIO()
    write_table(head, rows, right=set(), out=plain)  # every cell converted
    assert out.getvalue() == plain.getvalue()
    lines = out.getvalue().split("\n")
    # widths from the header and the 2 sample rows: 16, 3 ("Who"), 8 ("Activity");
    # "Carolina" (8) widens only its own line; the trailing space of Bo's URL goes
    assert lines[1] == "----------------  ---  --------  --------------------"
    assert lines[3] == "2026-01-01 08:01  Bo   click     https://x.example/a"
    assert lines[4] == "2026-01-01 08:02  Carolina  open"
    # the data's control and format characters are shown, never sent raw
    assert lines[7] == "2026-01-01 08:05  Fay\\x1b[2J  open"
    assert lines[8] == "2026-01-01 08:06  Gus  click     https://x.example/\\u202egpj.exe"
    assert "\x1b" not in out.getvalue() and "\u202e" not in out.getvalue()
    # each chunk is written before the next one is read: the 6th row is taken once
    # the header, the rule, the 2 sample rows and the first chunk (7 lines) are out
    assert items.written_at[5] == sum(len(x) + 1 for x in lines[:7])


def plans_of(conn: sqlite3.Connection, run: Any) -> list[str]:
    """The query plan of every statement *run* executes on *conn*."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    return [" | ".join(r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in seen if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("acts") / "d.db"
    generate(db, contacts=200)
    return db


def test_the_list_reads_the_email_index_in_its_order(demo: Path) -> None:
    from journeytui.domain.activities import (
        iter_email_activity_cells,
        iter_email_activity_rows,
    )
    from journeytui.domain.stats import find_email

    store = Store.open(demo, readonly=True)
    try:
        eid, _, _ = find_email(store, "Spring product teaser")
        for read in (iter_email_activity_cells, iter_email_activity_rows):
            lazy = read(store, eid)
            assert isinstance(lazy, Iterator)
            plans = plans_of(store.conn, lambda lazy=lazy: next(lazy))
            lazy.close()
            assert len(plans) == 1, plans
            # the email's rows through its index, newest first as the index keeps
            # them: no sort of the email's rows, no scan of every activity
            assert "activities_email" in plans[0], plans[0]
            assert "TEMP B-TREE" not in plans[0] and "SCAN" not in plans[0], plans[0]
    finally:
        store.close()


def test_the_heading_finds_split_emails_through_the_variant_index(demo: Path) -> None:
    from journeytui.domain.stats import email_stats

    store = Store.open(demo, readonly=True)
    try:
        plans = plans_of(store.conn, lambda: email_stats(store, "Spring product teaser"))
    finally:
        store.close()
    on_sends = [p for p in plans if re.search(r"\bsends\b", p)]
    assert on_sends, plans
    for plan in on_sends:
        # the A/B check reads the partial index of sends that carry a variant (a few
        # rows), never every send of every email
        assert not re.search(r"SCAN sends\b(?! USING COVERING INDEX sends_variant)", plan), plan
    assert any("sends_variant" in p for p in on_sends), on_sends


def test_the_cli_text_is_the_converted_cells_table(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The text list, with a hostile name in a later chunk, is what the table of the
    pane's rows (every cell converted) gives."""
    import shutil

    import journeytui.cli.stream as stream
    from journeytui.domain.activities import email_activities
    from journeytui.domain.stats import find_email
    from journeytui.timefmt import fmt_time

    db = tmp_path / "h.db"
    shutil.copy(demo, db)
    name = "Spring product teaser"
    store = Store.open(db)
    eid, _, _ = find_email(store, name)
    acts = email_activities(store, eid, limit=None)
    assert len(acts) > 20
    late = acts[12].contact_id
    with store.conn:
        store.conn.execute("UPDATE contacts SET first_name = 'Zo\x1b]0;pwned\x07' WHERE id = ?",
                           (late,))
        # a time before 1970 (90 s before: 23:58:30) shows its own minute, 23:58
        store.conn.execute("UPDATE activities SET at = -90 WHERE id = ?", (acts[3].id,))
    acts = email_activities(store, eid, limit=None)
    store.close()
    cells = [(fmt_time(a.at), a.contact, a.address,
              activity_label(a.activity, bot=a.bot, machine=a.machine), a.value or "")
             for a in acts]
    monkeypatch.setattr(stream, "SAMPLE", 5)
    monkeypatch.setattr(stream, "CHUNK", 4)
    assert main(["activities", name, "--db", str(db)]) == 0
    got = capsys.readouterr().out.split("\n", 2)[2]  # after the title and the sums
    want = io.StringIO()
    write_table(["Time (UTC)", "Contact", "Address", "Activity", "Value"], cells,
                right=set(), out=want)
    assert got == want.getvalue()
    assert "Zo\\x1b]0;pwned\\x07" in got and "\x1b" not in got
    assert got.rstrip("\n").rsplit("\n", 1)[-1].startswith("1969-12-31 23:58  ")  # the oldest


def test_the_list_is_read_through_a_memory_map(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both outputs read the store through a memory map (no copy per page)."""
    import journeytui.cli.stream as stream

    mapped: list[int] = []
    real = stream.map_for_long_read

    def watch(conn: sqlite3.Connection) -> None:
        real(conn)
        mapped.append(int(conn.execute("PRAGMA mmap_size").fetchone()[0]))

    monkeypatch.setattr(stream, "map_for_long_read", watch)
    for flags in ([], ["--json"]):
        assert main(["activities", "Spring product teaser", *flags, "--db", str(demo)]) == 0
    assert capsys.readouterr().out
    assert len(mapped) == 2 and all(m > 0 for m in mapped), mapped


@pytest.mark.parametrize("n", [0, 1, 7])
def test_items_indented_beforehand_are_written_as_they_come(
    n: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A list whose items carry their indentation for where they stand (level 1:
    the "activities" list of the activities JSON) is print_json's document, in
    chunks of 3 with no re-indenting; written elsewhere it is refused, not garbled."""
    import json
    from contextlib import redirect_stdout

    import journeytui.cli.stream as stream
    from journeytui.cli.output import print_json
    from journeytui.cli.stream import Encoded, write_json

    monkeypatch.setattr(stream, "CHUNK", 3)
    items = [{"who": f"c{k}", "v": None, "t": "é\u202e", "ok": k % 2 == 0} for k in range(n)]
    whole = io.StringIO()
    with redirect_stdout(whole):
        print_json({"email": "E", "activities": items, "after": [1]})
    # each item as print_json writes it, its inner lines indented 4 more spaces
    # (2 for level 1, 2 for a list's item): "{\n      \"who\": …\n    }"
    texts = [json.dumps(i, indent=2).replace("\n", "\n    ") for i in items]
    out = io.StringIO()
    write_json({"email": "E", "activities": Encoded(iter(texts), level=1), "after": [1]}, out)
    assert out.getvalue() == whole.getvalue()
    if n:
        with pytest.raises(ValueError, match="level 1 written at 0"):
            write_json(Encoded(iter(texts), level=1), io.StringIO())

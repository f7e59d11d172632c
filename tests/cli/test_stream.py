"""Output written as it is read: the same bytes as the whole-list output, taken from an
iterator that is consumed while writing (never turned into a list first)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.cli.output import print_json, table
from journeytui.cli.stream import write_json, write_table
from journeytui.demo import generate


class Watched:
    """An iterator that records how far the output had got when each item was taken."""

    def __init__(self, items: list[Any], out: io.StringIO) -> None:
        self.items = iter(items)
        self.out = out
        self.written_at: list[int] = []

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        item = next(self.items)
        self.written_at.append(len(self.out.getvalue()))
        return item


ROWS = [{"contact": f"c{k}", "n": k, "x": None, "t": "é\u202e"} for k in range(25)]


@pytest.mark.parametrize("rows", [ROWS, [], ROWS[:1]])
def test_json_is_print_json_byte_for_byte_and_streamed(rows: list[dict[str, Any]]) -> None:
    whole = io.StringIO()
    with redirect_stdout(whole):
        print_json({"email": "E", "total": 3, "activities": rows, "nested": {"a": [1, 2]}})
    out = io.StringIO()
    items = Watched(rows, out)
    write_json({"email": "E", "total": 3, "activities": items, "nested": {"a": [1, 2]}}, out)
    assert out.getvalue() == whole.getvalue()
    json.loads(out.getvalue())
    # each item was taken after the previous one was written: output grows between takes
    assert all(a < b for a, b in zip(items.written_at, items.written_at[1:], strict=False))
    # a top-level list streams too
    whole = io.StringIO()
    with redirect_stdout(whole):
        print_json(rows)
    out = io.StringIO()
    write_json(iter(rows), out)
    assert out.getvalue() == whole.getvalue()


def test_table_is_table_byte_for_byte_and_streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    import journeytui.cli.stream as stream

    monkeypatch.setattr(stream, "SAMPLE", 3)
    rows = [(f"2026-01-0{k} 08:00", "Ann\x1b[31m" if k == 2 else "Bo", k * 1000, None)
            for k in range(1, 8)]
    out = io.StringIO()
    items = Watched(rows, out)
    n = write_table(["Time", "Who", "N", "V"], items, right={2}, out=out)
    assert n == 7
    # widths come from the first 3 rows; here the later ones are no wider
    assert out.getvalue() == table(["Time", "Who", "N", "V"], rows, right={2}) + "\n"
    # the first 3 rows are read before anything is written; the 4th once the header,
    # the rule and those 3 rows (5 lines) are out
    lines = out.getvalue().splitlines(keepends=True)
    assert items.written_at[:4] == [0, 0, 0, sum(len(x) for x in lines[:5])]


def test_activities_cli_streams_the_same_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI lists every activity once, newest first, as the pane's list does, read
    from one cursor as it writes; the JSON items (built from a template) are
    EmailActivity.to_json's and the text lines are the whole-list table's."""
    import journeytui.cli.stream as stream
    from journeytui.domain.activities import (
        count_email_activities,
        email_activities,
        iter_email_activity_rows,
    )
    from journeytui.domain.stats import find_email
    from journeytui.present import activity_label
    from journeytui.store import Store
    from journeytui.timefmt import fmt_time

    db = tmp_path / "d.db"
    generate(db, contacts=200)
    store = Store.open(db, readonly=True)
    name = "Spring product teaser"
    eid, _, _ = find_email(store, name)
    acts = email_activities(store, eid, limit=None)
    expected = [a.to_json() for a in acts]
    assert len(expected) == count_email_activities(store, eid) > 20
    assert any(a.bot or a.machine for a in acts) and any(a.value for a in acts)
    lazy = iter_email_activity_rows(store, eid)
    assert isinstance(lazy, Iterator) and next(lazy)[0] == acts[0].id
    lazy.close()
    cells = [(fmt_time(a.at), a.contact, a.address,
              activity_label(a.activity, bot=a.bot, machine=a.machine), a.value or "")
             for a in acts]
    store.close()
    monkeypatch.setattr(stream, "CHUNK", 7)  # several chunks after the first item
    assert main(["activities", name, "--json", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert json.loads(text)["activities"] == expected
    whole = io.StringIO()
    with redirect_stdout(whole):
        print_json({"email": name, "anonymous_clicks": json.loads(text)["anonymous_clicks"],
                    "clicks_total": json.loads(text)["clicks_total"], "activities": expected})
    assert text == whole.getvalue()
    head = ["Time (UTC)", "Contact", "Address", "Activity", "Value"]
    assert main(["activities", name, "--db", str(db)]) == 0  # the sample holds every row
    lines = capsys.readouterr().out.splitlines(keepends=True)
    assert "".join(lines[2:]) == table(head, cells, right=set()) + "\n"
    monkeypatch.setattr(stream, "SAMPLE", 5)  # then chunks of 7 rows
    assert main(["activities", name, "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines(keepends=True)
    assert len(lines) == 2 + 2 + len(expected)  # title, anonymous line, header, rule
    assert [ln.split("  ")[0] for ln in lines[4:]] == [c[0] for c in cells]


def test_stage_contacts_cli_streams_the_same_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from journeytui.domain.funnel import contacts_csv, iter_stage_contacts, stage_contacts
    from journeytui.store import Store

    db = tmp_path / "d.db"
    generate(db, contacts=200)
    store = Store.open(db, readonly=True)
    lead, stage = "Lead nurturing", "Browsing"
    rows = stage_contacts(store, lead, stage)
    assert len(rows) > 3
    lazy = iter_stage_contacts(store, lead, stage)
    assert isinstance(lazy, Iterator) and not isinstance(lazy, list)
    assert next(lazy) == rows[0]
    store.close()
    base = ["funnel", lead, "--stage", stage, "--contacts", "--db", str(db)]
    assert main([*base, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [r["email"] for r in got] == [r.email for r in rows]
    assert main([*base, "--csv", str(tmp_path / "s.csv")]) == 0
    assert capsys.readouterr().out == f"wrote {len(rows):,} contacts to {tmp_path / 's.csv'}\n"
    assert (tmp_path / "s.csv").read_text(encoding="utf-8") == contacts_csv(rows)
    assert not (tmp_path / "s.csv.part").exists()
    assert main(base) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + len(rows) + 1 and lines[-1] == f"{len(rows):,} contacts"


def test_a_printable_text_is_one_safe_text_leaves_alone() -> None:
    """The table's shortcut (a chunk of printable text is not searched) holds for
    every character: each one safe_text makes visible is unprintable."""
    from journeytui.textsafe import safe_text

    changed = [chr(c) for c in range(0x110000) if safe_text(chr(c)) != chr(c)]
    assert "\x1b" in changed and "\u202e" in changed  # ESC, a bidi override
    assert not [ch for ch in changed if ch.isprintable()]


def test_table_chunks_make_only_unsafe_cells_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows past the sample come in chunks; a chunk with one unsafe cell escapes that
    cell and leaves the others (and a chunk without any) as they are."""
    import journeytui.cli.stream as stream

    monkeypatch.setattr(stream, "SAMPLE", 2)
    monkeypatch.setattr(stream, "CHUNK", 3)
    rows = [("a", "é"), ("b", None), ("c", "x\x1b[2Jy"), ("d", 5), ("e", "ok"), ("f", "\u202e")]
    out = io.StringIO()
    assert write_table(["K", "V"], rows, right=set(), out=out) == 6
    # widths from the sample: K 1, V 1 ("é", "—"); later cells are not cut
    assert out.getvalue().splitlines() == [
        "K  V", "-  -", "a  é", "b  —", "c  x\\x1b[2Jy", "d  5", "e  ok", "f  \\u202e",
    ]


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_encoded_items_are_written_as_print_json_would(
    n: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A list of items encoded beforehand (as print_json writes one at the top level)
    comes out as print_json writes the whole document, in chunks of 3."""
    import journeytui.cli.stream as stream

    monkeypatch.setattr(stream, "CHUNK", 3)
    items = [{"who": f"c{k}", "v": None, "t": "é\u202e", "ok": k % 2 == 0} for k in range(n)]
    whole = io.StringIO()
    with redirect_stdout(whole):
        print_json({"email": "E", "activities": items, "after": [1]})
    texts = []
    for item in items:
        one = io.StringIO()
        with redirect_stdout(one):
            print_json(item)
        texts.append(one.getvalue().rstrip("\n"))
    out = io.StringIO()
    write_json({"email": "E", "activities": stream.Encoded(texts), "after": [1]}, out)
    assert out.getvalue() == whole.getvalue()

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
    """With pages of 7 rows the CLI lists every activity once, newest first, as the
    pane's list does (the 2,000-row pages are the same query)."""
    import journeytui.cli.stats_cmd as stats_cmd
    from journeytui.domain.activities import count_email_activities, email_activities
    from journeytui.domain.stats import find_email
    from journeytui.store import Store

    db = tmp_path / "d.db"
    generate(db, contacts=200)
    store = Store.open(db, readonly=True)
    name = "Spring product teaser"
    eid, _, _ = find_email(store, name)
    expected = [a.to_json() for a in email_activities(store, eid, limit=None)]
    assert len(expected) == count_email_activities(store, eid) > 20
    store.close()
    monkeypatch.setattr(stats_cmd, "ACTIVITY_PAGE", 7)
    assert main(["activities", name, "--json", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["activities"] == expected
    assert main(["activities", name, "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 2 + len(expected)  # title, anonymous line, header, rule


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

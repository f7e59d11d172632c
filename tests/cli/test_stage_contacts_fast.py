"""`funnel --stage S --contacts` (text, --json, --csv): the rows shaped by SQLite as it
reads give the same bytes as the contacts read one object at a time and converted
(the table, JSON and CSV writers of whole rows); the reads follow the stage index;
ties at the evaluation time go by contact id; hostile names come out escaped."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.cli.stream import write_json, write_table
from journeytui.demo import generate
from journeytui.domain.funnel import StageContact, contacts_csv, stage_contacts
from journeytui.domain.in_stage import iter_stage_contact_cells, stage_figures
from journeytui.present import whole_days
from journeytui.store import Store
from journeytui.store.evaluation_time import AT_EVALUATION
from journeytui.timefmt import fmt_time, iso_time

LEAD = "Lead nurturing"
STAGE = "Browsing"  # a main-line stage before the goal: its contacts can be stalled
DAY = 86_400


def _converted(rows: list[StageContact]) -> tuple[str, str, str]:
    """The three outputs from whole rows, as the commands wrote them before the rows
    came shaped by SQLite: text table, JSON, CSV."""
    text = io.StringIO()
    n = write_table(["contact", "name", "in stage since", "days", "stalled"],
                    [(r.email, f"{r.first_name} {r.last_name}".strip(), fmt_time(r.since),
                      whole_days(r.days_in_stage), "stalled" if r.stalled else "")
                     for r in rows], {3}, text)
    text.write(f"{n:,} contacts\n")
    js = io.StringIO()
    write_json(iter([{"email": r.email, "first_name": r.first_name,
                      "last_name": r.last_name, "stage": r.stage,
                      "since": iso_time(r.since), "days_in_stage": r.days_in_stage,
                      "stalled": r.stalled} for r in rows]), js)
    return text.getvalue(), js.getvalue(), contacts_csv(rows)


def _cli(db: Path, tmp: Path, capsys: pytest.CaptureFixture[str],
         *flags: str) -> tuple[str, str, str]:
    base = ["funnel", LEAD, "--stage", STAGE, *flags, "--db", str(db)]
    assert main([*base, "--contacts"]) == 0
    text = capsys.readouterr().out
    assert main([*base, "--contacts", "--json"]) == 0
    js = capsys.readouterr().out
    out = tmp / "s.csv"
    assert main([*base, "--csv", str(out)]) == 0
    capsys.readouterr()
    return text, js, out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hand_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A demo store whose Browsing stage is set by hand: six contacts, their times
    chosen around the evaluation time (``now``), two of them "at the evaluation
    time" (the stored marker), names with characters to escape."""
    db = tmp_path_factory.mktemp("stage") / "d.db"
    generate(db, contacts=120)
    conn = sqlite3.connect(db)
    jid, now = conn.execute(
        "SELECT j.id, p.evaluated_at FROM journeys j JOIN journey_progress p"
        " ON p.journey_id = j.id WHERE j.name = ?", (LEAD,)).fetchone()
    ids = [r[0] for r in conn.execute(
        "SELECT contact_id FROM journey_positions WHERE journey_id = ?"
        " ORDER BY contact_id LIMIT 6", (jid,))]
    i1, i2, i3, i4, i5, i6 = ids
    since = {
        i1: AT_EVALUATION,           # at the evaluation time (marker)
        i2: now,                     # at the evaluation time itself (a real move)
        i3: AT_EVALUATION,
        i4: now - 82_080,            # 0.95 days: the float 0.95 is below, rounds to 0.9
        i5: now - 3 * DAY - 82_080,  # 3.95 days: the float is above, rounds to 4.0
        i6: now - 40 * DAY - 61,     # 40 days and a minute: stalled (> 30 days)
    }
    conn.execute("UPDATE journey_positions SET stage = 'Interested'"
                 " WHERE journey_id = ? AND stage = ?", (jid, STAGE))
    for cid, t in since.items():
        conn.execute("UPDATE journey_positions SET stage = ?, since = ?"
                     " WHERE journey_id = ? AND contact_id = ?", (STAGE, t, jid, cid))
    names = {
        i1: ("\x1b[31mRed", "\u202egpj.exe"),   # ESC, a bidi override
        i2: ("\tTab", "=cmd|' /C calc'!A0"),    # leading tab, a formula
        i3: ("Zoë", "Ng 😀"),                   # non-ASCII (JSON escapes it)
        i4: ("Del\x7f", 'Quote "q", comma'),    # DEL; CSV quoting
        i5: ("", "Solo\u3000"),                 # no first name; trailing ideographic space
        i6: ("-minus", "@at"),
    }
    for cid, (first, last) in names.items():
        conn.execute("UPDATE contacts SET first_name = ?, last_name = ? WHERE id = ?",
                     (first, last, cid))
    conn.commit()
    conn.close()
    return db, {"now": now, "ids": ids, "since": since}


def test_ties_at_the_evaluation_time_go_by_contact_id(
    hand_store: tuple[Path, dict[str, Any]],
) -> None:
    db, h = hand_store
    i1, i2, i3, i4, i5, i6 = h["ids"]
    store = Store.open(db, readonly=True)
    rows = stage_contacts(store, LEAD, STAGE)
    # by time in the stage: i6 (40 days), i5 (3.95), i4 (0.95), then i1, i2, i3 all
    # "now" (i2 a real time equal to it, i1/i3 the marker): by contact id
    assert [r.contact_id for r in rows] == [i6, i5, i4, i1, i2, i3]
    assert [r.since for r in rows][3:] == [h["now"]] * 3
    # 40 days + 61 s = 40.0007 days -> 40.0; 3.95 days -> 4.0 (the float 3.95 is
    # 3.9500000000000002); 0.95 days -> 0.9 (the float 0.95 is 0.94999999999999996)
    assert [r.days_in_stage for r in rows] == [40.0, 4.0, 0.9, 0.0, 0.0, 0.0]
    assert [r.stalled for r in rows] == [True, False, False, False, False, False]
    texts = list(iter_stage_contact_cells(store, LEAD, STAGE, form="json"))
    assert [t[0] for t in texts] == [r.email for r in rows]
    assert [t[3] for t in texts] == [r.since for r in rows]
    figures = stage_figures(store, LEAD, STAGE)
    assert [figures(t[3]) for t in texts] == [
        (40.0, True), (4.0, False), (0.9, False), (0.0, False), (0.0, False), (0.0, False)]
    store.close()


def test_fast_outputs_equal_the_converted_rows_with_hostile_names(
    hand_store: tuple[Path, dict[str, Any]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, _ = hand_store
    store = Store.open(db, readonly=True)
    rows = stage_contacts(store, LEAD, STAGE)
    stalled = stage_contacts(store, LEAD, STAGE, stalled_only=True)
    store.close()
    text, js, csv_text = _cli(db, tmp_path, capsys)
    assert (text, js, csv_text) == _converted(rows)
    assert _cli(db, tmp_path, capsys, "--stalled") == _converted(stalled)
    # the escapes themselves
    assert "\x1b" not in text and "\\x1b[31mRed" in text and "\\u202egpj.exe" in text
    assert "Zo\\u00eb" in js and "\\ud83d\\ude00" in js and "\\u007f" in js
    data = json.loads(js)
    assert data[3]["first_name"] == "\x1b[31mRed" and data[2]["days_in_stage"] == 0.9
    assert "'=cmd|' /C calc'!A0" in csv_text and "'-minus,'@at" in csv_text
    assert '"Quote ""q"", comma"' in csv_text and "\\x1b" in csv_text


def test_fast_outputs_equal_the_converted_rows_on_every_stage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A demo store, every stage of both journeys; small chunks, so that rows past the
    sample go through the chunked paths."""
    import journeytui.cli.stream as stream

    monkeypatch.setattr(stream, "SAMPLE", 3)
    monkeypatch.setattr(stream, "CHUNK", 4)
    db = tmp_path / "d.db"
    generate(db, contacts=300)
    store = Store.open(db, readonly=True)
    stages = {j: [r[0] for r in store.conn.execute(
        "SELECT DISTINCT stage FROM journey_positions p JOIN journeys j"
        " ON j.id = p.journey_id WHERE j.name = ? AND stage IS NOT NULL", (j,))]
        for j in (LEAD, "Webinar")}
    assert sum(len(s) for s in stages.values()) >= 8
    for journey, names in stages.items():
        for stage in names:
            rows = stage_contacts(store, journey, stage)
            text, js, csv_text = _converted(rows)
            base = ["funnel", journey, "--stage", stage, "--db", str(db)]
            assert main([*base, "--contacts"]) == 0
            assert capsys.readouterr().out == text, (journey, stage)
            assert main([*base, "--contacts", "--json"]) == 0
            assert capsys.readouterr().out == js, (journey, stage)
            assert main([*base, "--csv", str(tmp_path / "c.csv")]) == 0
            capsys.readouterr()
            assert (tmp_path / "c.csv").read_text(encoding="utf-8") == csv_text
    store.close()


@pytest.mark.parametrize("form", ["text", "json", "csv"])
@pytest.mark.parametrize("stalled_only", [False, True])
def test_the_reads_follow_the_stage_index(
    hand_store: tuple[Path, dict[str, Any]], form: str, stalled_only: bool,
) -> None:
    """Each read of a stage's contacts (before, at and after the evaluation time) is a
    search of the stage index, in its order: no scan, no sort of the stage."""
    db, _ = hand_store
    store = Store.open(db, readonly=True)
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    rows = iter_stage_contact_cells(store, LEAD, STAGE, form=form, stalled_only=stalled_only)
    store.conn.set_trace_callback(None)
    reads = [s for s in seen if "journey_positions p" in s]
    assert len(reads) == (1 if stalled_only else 3)  # (stalled: none at or after now)
    for sql in reads:
        plan = [r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
        searches = [p for p in plan if p.startswith("SEARCH p")]
        assert searches and all("INDEX journey_positions_stage" in p for p in searches), plan
        assert not any("TEMP B-TREE" in p or p.startswith("SCAN p") for p in plan), plan
    assert len(list(rows)) == (1 if stalled_only else 6)
    store.close()


def test_text_rows_are_written_as_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table with a tail (cells made once per key) writes each chunk before taking
    the next rows; a key's cells are made once, and an unsafe cell in a chunk is
    escaped like the plain table escapes it."""
    import journeytui.cli.stream as stream

    monkeypatch.setattr(stream, "SAMPLE", 2)
    monkeypatch.setattr(stream, "CHUNK", 3)
    made: list[int] = []

    def tail(key: int) -> tuple[str, str]:
        made.append(key)
        return f"t{key}", "" if key % 2 else "odd"

    rows = [(f"a{k}", "x\x1b" if k == 7 else "y", k // 3) for k in range(12)]
    out = io.StringIO()
    taken: list[int] = []

    def watched() -> Iterator[tuple[str, str, int]]:
        for r in rows:
            taken.append(len(out.getvalue()))
            yield r

    n = write_table(["h", "n", "t", "z"], watched(), set(), out, texts=True, tail=tail)
    assert n == 12
    assert sorted(made) == [0, 1, 2, 3]  # once per key
    whole = io.StringIO()
    write_table(["h", "n", "t", "z"], [(a, b, *tail(k)) for a, b, k in rows], set(), whole)
    assert out.getvalue() == whole.getvalue()
    assert "\\x1b" in out.getvalue() and "\x1b" not in out.getvalue()
    # after the sample (2 rows) and each chunk (3 rows), the output grew
    assert taken[2] < taken[5] < taken[8] < taken[11]


def test_stdout_json_of_an_empty_stage(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    generate(db, contacts=50)
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM journey_positions WHERE stage = ?", (STAGE,))
    conn.commit()
    conn.close()
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["funnel", LEAD, "--stage", STAGE, "--contacts", "--json",
                     "--db", str(db)]) == 0
    assert out.getvalue() == "[]\n"


def test_segment_export_streams_the_members_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """`segment export` (read as written, the segment found in the stored definition
    without the journey's model) writes the file the members list gives; a
    definition the light reading does not expect is read by the model as before."""
    from journeytui.domain import segments

    db = tmp_path / "d.db"
    generate(db, contacts=300)
    conn = sqlite3.connect(db)
    definition = json.loads(conn.execute(
        "SELECT definition FROM journeys WHERE name = ?", (LEAD,)).fetchone()[0])
    definition["segments"] = [
        {"name": "All dormant", "stage": "Dormant", "description": "every one"},
        {"name": "Clicked pricing", "stage": "Interested", "in_stage_days": 1,
         "clicked": "pricing"},
    ]
    conn.execute("UPDATE journeys SET definition = ? WHERE name = ?",
                 (json.dumps(definition), LEAD))
    # names the writer quotes or escapes, and a formula, among the dormant ones
    dormant = [r[0] for r in conn.execute(
        "SELECT contact_id FROM journey_positions p JOIN journeys j ON j.id = p.journey_id"
        " WHERE j.name = ? AND p.stage = 'Dormant' ORDER BY contact_id LIMIT 3", (LEAD,))]
    for cid, (first, last) in zip(dormant, [('Quote "q", comma', "x"), ("\x1bEsc", "=cmd"),
                                            ("Zoë", "\u202egpj")], strict=True):
        conn.execute("UPDATE contacts SET first_name = ?, last_name = ? WHERE id = ?",
                     (first, last, cid))
    conn.commit()
    conn.close()
    store = Store.open(db, readonly=True)
    for name in ("All dormant", "Clicked pricing"):
        _, _, _, rows = segments.members(store, name)
        lines, kept, left = segments.export_lines(rows, "mailchimp")
        expected = "".join(lines)
        assert kept > 0
        out = tmp_path / f"{name}.csv"
        assert main(["segment", "export", name, str(out), "--format", "mailchimp",
                     "--db", str(db)]) == 0
        assert out.read_text(encoding="utf-8") == expected
        if name == "All dormant":
            assert '"Quote ""q"", comma"' in expected and "\\x1bEsc,'=cmd" in expected
        note = f"; {left:,} unsubscribed from all lists left out" if left else ""
        assert capsys.readouterr().out == (
            f"wrote {kept:,} contacts of '{name}' to {out} (mailchimp contact upload{note})\n")
    # the light reading gives the stored rule
    light = segments._stored_journeys(store)
    assert [s.name for s in light[0][0].segments] == ["All dormant", "Clicked pricing"]
    assert light[0][0].segments[1] == segments.StoredSegment(
        "Clicked pricing", "Interested", in_stage_days=1, clicked="pricing")
    store.close()
    # a key it does not know: the model reads the definition and says what is wrong,
    # as it did for every export
    definition["segments"][0]["unknown"] = 1
    conn = sqlite3.connect(db)
    conn.execute("UPDATE journeys SET definition = ? WHERE name = ?",
                 (json.dumps(definition), LEAD))
    conn.commit()
    conn.close()
    store = Store.open(db, readonly=True)
    with pytest.raises(Exception) as by_model:
        segments.find(store, "All dormant")
    store.close()
    assert main(["segment", "export", "All dormant", str(tmp_path / "x.csv"), "--format",
                 "sendgrid", "--db", str(db)]) == 2
    assert str(by_model.value) in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()

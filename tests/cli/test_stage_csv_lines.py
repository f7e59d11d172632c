"""A stage's CSV and a segment export join plain lines as they are and send the others
through the CSV writer: the file is the one the writer makes from whole rows, whatever
a chunk holds — a contact in the stage since after the evaluation time (negative days,
a number: never formula guarded) beside a name with a character to escape."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from journeytui.cli import main
from journeytui.demo import generate
from journeytui.domain.funnel import contacts_csv, stage_contacts
from journeytui.domain.in_stage import plain_lines
from journeytui.store import Store

LEAD = "Lead nurturing"
STAGE = "Browsing"
DAY = 86_400


def test_plain_lines_are_the_lines_the_writer_writes_as_they_are() -> None:
    # two cells a line: one comma each
    assert plain_lines(["a,b", "c,d"], 1) == "a,b\nc,d\n"
    assert plain_lines([], 1) == ""
    # a third cell '"x,y"' shared by every line: 2 separators + its comma = 3 commas,
    # and its 2 quotes
    assert plain_lines(['a,b,"x,y"', 'c,d,"x,y"'], 3, 2) == 'a,b,"x,y"\nc,d,"x,y"\n'
    assert plain_lines(['a,b,"x,y"', 'c,"d,"x,y"'], 3, 2) is None
    # a cell with a comma, a quote, a tab or an escape: the writer's work
    assert plain_lines(["a,b", "c,d,e"], 1) is None
    assert plain_lines(["a,b", 'c,"d'], 1) is None
    assert plain_lines(["a,b", "c,\td"], 1) is None
    assert plain_lines(["a,b", "c,\x1bd"], 1) is None
    # a line with a comma too few does not hide another's comma too many: a cell
    # only ever adds (the lines here are made by joining cells with commas)
    assert plain_lines(["Zoë,b"], 1) == "Zoë,b\n"


@pytest.fixture()
def store_after(tmp_path: Path) -> Path:
    """Browsing of the Lead journey holds three contacts: one in it since 0.1 day
    after the evaluation time, one whose first name has an ESC, one plain."""
    db = tmp_path / "d.db"
    generate(db, contacts=120)
    conn = sqlite3.connect(db)
    jid = conn.execute("SELECT id FROM journeys WHERE name = ?", (LEAD,)).fetchone()[0]
    now = conn.execute("SELECT evaluated_at FROM journey_progress WHERE journey_id = ?",
                       (jid,)).fetchone()[0]
    # everyone out of the stage, then three back in: 40 days before, 2 days before and
    # 0.1 day (8,640 s) after the evaluation time
    conn.execute("UPDATE journey_positions SET stage = 'Interested'"
                 " WHERE journey_id = ? AND stage = ?", (jid, STAGE))
    ids = []
    for since in (now - 40 * DAY, now - 2 * DAY, now + 8_640):
        cid = conn.execute("SELECT min(contact_id) FROM journey_positions WHERE journey_id = ?"
                           " AND stage IS NOT ?", (jid, STAGE)).fetchone()[0]
        conn.execute("UPDATE journey_positions SET stage = ?, since = ?"
                     " WHERE journey_id = ? AND contact_id = ?", (STAGE, since, jid, cid))
        ids.append(cid)
    conn.execute("UPDATE contacts SET first_name = ?, last_name = ? WHERE id = ?",
                 ("\x1bEsc", "-dash", ids[1]))
    conn.commit()
    conn.close()
    return db


def test_negative_days_beside_a_name_to_escape(store_after: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    assert main(["funnel", LEAD, "--stage", STAGE, "--csv", str(out),
                 "--db", str(store_after)]) == 0
    text = out.read_text(encoding="utf-8")
    store = Store.open(store_after, readonly=True)
    rows = stage_contacts(store, LEAD, STAGE)
    store.close()
    # (8,640 - 0) / 86,400 = 0.1 day after: -0.1 days in the stage
    assert [r.days_in_stage for r in rows] == [40.0, 2.0, -0.1]
    assert text == contacts_csv(rows)
    lines = text.splitlines()
    assert "\\x1bEsc,'-dash," in lines[2]
    assert lines[3].endswith(",-0.1,no")  # a number, as the writer writes a float


def test_segment_export_of_a_chunk_with_a_name_to_escape(
    store_after: Path, tmp_path: Path,
) -> None:
    import json

    from journeytui.domain import segments

    conn = sqlite3.connect(store_after)
    definition = json.loads(conn.execute(
        "SELECT definition FROM journeys WHERE name = ?", (LEAD,)).fetchone()[0])
    definition["segments"] = [{"name": "Browsers", "stage": STAGE}]
    conn.execute("UPDATE journeys SET definition = ? WHERE name = ?",
                 (json.dumps(definition), LEAD))
    conn.commit()
    conn.close()
    out = tmp_path / "seg.csv"
    assert main(["segment", "export", "Browsers", str(out), "--format", "sendgrid",
                 "--db", str(store_after)]) == 0
    store = Store.open(store_after, readonly=True)
    _, _, _, rows = segments.members(store, "Browsers")
    store.close()
    lines, kept, _ = segments.export_lines(rows, "sendgrid")
    assert kept == 3
    expected = "".join(lines)
    assert out.read_text(encoding="utf-8") == expected
    assert "\\x1bEsc,'-dash" in expected


def test_iso_times_made_a_minute_at_a_time() -> None:
    from journeytui.domain.in_stage import IsoMinutes

    times = IsoMinutes()
    # 1,793,490,780 s = 20,757 days + 85,980 s; 1970 → 2026 is 56 × 365 + 14 leap days
    # = 20,454 days, so day 303 of 2026 (0-based: 273 days to the end of September +
    # 30) = 31 October; 85,980 s = 23 h 53 min
    assert times.iso(1_793_490_780) == "2026-10-31T23:53:00Z"
    assert times.iso(1_793_490_839) == "2026-10-31T23:53:59Z"
    assert times.iso(0) == "1970-01-01T00:00:00Z"
    # before 1970 the minute is the one before (floor), its seconds counted up from it
    assert times.iso(-1) == "1969-12-31T23:59:59Z"
    assert times.iso(-61) == "1969-12-31T23:58:59Z"
    assert sorted(times) == [-120, -60, 0, 1_793_490_780]  # one text a minute

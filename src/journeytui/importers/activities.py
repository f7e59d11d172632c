"""Import form submissions and page visits (plain Python, no textual).

A CSV (or TSV) file with the header ``email,kind,name,url,time,id`` (any order; ``name``,
``url`` and ``id`` may be left out), or JSON / newline-delimited JSON objects with
those keys:

* ``kind``: ``form`` (a form submission; ``name`` is the form's name) or ``page`` (a
  page visit; ``url`` is the page);
* ``time``: ISO 8601 (``2026-03-01T09:30:00Z``; without an offset: UTC) or unix
  seconds;
* ``id`` (optional): the source's id, for dedup; without it a row is identified by
  its address, kind, name or URL and time.

Consent (PRODUCT.md §2): form submissions and page visits are contact activities, so
they are recorded only for contacts who have tracking consent when the file is
imported; the others are counted as skipped, with the reason (and not remembered, so
importing the file again after consent was given records them then).  An address that
is not a contact is skipped too (contacts come from ``import contacts``).  An activity
already imported (same id, or same row) is skipped, so re-importing changes nothing.
Each recorded activity keeps its file and line (an import batch: ``journeytui
explain --contact`` names them, ``journeytui batches remove`` takes them out again).

A bad row (unknown kind, a form without name, a page without URL, a time that is not a
time, an invalid address, a control character) refuses the whole file, naming each
line and field.  One transaction; journeys are advanced in it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from journeytui.importers._common import STDIN_NAME, is_address
from journeytui.importers._report import (
    ImportReport,
    advance_journeys,
    dry_run_preview,
    printable,
    snapshot,
)
from journeytui.importers._tabular import Problems, read_table
from journeytui.importers._times import iso_seconds
from journeytui.store import Recorder, Store

COLUMNS = ("email", "kind", "name", "url", "time", "id")
REQUIRED = ("email", "kind", "time")
FUTURE_S = 86_400

LABELS = {
    "forms": "form submissions",
    "visits": "page visits",
}
NO_CONSENT = "contact without tracking consent (not recorded, PRODUCT.md §2)"
NO_CONTACT = "not a contact (import contacts first)"
DUPLICATE = "already imported (same id, or same row)"


@dataclass(slots=True)
class _Activity:
    line: int
    address: str
    kind: str  # form | page
    value: str
    at: int
    key: str


def parse_time(value: str) -> int | None:
    """Unix seconds of ISO 8601 (no offset: UTC) or of unix seconds written as digits."""
    v = value.strip()
    if v.isdigit() and v.isascii():
        n = int(v)
        return n if n < 100_000_000_000 else None  # milliseconds are refused
    return iso_seconds(v)


def read_activities(path: str | os.PathLike[str], now: int) -> tuple[str, list[_Activity]]:
    table = read_table(path, "an activities file")
    name = table.name
    problems = Problems(name)
    cols: dict[str, int] = {}
    for i, raw in enumerate(table.header):
        col = raw.strip().lower()
        if col not in COLUMNS:
            problems.bad(1, f"unknown column '{printable(raw, 40) or '(empty)'}'; expected "
                         f"{','.join(COLUMNS)}")
        elif col in cols:
            problems.bad(1, f"column '{col}' appears twice")
        else:
            cols[col] = i
    for col in REQUIRED:
        if col not in cols:
            problems.bad(1, f"missing column '{col}' (the header is {','.join(COLUMNS)})")
    problems.raise_if_any()
    out: list[_Activity] = []
    width = len(table.header)
    for line, cells in table.rows:
        if table.format in ("CSV", "TSV") and len(cells) != width:
            problems.bad(line, f"{len(cells)} fields, the header has {width}")
            continue
        if problems.controls(line, [(c, cells[i]) for c, i in cols.items()]):
            continue

        def cell(col: str, cells: list[str] = cells) -> str:
            i = cols.get(col)
            return "" if i is None else cells[i].strip()

        address, kind = cell("email"), cell("kind").lower()
        ok = True
        if not is_address(address):
            problems.bad(line, f"field 'email': '{printable(address, 60)}' is not an email address")
            ok = False
        if kind not in ("form", "page"):
            problems.bad(line, f"field 'kind': '{printable(kind, 20)}' is not form or page")
            ok = False
        value = cell("name") if kind == "form" else cell("url")
        if ok and not value:
            problems.bad(line, "field 'name' is empty (a form needs its name)" if kind == "form"
                         else "field 'url' is empty (a page visit needs its URL)")
            ok = False
        at = parse_time(cell("time"))
        if at is None:
            problems.bad(line, f"field 'time': '{printable(cell('time'), 40)}' is not ISO 8601 "
                         "or unix seconds")
            ok = False
        elif at > now + FUTURE_S:
            problems.bad(line, "field 'time' is more than a day after this import (a clock "
                         "error?)")
            ok = False
        if not ok:
            continue
        assert at is not None
        source_id = cell("id")
        if source_id:
            key = f"activity:{source_id}"
        else:
            digest = hashlib.sha256(
                "\x1f".join((address.lower(), kind, value, str(at))).encode()
            ).hexdigest()
            key = f"activity:sha256:{digest}"
        out.append(_Activity(line, address.strip().lower(), kind, value, at, key))
    problems.raise_if_any()
    return name, out


class _DryRun(Exception):
    pass


class _Sources:
    """Where each recorded activity came from (provenance: ``journeytui explain``, and
    ``journeytui batches remove``): one import batch, one event source per activity
    with its line and dedup key."""

    def __init__(self, store: Store, name: str, at: int) -> None:
        self.c = store.conn
        kind = "stdin" if name == STDIN_NAME else "file"
        cur = self.c.execute(
            "INSERT INTO import_batches(started_at, kind, label, files) VALUES (?, ?, ?, ?)",
            (at, kind, name[:200], json.dumps([name], ensure_ascii=False)))
        self.batch = int(cur.lastrowid or 0)
        self.rows: list[tuple[Any, ...]] = []

    def add(self, a: _Activity) -> None:
        """The activity just written (the connection's last inserted row)."""
        row = self.c.execute("SELECT last_insert_rowid()").fetchone()[0]
        self.rows.append((self.batch, "a", row, None, "form" if a.kind == "form" else "visit",
                          a.at, 0, a.line, None, a.key, None))

    def write(self) -> int:
        """The batch's id (0: nothing recorded, no batch is kept)."""
        if not self.rows:
            self.c.execute("DELETE FROM import_batches WHERE id = ?", (self.batch,))
            return 0
        self.c.executemany(
            "INSERT INTO event_sources(batch_id, target, row_id, email_id, kind, at, file_no,"
            " line, idx, event_id, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.rows)
        self.c.execute("UPDATE import_batches SET events = ? WHERE id = ?",
                       (len(self.rows), self.batch))
        return self.batch


def import_activities(
    store: Store, path: str | os.PathLike[str], *, now: int | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import one activities file into *store* in one transaction (all or nothing)."""
    clock = int(time.time()) if now is None else now
    name, rows = read_activities(path, clock)
    report = ImportReport(source="activities", files=[name], records=len(rows),
                          dry_run=dry_run)
    for kind in LABELS:
        report.added[kind] = 0
    rows.sort(key=lambda a: (a.at, a.line))
    try:
        with store.transaction():
            before = snapshot(store) if dry_run else None
            rec = Recorder(store)
            sources = _Sources(store, name, clock)
            for a in rows:
                where = f"{name}:{a.line}"
                contact = rec.contact(a.address, create=False)
                if contact is None:
                    report.skip(NO_CONTACT, where)
                    continue
                if not contact.consent:
                    report.skip(NO_CONSENT, where)
                    continue
                if store.conn.execute(
                    "SELECT 1 FROM seen_events WHERE event_id = ?", (a.key,)
                ).fetchone():
                    report.skip(DUPLICATE, where)
                    continue
                rec.seen(a.key)
                if a.kind == "form":
                    rec.form(contact, a.value, a.at)
                    report.add("forms")
                else:
                    rec.visit(contact, a.value, a.at)
                    report.add("visits")
                sources.add(a)
            report.batch_id = sources.write()
            advance_journeys(store, report)
            if before is not None:
                report.preview = dry_run_preview(before, snapshot(store))
                raise _DryRun
    except _DryRun:
        report.batch_id = 0  # rolled back
    return report

"""Who is in a journey stage, read in the stage list's order for the CLI's long
outputs (``funnel --stage S --contacts``: text, JSON, CSV) and the funnel's list.

The order is the stage list's: longest in the stage first (``since``; those in it
"at the evaluation time" — stored as :data:`AT_EVALUATION` — as the evaluation time),
then the contact id.  :func:`in_stage_order` reads it as three reads in the stage
index's order, chained, so a stage of any size is written as it is read: nothing
sorted, nothing held.  :func:`iter_stage_contact_cells` gives the rows as the CLI
writes them, every cell text made by SQLite as it reads (no object, no call per row).
The journey's stages are read from its stored definition without building its model
(a damaged definition is left to :func:`journeytui.domain.journeys.get_journey` to
describe).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import IO, Any

from journeytui.errors import UserError
from journeytui.present import whole_days
from journeytui.store import Store
from journeytui.store.evaluation_time import AT_EVALUATION
from journeytui.textsafe import csv_cell, safe_text
from journeytui.timefmt import fmt_time

DAY = 86_400
DEFAULT_STALL_DAYS = 30

CSV_HEADER = ["email", "first_name", "last_name", "stage", "since", "days_in_stage",
              "stalled"]


def check_stall_days(stall_days: int) -> None:
    if stall_days < 1:
        raise UserError(f"--stall-days {stall_days}: must be at least 1")


def journey_stages(store: Store, name: str) -> list[tuple[str, bool]]:
    """The stages of the stored journey *name*: (name, exit stage?), in order — read
    from its definition as stored (written by the journey model, so already
    checked); when that cannot be read, the model says what is wrong (no such
    journey, a damaged definition)."""
    row = store.conn.execute("SELECT definition FROM journeys WHERE name = ?",
                             (name,)).fetchone()
    if row is not None:
        try:
            stages = [(s["name"], s.get("exit", False)) for s in json.loads(row[0])["stages"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            stages = []
        if stages and all(isinstance(n, str) and isinstance(e, bool) for n, e in stages):
            return stages
    from journeytui.domain.journeys import get_journey

    j, _ = get_journey(store, name)
    return [(s.name, s.exit) for s in j.stages]


@dataclass(frozen=True)
class StageRead:
    """What a read of the contacts in a stage needs: the journey, the evaluation time
    (*now*), the stalled limit (None: nobody can stall in the stage)."""

    jid: int
    stage: str
    now: int
    stall_before: int | None

    def args(self) -> dict[str, Any]:
        return {"jid": self.jid, "stage": self.stage, "now": self.now,
                "marker": AT_EVALUATION, "stall_before": self.stall_before}


def stage_read(store: Store, name: str, stage: str, stall_days: int) -> StageRead:
    """The read of *stage* of journey *name*: a wrong journey or stage is said here,
    before any row."""
    check_stall_days(stall_days)
    stages = journey_stages(store, name)
    names = [n for n, _ in stages]
    if stage not in names:
        raise UserError(
            f"journey '{safe_text(name)}' has no stage '{safe_text(stage)}'; its stages: "
            + ", ".join(f"'{safe_text(s)}'" for s in names)
        )
    conn = store.conn
    jid = int(conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()[0])
    row = conn.execute(
        "SELECT evaluated_at FROM journey_progress WHERE journey_id = ?", (jid,)).fetchone()
    now = int(row[0]) if row else int(time.time())
    # Nobody is stalled in the goal or an exit stage (the funnel says the same).
    can_stall = stage in [n for n, is_exit in stages if not is_exit][:-1]
    return StageRead(jid, stage, now, now - stall_days * DAY if can_stall else None)


def in_stage_order(
    conn: sqlite3.Connection, cells: Callable[[str], list[str]], read: StageRead,
    stalled_only: bool, extra: dict[str, Any] | None = None, also: str = "",
) -> Iterator[tuple[Any, ...]]:
    """One row of *cells* per contact in the stage, in the list's order (longest there
    first: ``since``, the evaluation time for those stored as "at the evaluation
    time", then the contact id), as three reads in the stage index's order, chained
    (nothing sorted, nothing held): those in it since before the evaluation time;
    those since exactly then — a real time and the stored marker, merged by contact
    id by SQLite; those since after it.  *cells* gives the row's columns (SQL) from
    the SQL of its time (the marker's rows get ``:now``); *also*: more conditions
    (SQL, parameters in *extra*)."""
    where = ("FROM journey_positions p JOIN contacts c ON c.id = p.contact_id"
             " WHERE p.journey_id = :jid AND p.stage = :stage" + also)
    timed = ", ".join(cells("p.since"))
    args = {**read.args(), **(extra or {})}
    if stalled_only:
        # stalled: in it since before the evaluation time less the stalled days (so
        # nobody at or after the evaluation time): the first read alone
        if read.stall_before is None:
            return iter(())
        return conn.execute(f"SELECT {timed} {where} AND p.since < :stall_before"
                            " ORDER BY p.since, p.contact_id", args)
    outer = ", ".join(f"k{i}" for i in range(len(cells("p.since"))))
    named = ", ".join(f"{c} AS k{i}" for i, c in enumerate(cells("p.since")))
    marked = ", ".join(cells(":now"))
    return chain(
        conn.execute(f"SELECT {timed} {where} AND p.since < :now"
                     " ORDER BY p.since, p.contact_id", args),
        conn.execute(
            f"SELECT {outer} FROM (SELECT {named}, p.contact_id AS cid {where}"
            f" AND p.since = :now UNION ALL SELECT {marked}, p.contact_id {where}"
            " AND p.since = :marker ORDER BY cid)", args),
        conn.execute(f"SELECT {timed} {where} AND p.since > :now AND p.since < :marker"
                     " ORDER BY p.since, p.contact_id", args),
    )


# -- the rows as the CLI writes them (the same text as funnel.StageContact's fields
# give; tests compare)
#: What str.strip() takes off a name (every whitespace character), for SQLite's trim.
_WHITESPACE = "".join(chr(i) for i in range(0x3001) if chr(i).isspace())


def _tenths_sql(seconds: str) -> str:
    """Tenths of a day in *seconds* (a non-negative count) as ``round(seconds / DAY, 1)``
    gives them, in integer arithmetic; NULL where only Python can say (a count exactly
    half a tenth past — the float's last bit decides — or a negative one)."""
    return (f"CASE WHEN {seconds} >= 0 AND {seconds} % 8640 != 4320"
            f" THEN {seconds} / 8640 + ({seconds} % 8640 > 4320) END")


def _days(seconds: int) -> float:
    return round(seconds / DAY, 1)


def _register_days(conn: sqlite3.Connection) -> None:
    """The two day figures for the rare counts :func:`_tenths_sql` leaves to Python."""
    conn.create_function("journeytui_days", 1, lambda s: repr(_days(s)), deterministic=True)
    conn.create_function("journeytui_whole_days", 1, lambda s: whole_days(_days(s)),
                         deterministic=True)


def _stage_cells(since: str, form: str) -> list[str]:
    d = f"(:now - {since})"
    tenths = _tenths_sql(d)
    stalled = f"{since} < :stall_before"
    if form == "text":
        return ["c.email", "trim(c.first_name || ' ' || c.last_name, :ws)", since]
    days = (f"coalesce((({tenths}) / 10) || '.' || (({tenths}) % 10),"
            f" journeytui_days({d}))")
    iso = f"strftime('%Y-%m-%dT%H:%M:%SZ', {since}, 'unixepoch')"
    if form == "json":
        return [f"printf(:item, json_quote(c.email), json_quote(c.first_name),"
                f" json_quote(c.last_name), :json_stage, {iso}, {days},"
                f" CASE WHEN {stalled} THEN 'true' ELSE 'false' END)"]
    return [csv_guard_sql("c.email"), csv_guard_sql("c.first_name"),
            csv_guard_sql("c.last_name"), ":csv_stage", iso, days,
            f"CASE WHEN {stalled} THEN 'yes' ELSE 'no' END"]


#: A stage's contact in ``funnel --stage S --contacts --json`` (a list at the top level)
_CONTACT_JSON = (
    '{\n  "email": %s,\n  "first_name": %s,\n  "last_name": %s,\n  "stage": %s,'
    '\n  "since": "%s",\n  "days_in_stage": %s,\n  "stalled": %s\n}').replace("\n", "\n  ")


def iter_stage_contact_cells(
    store: Store, name: str, stage: str, *, form: str,
    stall_days: int = DEFAULT_STALL_DAYS, stalled_only: bool = False,
) -> Iterator[tuple[Any, ...]]:
    """The rows of :func:`journeytui.domain.funnel.iter_stage_contacts` (same order)
    as the CLI writes them, the cells made by SQLite as it reads — *form* ``"json"``:
    one cell, the contact as ``write_json`` indents a list's item at the top level
    (strings as SQLite quotes them: the same as JSON's ASCII form except for the
    characters above U+007E, see :func:`journeytui.cli.stream.ascii_json`);
    ``"csv"``: the CSV row's cells, formula guarded (control characters are left to
    the writer); ``"text"``: contact, name and the time in the stage since (the
    evaluation time for those in it since then), whose cells
    :func:`stage_text_tail` gives."""
    read = stage_read(store, name, stage, stall_days)
    conn = store.conn
    _register_days(conn)
    extra = {"ws": _WHITESPACE, "item": _CONTACT_JSON,
             "json_stage": json.encoder.encode_basestring_ascii(stage),
             "csv_stage": csv_cell(stage)}
    return in_stage_order(conn, lambda since: _stage_cells(since, form), read,
                          stalled_only, extra)


def stage_text_tail(
    store: Store, name: str, stage: str, *, stall_days: int = DEFAULT_STALL_DAYS,
) -> Callable[[int], tuple[str, str, str]]:
    """The last cells of a ``"text"`` row of :func:`iter_stage_contact_cells` from its
    time: in stage since, days (whole days completed), stalled — as
    :class:`journeytui.domain.funnel.StageContact` gives them; the same for every
    contact in the stage since the same second (a list makes them once a time)."""
    read = stage_read(store, name, stage, stall_days)
    now, limit = read.now, read.stall_before

    minutes: dict[int, str] = {}  # a minute's text, made once

    def cells(since: int) -> tuple[str, str, str]:
        minute = since - since % 60
        when = minutes.get(minute)
        if when is None:
            when = minutes[minute] = fmt_time(minute)
        return (when, whole_days(round((now - since) / DAY, 1)),
                "stalled" if limit is not None and since < limit else "")

    return cells


def csv_guard_sql(column: str) -> str:
    """*column* with the formula guard of :func:`journeytui.textsafe.csv_cell` (a
    leading ``'`` before ``= + - @``, a tab or a carriage return), in SQL."""
    return (f"CASE WHEN substr({column}, 1, 1) IN ('=', '+', '-', '@', char(9), char(13))"
            f" THEN '''' || {column} ELSE {column} END")


def csv_chunks(header: Sequence[str], chunks: Iterable[list[Sequence[str]]]
               ) -> Iterator[str]:
    """CSV text (``\\n`` line ends, as every export here), the header then a chunk of
    rows at a time, from rows of str cells whose formula guard is SQLite's
    (:func:`csv_guard_sql`): the same text as rows of
    :func:`~journeytui.textsafe.csv_cell` cells — a chunk holding a character to make
    visible (none is printable) has its cells made safe."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for part in chunks:
        cells: Sequence[Sequence[object]] = part
        if not "".join(map("".join, part)).isprintable():
            cells = [[csv_cell(c) for c in r] for r in part]
        w.writerows(cells)
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def chunked(rows: Iterable[Any], size: int = 1_000) -> Iterator[list[Any]]:
    """*rows* a list of *size* at a time."""
    it = iter(rows)
    while part := list(islice(it, size)):
        yield part


def write_contact_cells_csv(rows: Iterable[Sequence[str]], out: IO[str]) -> int:
    """Write the ``"csv"`` cells of :func:`iter_stage_contact_cells` as CSV to *out*
    as they come, a chunk at a time; returns how many.  The same file as
    :func:`journeytui.domain.funnel.write_contacts_csv`."""
    n = 0

    def counted() -> Iterator[list[Sequence[str]]]:
        nonlocal n
        for part in chunked(rows):
            n += len(part)
            yield part

    for text in csv_chunks(CSV_HEADER, counted()):
        out.write(text)
    return n

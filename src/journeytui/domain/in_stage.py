"""Who is in a journey stage, read in the stage list's order for the CLI's long
outputs (``funnel --stage S --contacts``: text, JSON, CSV) and the funnel's list.

The order is the stage list's: longest in the stage first (``since``; those in it
"at the evaluation time" — stored as :data:`AT_EVALUATION` — as the evaluation time),
then the contact id.  :func:`in_stage_order` reads it as three reads in the stage
index's order, chained, so a stage of any size is written as it is read: nothing
sorted, nothing held.  :func:`iter_stage_contact_cells` gives the rows as the CLI
writes them: the contact's cells shaped by SQLite as it reads, then the time in the
stage, from which :func:`stage_figures` gives the rest once per distinct time (many
contacts share one; :class:`PerKey`) — no object per row.
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
from itertools import chain, islice
from typing import Any, NamedTuple

from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.evaluation_time import AT_EVALUATION
from journeytui.textsafe import csv_cell, safe_text
from journeytui.timefmt import iso_time

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


class StageRead(NamedTuple):
    """What a read of the contacts in a stage needs: the journey, the evaluation time
    (*now*), the stalled limit (None: nobody can stall in the stage).  (A named tuple:
    the stage list's commands start without importing ``dataclasses``.)"""

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


class Half(NamedTuple):
    """One of two parts of a stage's list, cut before the row of the first read
    (in the stage since before the evaluation time, or the stalled limit) with this
    time and contact id (:func:`split_key`): the rows before it (*second* False) or
    it and every row after (*second* True)."""

    second: bool
    since: int
    contact_id: int


def split_key(conn: sqlite3.Connection, read: StageRead, stalled_only: bool,
              at_least: int) -> Half | None:
    """Where to cut the stage's list in two parts of about the same length (the first
    :class:`Half`), when it holds at least *at_least* contacts (None otherwise):
    the row of the list's first read at half the list's length, counted and found on
    the stage index alone (no contact read).  The first part then holds just half
    the rows (fewer for a list with more conditions: they are left out of the
    count).  None too when that row is not in the first read (most of the stage in
    it since the evaluation time or after)."""
    upper = read.stall_before if stalled_only else read.now
    if upper is None:
        return None
    base = "FROM journey_positions WHERE journey_id = ? AND stage = ?"
    total = int(conn.execute(f"SELECT count(*) {base}" + (" AND since < ?" if stalled_only
                                                           else ""),
                             (read.jid, read.stage, *([upper] if stalled_only else []))
                             ).fetchone()[0])
    if total < at_least:
        return None
    row = conn.execute(f"SELECT since, contact_id {base} AND since < ?"
                       " ORDER BY since, contact_id LIMIT 1 OFFSET ?",
                       (read.jid, read.stage, upper, total // 2)).fetchone()
    return None if row is None else Half(False, int(row[0]), int(row[1]))


def in_stage_order(
    conn: sqlite3.Connection, cells: Callable[[str], list[str]], read: StageRead,
    stalled_only: bool, extra: dict[str, Any] | None = None, also: str = "",
    half: Half | None = None,
) -> Iterator[tuple[Any, ...]]:
    """One row of *cells* per contact in the stage, in the list's order (longest there
    first: ``since``, the evaluation time for those stored as "at the evaluation
    time", then the contact id), as three reads in the stage index's order, chained
    (nothing sorted, nothing held): those in it since before the evaluation time;
    those since exactly then — a real time and the stored marker, merged by contact
    id by SQLite; those since after it.  *cells* gives the row's columns (SQL) from
    the SQL of its time (the marker's rows get ``:now``); *also*: more conditions
    (SQL, parameters in *extra*); *half*: only that part of the list (the first
    part lies in the first read: :func:`split_key`)."""
    where = ("FROM journey_positions p JOIN contacts c ON c.id = p.contact_id"
             " WHERE p.journey_id = :jid AND p.stage = :stage" + also)
    timed = ", ".join(cells("p.since"))
    args = {**read.args(), **(extra or {})}
    cut = ""
    if half is not None:
        # a range of the index from (or up to) the time, less the rows at that time
        # on the other side of the contact id
        args.update(split_since=half.since, split_id=half.contact_id)
        cut = (" AND p.since >= :split_since AND NOT (p.since = :split_since"
               " AND p.contact_id < :split_id)" if half.second else
               " AND p.since <= :split_since AND NOT (p.since = :split_since"
               " AND p.contact_id >= :split_id)")
    if stalled_only or (half is not None and not half.second):
        # stalled: in it since before the evaluation time less the stalled days (so
        # nobody at or after the evaluation time): the first read alone; so is the
        # first part of a list
        limit = ":stall_before" if stalled_only else ":now"
        if stalled_only and read.stall_before is None:
            return iter(())
        return conn.execute(f"SELECT {timed} {where} AND p.since < {limit}{cut}"
                            " ORDER BY p.since, p.contact_id", args)
    outer = ", ".join(f"k{i}" for i in range(len(cells("p.since"))))
    named = ", ".join(f"{c} AS k{i}" for i, c in enumerate(cells("p.since")))
    marked = ", ".join(cells(":now"))
    return chain(
        conn.execute(f"SELECT {timed} {where} AND p.since < :now{cut}"
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
#: The first cells of each form's rows (SQL), before the time in the stage.  The text
#: list's name is first and last name joined by a space, left for the writer to strip
#: (``str.strip``: a C call a row, where SQLite's trim of every whitespace character
#: parses its set of characters for each row — a third of the read).
_HEAD = {
    "text": ["c.email", "c.first_name || ' ' || c.last_name"],
    "json": ["c.email", "c.first_name", "c.last_name"],
}


def iter_stage_contact_cells(
    store: Store, name: str, stage: str, *, form: str,
    stall_days: int = DEFAULT_STALL_DAYS, stalled_only: bool = False,
    half: Half | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of :func:`journeytui.domain.funnel.iter_stage_contacts` (same order)
    as the CLI writes them (:func:`stage_cells` of the stage's :func:`stage_read`)."""
    return stage_cells(store.conn, stage_read(store, name, stage, stall_days), form=form,
                       stalled_only=stalled_only, half=half)


def stage_cells(
    conn: sqlite3.Connection, read: StageRead, *, form: str, stalled_only: bool = False,
    half: Half | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of the stage of *read* as the CLI writes them: the contact's cells,
    shaped by SQLite as it reads, then the time in the stage since (the evaluation
    time for those in it since then), from which :func:`read_figures` gives the rest.
    *form* ``"text"``: contact, name (first and last name joined by a space, not
    stripped yet), then the time's key (:func:`text_key_sql`); ``"json"``: email,
    first and last name as stored; ``"csv"``: the same, formula guarded
    (:func:`csv_guard_sql`; control characters are left to the writer).  *half*: only
    that part of the list (:func:`split_key`)."""
    head = _HEAD.get(form) or [csv_guard_sql(c) for c in _HEAD["json"]]
    if form == "text":
        return in_stage_order(conn, lambda since: [*head, text_key_sql(since)], read,
                              stalled_only, {"second": read.now % 60}, half=half)
    return in_stage_order(conn, lambda since: [*head, since], read, stalled_only, half=half)


# -- the text list's key: what its last cells follow from, coarser than the second
#: Added to a time before it is cut in minutes (a whole number of minutes, larger than
#: any time a date can have before year 1): SQLite's ``/`` and ``%`` then cut as
#: Python's ``//`` and ``%`` do.
_SHIFT = 60 * 2**31


def text_key_sql(since: str) -> str:
    """The key of the text list's last cells for the time *since* (SQL; ``:second``
    is the evaluation time's second in its minute): the minute (shown), and which
    part of it the time is in — before that second, at it, after it.  The days shown
    (whole days completed of the days to one decimal) change only at a time
    ``4,320 + 86,400 × k`` seconds before the evaluation time, and being stalled at a
    whole number of days before it: both at that second of some minute, so every time
    in one part of a minute shows the same cells (a list makes them once a key, not
    once a second: a stage of 250,000 contacts has about 28,000 distinct seconds and
    4,400 distinct minutes)."""
    t = f"({since} + {_SHIFT})"
    return f"{t} / 60 * 4 + ({t} % 60 >= :second) * 2 + ({t} % 60 = :second)"


def text_key_since(key: int, second: int) -> int:
    """A time with the key *key* (:func:`text_key_sql`; *second*: the evaluation
    time's second in its minute): every time with that key shows the same cells."""
    minute, part = divmod(key, 4)
    start = minute * 60 - _SHIFT
    return start if part == 0 else start + second if part == 3 else start + second + 1


def stage_figures(
    store: Store, name: str, stage: str, *, stall_days: int = DEFAULT_STALL_DAYS,
) -> Callable[[int], tuple[float, bool]]:
    """From a time in the stage since: the days in it (one decimal) and whether the
    contact is stalled — as :class:`journeytui.domain.funnel.StageContact` gives them
    (the same for every contact in the stage since the same second: a list makes
    them once a time)."""
    return read_figures(stage_read(store, name, stage, stall_days))


def read_figures(read: StageRead) -> Callable[[int], tuple[float, bool]]:
    """:func:`stage_figures` of the stage of *read*."""
    now, limit = read.now, read.stall_before

    def figures(since: int) -> tuple[float, bool]:
        return round((now - since) / DAY, 1), limit is not None and since < limit

    return figures


def csv_guard_sql(column: str) -> str:
    """*column* with the formula guard of :func:`journeytui.textsafe.csv_cell` (a
    leading ``'`` before ``= + - @``, a tab or a carriage return), in SQL: the first
    character's code point (one function call; ``unicode('')`` is NULL: no guard),
    looked at only for text that sorts before ``'A'`` (every one of those characters
    does; a comparison of bytes is cheaper than the call, and most cells start with a
    letter)."""
    return (f"CASE WHEN {column} < 'A' AND unicode({column}) IN (61, 43, 45, 64, 9, 13)"
            f" THEN '''' || {column} ELSE {column} END")


def csv_safe(rows: list[Sequence[str]]) -> Sequence[Sequence[str]]:
    """Rows of str cells whose formula guard is SQLite's (:func:`csv_guard_sql`) as
    :func:`~journeytui.textsafe.csv_cell` makes them: as they are, unless one holds
    a character to make visible (none is printable; then every cell is made safe)."""
    if "".join(map("".join, rows)).isprintable():
        return rows
    return [[str(csv_cell(c)) for c in r] for r in rows]


def csv_text(rows: list[Sequence[str]]) -> str:
    """CSV lines (``\n`` line ends, as every export here) of rows of str cells formula
    guarded by SQLite (:func:`csv_guard_sql`), through the CSV writer, the cells made
    safe (:func:`csv_safe`)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(csv_safe(rows))
    return buf.getvalue()


def plain_lines(lines: list[str], commas: int, quotes: int = 0) -> str | None:
    """CSV *lines* (without their ends) made by joining str cells with commas, each
    ended by ``\n`` and joined — when the CSV writer would write those cells as they
    are, None otherwise.  It would when the lines hold nothing unprintable and each
    just *commas* commas and *quotes* quotes (its separators and the cells every line
    shares): a cell can only add some, so the totals tell (the writer quotes a cell
    with a comma or a quote, the only printable characters it quotes)."""
    joined = "".join(lines)
    # (no quote expected: a search, which stops at the first, instead of a count)
    if (joined.count(",") == len(lines) * commas
            and (joined.count('"') == len(lines) * quotes if quotes else '"' not in joined)
            and joined.isprintable()):
        return "\n".join(lines) + "\n" if lines else ""
    return None


def chunked(rows: Iterable[Any], size: int = 1_000) -> Iterator[list[Any]]:
    """*rows* a list of *size* at a time."""
    it = iter(rows)
    while part := list(islice(it, size)):
        yield part


class IsoMinutes(dict[int, str]):
    """The ISO text of each minute up to its seconds ("2026-03-01T09:30:" of
    "2026-03-01T09:30:00Z"), made once a minute: :meth:`iso` gives
    :func:`~journeytui.timefmt.iso_time` of any time from it (one ``strftime`` a
    minute instead of one a time)."""

    def __missing__(self, minute: int) -> str:
        prefix = self[minute] = str(iso_time(minute))[:-3]
        return prefix

    def iso(self, t: int) -> str:
        return f"{self[t - t % 60]}{t % 60:02d}Z"


class PerKey(dict[Any, Any]):
    """``make(key)`` for each key, made once (a time's text and figures in a list
    where many contacts share a time)."""

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.make(key)
        return value


#: The first line of a stage's contacts as CSV.
CSV_HEADER_LINE = ",".join(CSV_HEADER) + "\n"


def contacts_csv_chunks(
    rows: Iterable[Sequence[Any]], figures: Callable[[int], tuple[float, bool]],
    stage: str, count: list[int],
) -> Iterator[str]:
    """The ``"csv"`` rows of :func:`iter_stage_contact_cells` (with the stage's
    :func:`stage_figures`) as :func:`journeytui.domain.funnel.write_contacts_csv`
    writes them after :data:`CSV_HEADER_LINE` (the same lines), a chunk at a time as
    they come; the time's cells are made once per time.  ``count[0]`` grows by the
    rows of each chunk.

    A chunk of lines the writer would write as they are (:func:`plain_lines`) is
    joined as it is; another goes through the writer, its contacts' cells made safe."""
    safe_stage = str(csv_cell(stage))
    times = IsoMinutes()

    def tail(since: int) -> tuple[str, str, str, str]:
        days, stalled = figures(since)
        # (the days as the writer writes a float: its repr)
        return safe_stage, times.iso(since), repr(days), "yes" if stalled else "no"

    tails = PerKey(tail)
    # the stage's cell as the writer writes it (then a cell that is empty); the other
    # cells of the time (its ISO text, a float's repr, yes or no) hold nothing the
    # writer quotes: written as they are
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([safe_stage, ""])
    stage_text = "," + buf.getvalue()

    def tail_text(since: int) -> str:
        days, stalled = figures(since)
        return f"{stage_text}{times.iso(since)},{days!r},{'yes' if stalled else 'no'}"

    texts = PerKey(tail_text)
    # the commas and quotes of a line: two between the contact's cells, those of the
    # stage's text (its separators and the stage's own), two between the time's
    # cells (which hold none); a stage the writer would escape: every line through
    # the writer
    commas, quotes = 4 + stage_text.count(","), stage_text.count('"')
    plain = stage_text.isprintable()
    for part in chunked(rows):
        count[0] += len(part)
        text = plain_lines([f"{e},{f},{last}{texts[since]}" for e, f, last, since in part],
                           commas, quotes) if plain else None
        if text is None:
            # (only the contact's cells are made safe: the days stay a number)
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(
                [(*csv_safe([(e, f, last)])[0], *tails[since]) for e, f, last, since in part])
            text = buf.getvalue()
        yield text

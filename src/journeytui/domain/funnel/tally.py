"""The funnel kept current: its counts (:class:`Tally`), the duration rows behind its
medians (``journey_funnel_steps``), and reading, writing and rebuilding them."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from journeytui.domain.journey_model import Journey

# A move as the tally reads it: (to stage index, transition number or 0, at, email id,
# provisional).
TallyMove = tuple[int, int, int, int | None, int]
# A duration that ends at the evaluation time is kept as OPEN_STEP minus its start
# (every such row is at least OPEN_FROM; every other duration is far below).
OPEN_STEP = 1 << 61
OPEN_FROM = 1 << 60


class Tally:
    """The funnel's counts that the moves and positions decide, one contact at a time.

    :meth:`contact` adds (or, with ``sign=-1``, takes back) one contact's share: its
    moves in order (provisional ones last).  Evaluation and advancement keep a journey's
    tally current this way (:func:`save_tally`), so reading a funnel never replays the
    moves; a full computation (:func:`.report.compute`) builds one from every move.  The
    durations behind the medians are rows (level, seconds, contact): ``steps_added``
    and ``steps_removed`` since the last save.  A provisional move's time is the
    evaluation time whatever *at* says: a duration that ends with one (first reaching
    a main-line stage at the check at evaluation time) is kept as :data:`OPEN_STEP`
    minus its start, and read as "now" minus its start (:func:`.stored.funnel`), so that a
    later evaluation time changes no row.
    """

    def __init__(self, j: Journey) -> None:
        main = [i for i, s in enumerate(j.stages) if not s.exit]
        self.level = {idx: k for k, idx in enumerate(main)}
        self.reached = [0] * len(main)
        self.exits: Counter[int] = Counter()
        self.current: Counter[int] = Counter()
        self.moved: Counter[int] = Counter()
        self.emails: Counter[tuple[int, int | None]] = Counter()
        self.steps_added: list[tuple[int, int, int]] = []
        self.steps_removed: list[tuple[int, int, int]] = []

    def contact(self, cid: int, moves: Iterable[TallyMove], sign: int = 1) -> None:
        level = self.level
        moved = self.moved
        emails = self.emails
        maxlvl = -1
        times: list[int | None] = []  # None: the evaluation time
        exits: set[int] = set()
        for to, num, at, email, prov in moves:
            moved[num] += sign
            emails[(num, email)] += sign
            k = level.get(to)
            if k is None:
                exits.add(to)
            elif k > maxlvl:
                times.extend([None if prov else at] * (k - maxlvl))
                maxlvl = k
        reached = self.reached
        for k in range(maxlvl + 1):
            reached[k] += sign
        for e in exits:
            self.exits[e] += sign
        steps = self.steps_added if sign > 0 else self.steps_removed
        for k in range(maxlvl):
            start, end = times[k], times[k + 1]
            if end is None:  # (provisional moves come last: start is None, or a time)
                steps.append((k, 0 if start is None else OPEN_STEP - start, cid))
            else:
                steps.append((k, end - start if start is not None else 0, cid))

    def position(self, stage: int | None, sign: int = 1) -> None:
        if stage is not None and stage >= 0:
            self.current[stage] += sign

    # stored as JSON (zero counts left out)
    def to_json(self) -> str:
        return json.dumps({
            "reached": self.reached,
            "exits": [[k, n] for k, n in sorted(self.exits.items()) if n],
            "current": [[k, n] for k, n in sorted(self.current.items()) if n],
            "moved": [[k, n] for k, n in sorted(self.moved.items()) if n],
            "emails": [[t, e, n] for (t, e), n in sorted(
                self.emails.items(), key=lambda p: (p[0][0], p[0][1] or 0)) if n],
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, j: Journey, text: str) -> Tally:
        d = json.loads(text)
        t = cls(j)
        if len(d["reached"]) != len(t.reached):
            raise ValueError("stages changed")
        t.reached = list(d["reached"])
        t.exits.update(dict(d["exits"]))
        t.current.update(dict(d["current"]))
        t.moved.update(dict(d["moved"]))
        t.emails.update({(k, e): n for k, e, n in d["emails"]})
        if d.get("now_bound"):
            # kept by an older program: some durations were kept as seconds that
            # depend on the evaluation time (the store's upgrade clears such a tally)
            raise ValueError("durations kept at a past evaluation time")
        return t


def progress_stamp(conn: sqlite3.Connection, jid: int) -> str | None:
    """What a kept tally is current for: the journey's version, high-water marks and
    evaluation time as last written (None: never evaluated)."""
    row = conn.execute(
        "SELECT version, activity_hwm, send_hwm, evaluated_at FROM journey_progress"
        " WHERE journey_id = ?", (jid,)).fetchone()
    return None if row is None else " ".join(str(v) for v in row)


def load_tally(conn: sqlite3.Connection, jid: int, j: Journey) -> Tally | None:
    """The kept tally of journey *jid*, or None when it is not current (never kept, a
    contact was forgotten since, or results written by a program that did not keep
    it)."""
    row = conn.execute(
        "SELECT stamp, figures FROM journey_funnels WHERE journey_id = ?", (jid,)).fetchone()
    if row is None or not row[0] or row[0] != progress_stamp(conn, jid):
        return None
    try:
        return Tally.from_json(j, row[1])
    except (ValueError, KeyError, TypeError):
        return None


def write_steps(conn: sqlite3.Connection, jid: int, tally: Tally) -> None:
    """Write the duration rows added and taken back since the last call."""
    conn.executemany(
        "DELETE FROM journey_funnel_steps WHERE journey_id = ? AND level = ? AND seconds = ?"
        " AND contact_id = ?", [(jid, *s) for s in tally.steps_removed])
    conn.executemany(
        "INSERT INTO journey_funnel_steps(journey_id, level, seconds, contact_id)"
        " VALUES (?, ?, ?, ?)", [(jid, *s) for s in tally.steps_added])
    tally.steps_added.clear()
    tally.steps_removed.clear()


def save_tally(conn: sqlite3.Connection, jid: int, tally: Tally) -> None:
    """Keep *tally* as current for the journey's progress row (write that first)."""
    write_steps(conn, jid, tally)
    conn.execute(
        "INSERT INTO journey_funnels(journey_id, stamp, figures) VALUES (?, ?, ?)"
        " ON CONFLICT(journey_id) DO UPDATE SET stamp = excluded.stamp,"
        " figures = excluded.figures",
        (jid, progress_stamp(conn, jid) or "", tally.to_json()))


_MOVES = ("SELECT contact_id, to_stage, coalesce(transition, 0), at, email_id, provisional"
          " FROM journey_moves WHERE journey_id = ?")
_MOVE_ORDER = " ORDER BY contact_id, provisional, id"


def _tally_moves(
    rows: Iterable[tuple[Any, ...]], index: dict[str, int]
) -> Iterator[tuple[int, list[TallyMove]]]:
    for cid, group in groupby(rows, key=itemgetter(0)):
        yield cid, [(index[to], num, at, email, prov) for _, to, num, at, email, prov in group]


def stored_moves(
    conn: sqlite3.Connection, jid: int, j: Journey, contacts: Iterable[int]
) -> dict[int, list[TallyMove]]:
    """The stored moves of some contacts of journey *jid*, per contact, in order."""
    index = {n: i for i, n in enumerate(j.stage_names)}
    rows = conn.execute(
        _MOVES + " AND contact_id IN (SELECT value FROM json_each(?))" + _MOVE_ORDER,
        (jid, json.dumps(sorted(contacts))))
    return dict(_tally_moves(rows, index))


def rebuild_tally(conn: sqlite3.Connection, jid: int, j: Journey) -> Tally:
    """A journey's tally from all its stored moves and positions, written (the one
    pass that a forgotten contact or an older store costs)."""
    index = {n: i for i, n in enumerate(j.stage_names)}
    conn.execute("DELETE FROM journey_funnel_steps WHERE journey_id = ?", (jid,))
    tally = Tally(j)
    for cid, moves in _tally_moves(conn.execute(_MOVES + _MOVE_ORDER, (jid,)), index):
        tally.contact(cid, moves)
        if len(tally.steps_added) >= 50_000:
            write_steps(conn, jid, tally)
    for stage, n in conn.execute(
        "SELECT stage, count(*) FROM journey_positions WHERE journey_id = ?"
        " AND stage IS NOT NULL GROUP BY stage", (jid,)
    ):
        tally.current[index[stage]] += n
    save_tally(conn, jid, tally)
    return tally

"""The funnel of a journey (PRODUCT.md §4), from stored results or from a preview.

Per main-line stage, in order:

* ``reached`` — contacts who ever got at least as far as this stage (a contact whose
  transition jumps ahead counts for the stages it skipped, so ``reached`` never
  grows along the main line);
* ``current`` — contacts in it as of the evaluation time;
* ``next_step_conversion`` = reached(k+1) / reached(k); ``cumulative_conversion``
  = reached(k) / reached(first stage); ``drop_off`` = reached(k) − reached(k+1);
  ``null`` where there is no next stage or the denominator is 0;
* ``median_days_to_next`` — median days from first reaching this stage to first
  reaching the next, over those who did;
* ``stalled`` — contacts currently in it for more than ``stall_days`` days
  (``null`` for the last stage: that is the goal).

Exit stages are reported apart (reached, current; ``stalled`` is ``null``: nobody is
stalled in the goal or an exit stage, in any output).  Per transition: how many moves
it made and which emails' events triggered them (``email`` null: a form, a page
visit, or the check at evaluation time).  Per stage and email: clicks by contacts
while in that stage, and how many led to no move ("many clicks, little progress").
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import IO, Any

from journeytui.domain.conditions import render
from journeytui.domain.in_stage import (
    CSV_HEADER,
    check_stall_days,
    in_stage_order,
    stage_read,
)
from journeytui.domain.journey_model import Journey, JourneyError
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.evaluation_time import AT_EVALUATION, resolved
from journeytui.textsafe import csv_cell, safe_text
from journeytui.timefmt import iso_time

DAY = 86_400
DEFAULT_STALL_DAYS = 30


@dataclass
class FunnelData:
    """What a funnel is computed from (the store's rows, or a preview in memory)."""

    journey: Journey
    now: int
    # contact -> (stage index, since); only contacts in the journey
    positions: dict[int, tuple[int, int | None]]
    # (contact, from index or -1, to index, transition number or 0, at, email_id),
    # grouped by contact, in order
    moves: list[tuple[int, int, int, int, int, int | None]]
    clicks: dict[tuple[int, int], list[int]]
    email_names: dict[int, str] = field(default_factory=dict)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def compute(data: FunnelData, *, stall_days: int = DEFAULT_STALL_DAYS) -> dict[str, Any]:
    """The funnel from every move and position (a preview, or stored results whose
    kept tally is not current)."""
    check_stall_days(stall_days)
    j = data.journey
    tally = Tally(j)
    durations: list[list[int]] = [[] for _ in tally.reached]
    for cid, group in groupby(data.moves, key=itemgetter(0)):
        tally.contact(cid, ((m[2], m[3], m[4], m[5], 0) for m in group))
        # only the seconds are kept (the moves of a preview stream past, a million
        # contacts' worth)
        for k, seconds, _ in tally.steps_added:
            durations[k].append(seconds)
        tally.steps_added.clear()
    medians = [statistics.median(d) if d else None for d in durations]
    stalled: Counter[int] = Counter()
    limit = data.now - stall_days * DAY
    for stage, since in data.positions.values():
        tally.position(stage)
        if since is not None and since < limit:
            stalled[stage] += 1
    return _report(j, data.now, stall_days, tally, medians, stalled, data.clicks,
                   data.email_names)


def _report(
    j: Journey, now: int, stall_days: int, tally: Tally, medians: list[Any],
    stalled: Counter[int], click_stats: dict[tuple[int, int], list[int]],
    email_names: dict[int, str],
) -> dict[str, Any]:
    """The funnel as ``journeytui funnel --json`` gives it, from a tally (counts), the
    medians (seconds, per main-line level) and the stalled counts (per stage)."""
    stages = j.stages
    main = [i for i, s in enumerate(stages) if not s.exit]
    n_main = len(main)
    reached = tally.reached
    current = tally.current
    rows = []
    first = reached[0] if reached else 0
    for k, idx in enumerate(main):
        last = k == n_main - 1
        nxt = None if last else reached[k + 1]
        med = None if medians[k] is None else medians[k] / DAY
        rows.append({
            "stage": stages[idx].name,
            "reached": reached[k],
            "current": current[idx],
            "next_step_conversion": None if last else _ratio(nxt or 0, reached[k]),
            "cumulative_conversion": _ratio(reached[k], first),
            "drop_off": None if last else reached[k] - (nxt or 0),
            "median_days_to_next": None if med is None else round(med, 1),
            "stalled": None if last else stalled[idx],
        })
    # Nobody is stalled in an exit stage (nor in the goal): not applicable, null.
    exits = [
        {"stage": s.name, "reached": tally.exits[i], "current": current[i], "stalled": None}
        for i, s in enumerate(stages) if s.exit
    ]

    def emails_of(num: int) -> list[dict[str, Any]]:
        found = [(e, n) for (t, e), n in tally.emails.items() if t == num and n > 0]
        found.sort(key=lambda p: (-p[1], email_names.get(p[0], "") if p[0] else "~"))
        return [{"email": email_names.get(e, f"#{e}") if e is not None else None,
                 "moved": n} for e, n in found]

    transitions = []
    for k, t in enumerate(j.transitions, start=1):
        transitions.append({
            "number": k,
            "from": t.from_,
            "to": t.to,
            "priority": t.priority,
            "condition": render(t.when),
            "moved": tally.moved[k],
            "emails": emails_of(k),
        })
    clicks: list[dict[str, Any]] = []
    for (stage, email), (n, moved) in click_stats.items():
        if n <= 0:
            continue
        clicks.append({
            "stage": stages[stage].name,
            "email": email_names.get(email, f"#{email}"),
            "clicks": n,
            "moved": moved,
            "clicks_with_no_move": n - moved,
        })
    clicks.sort(key=lambda r: (j.stage_names.index(r["stage"]), -r["clicks_with_no_move"],
                               r["email"]))
    return {
        "journey": j.name,
        "goal": j.goal,
        "evaluated_at": iso_time(now),
        "stall_days": stall_days,
        "in_journey": sum(n for n in current.values() if n > 0),
        "stages": rows,
        "exits": exits,
        "entry": {"stage": stages[0].name, "condition": render(j.entry),
                  "entered": tally.moved[0], "emails": emails_of(0)},
        "transitions": transitions,
        "clicks_with_no_move": clicks,
    }


# -- the counts, kept ------------------------------------------------------------------
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
    moves; a full computation (:func:`compute`) builds one from every move.  The
    durations behind the medians are rows (level, seconds, contact): ``steps_added``
    and ``steps_removed`` since the last save.  A provisional move's time is the
    evaluation time whatever *at* says: a duration that ends with one (first reaching
    a main-line stage at the check at evaluation time) is kept as :data:`OPEN_STEP`
    minus its start, and read as "now" minus its start (:func:`funnel`), so that a
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


# -- reading the stored results --------------------------------------------------------
def _email_names(store: Store) -> dict[int, str]:
    return dict(store.conn.execute("SELECT id, name FROM emails").fetchall())


def stored_data(store: Store, name: str) -> FunnelData:
    from journeytui.domain.journeys import get_journey

    j, _ = get_journey(store, name)
    conn = store.conn
    jid, = conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()
    prog = conn.execute(
        "SELECT evaluated_at, version FROM journey_progress WHERE journey_id = ?", (jid,)
    ).fetchone()
    if prog is None:
        raise UserError(
            f"journey '{safe_text(name)}' has not been evaluated yet; run "
            f"`journeytui evaluate \"{safe_text(name)}\"`"
        )
    index = {n: i for i, n in enumerate(j.stage_names)}
    now = int(prog[0])
    try:
        positions = {
            cid: (index[stage], resolved(since, now))
            for cid, stage, since in conn.execute(
                "SELECT contact_id, stage, since FROM journey_positions"
                " WHERE journey_id = ? AND stage IS NOT NULL", (jid,)
            )
        }
        moves = [
            (cid, index[f] if f is not None else -1, index[t], num or 0,
             now if at == AT_EVALUATION else at, email)
            for cid, f, t, num, at, email in conn.execute(
                "SELECT contact_id, from_stage, to_stage, transition, at, email_id"
                " FROM journey_moves WHERE journey_id = ?"
                " ORDER BY contact_id, provisional, id", (jid,)
            )
        ]
        clicks = {
            (index[stage], email): [n, moved]
            for stage, email, n, moved in conn.execute(
                "SELECT stage, email_id, clicks, moved FROM journey_click_stats"
                " WHERE journey_id = ?", (jid,)
            )
        }
    except KeyError:
        raise JourneyError(
            f"journey '{safe_text(name)}': stored results do not match its stages; run "
            f"`journeytui evaluate \"{safe_text(name)}\"`"
        ) from None
    return FunnelData(j, int(prog[0]), positions, moves, clicks, _email_names(store))


def funnel(store: Store, name: str, *, stall_days: int = DEFAULT_STALL_DAYS) -> dict[str, Any]:
    """The funnel of the saved journey *name* as last evaluated: from its kept tally
    (a few indexed reads, whatever the store's size), or computed from every stored
    move when the tally is not current."""
    from journeytui.domain.journeys import get_journey

    check_stall_days(stall_days)
    j, _ = get_journey(store, name)
    conn = store.conn
    jid, = conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()
    tally = load_tally(conn, jid, j)
    if tally is None:
        return compute(stored_data(store, name), stall_days=stall_days)
    now = int(conn.execute(
        "SELECT evaluated_at FROM journey_progress WHERE journey_id = ?", (jid,)).fetchone()[0])
    medians: list[Any] = []
    for k in range(len(tally.reached)):
        n = tally.reached[k + 1] if k + 1 < len(tally.reached) else 0
        if n <= 0:
            medians.append(None)
            continue
        # the median of the n durations: the middle one, or the mean of the middle two
        # (those that end at the evaluation time, when there are any, read as now
        # minus their start: the index gives both kinds in order, SQLite merges them)
        args = {"j": jid, "k": k, "open_from": OPEN_FROM, "open": OPEN_STEP, "now": now,
                "skip": (n - 1) // 2}
        sql = ("SELECT seconds FROM journey_funnel_steps WHERE journey_id = :j AND level = :k"
               " AND seconds < :open_from")
        if conn.execute(
                "SELECT EXISTS (SELECT 1 FROM journey_funnel_steps WHERE journey_id = :j"
                " AND level = :k AND seconds >= :open_from)", args).fetchone()[0]:
            sql += (" UNION ALL SELECT seconds - :open + :now FROM journey_funnel_steps"
                    " WHERE journey_id = :j AND level = :k AND seconds >= :open_from")
        mid = [r[0] for r in conn.execute(sql + " ORDER BY 1 LIMIT 2 OFFSET :skip", args)]
        medians.append(mid[0] if n % 2 else (mid[0] + mid[1]) / 2)
    limit = now - stall_days * DAY
    stalled: Counter[int] = Counter()
    main = [i for i, s in enumerate(j.stages) if not s.exit]
    for idx in main[:-1]:
        stalled[idx] = int(conn.execute(
            "SELECT count(*) FROM journey_positions WHERE journey_id = ? AND stage = ?"
            " AND since < ?", (jid, j.stages[idx].name, limit)).fetchone()[0])
    index = {n: i for i, n in enumerate(j.stage_names)}
    clicks = {
        (index[stage], email): [n, moved]
        for stage, email, n, moved in conn.execute(
            "SELECT stage, email_id, clicks, moved FROM journey_click_stats"
            " WHERE journey_id = ?", (jid,))
    }
    return _report(j, now, stall_days, tally, medians, stalled, clicks, _email_names(store))


def full_funnel(store: Store, name: str, *, stall_days: int = DEFAULT_STALL_DAYS
                ) -> dict[str, Any]:
    """The funnel computed from every stored move (what the kept tally must equal)."""
    return compute(stored_data(store, name), stall_days=stall_days)


def preview(store: Store, j: Journey, **options: Any) -> dict[str, Any]:
    """The funnel *j* would give, without writing (``journeytui.domain.preview``)."""
    from journeytui.domain.preview import preview as exact_preview

    return exact_preview(store, j, **options)


# -- who is in a stage ---------------------------------------------------------------
@dataclass(frozen=True)
class StageContact:
    contact_id: int
    email: str
    first_name: str
    last_name: str
    stage: str
    since: int | None
    days_in_stage: float | None
    stalled: bool


def iter_stage_contacts(
    store: Store, name: str, stage: str, *, stall_days: int = DEFAULT_STALL_DAYS,
    stalled_only: bool = False,
) -> Iterator[StageContact]:
    """Contacts currently in *stage* (longest there first), read as they are used:
    reads over the stage's index, nothing held.  A wrong journey or stage is said at
    the call, before any row."""
    read = stage_read(store, name, stage, stall_days)
    now, limit = read.now, read.stall_before
    rows = in_stage_order(
        store.conn, lambda since: ["p.contact_id", "c.email", "c.first_name", "c.last_name",
                                   since], read, stalled_only)

    def contacts() -> Iterator[StageContact]:
        for cid, email, first, last, since in rows:
            is_stalled = limit is not None and since is not None and since < limit
            days = None if since is None else round((now - since) / DAY, 1)
            yield StageContact(cid, email, first, last, stage, since, days, is_stalled)

    return contacts()


def stage_contacts(
    store: Store, name: str, stage: str, *, stall_days: int = DEFAULT_STALL_DAYS,
    stalled_only: bool = False,
) -> list[StageContact]:
    """Contacts currently in *stage* (longest there first), as a list."""
    return list(iter_stage_contacts(store, name, stage, stall_days=stall_days,
                                    stalled_only=stalled_only))


# -- a stage's list, one keyset page at a time (the Journeys pane) --------------------
@dataclass(frozen=True)
class StageMember:
    """A contact in a stage, as a list shows it."""

    contact_id: int
    name: str
    address: str
    since: int | None


STAGE_SORTS = ("longest", "newest", "name")


def count_in_stage(store: Store, jid: int, stage: str, before: int | None) -> int:
    """How many contacts are in *stage* of journey *jid* (in it since before *before*
    only, when given: the stalled ones)."""
    sql = "SELECT count(*) FROM journey_positions WHERE journey_id = ? AND stage = ?"
    args: list[Any] = [jid, stage]
    if before is not None:
        sql += " AND since < ?"
        args.append(before)
    return int(store.conn.execute(sql, args).fetchone()[0])


def stage_page(
    store: Store, jid: int, stage: str, *, before: int | None, sort: str,
    after: Any | None, limit: int, backwards: bool = False,
) -> list[tuple[Any, StageMember]]:
    """One keyset page of the contacts now in *stage* (stalled only: *before*);
    returns (key, contact) pairs, the key to pass as *after* for the next page.

    *sort*: one of :data:`STAGE_SORTS`.  *backwards*: the *limit* rows just before key
    *after* (the last rows when it is None), in the list's order — so the end of a
    long list is one read.  Ordered by ``since`` and the contact id as they are, so the
    stage index serves every page (no sort of the whole stage).
    """
    conn = store.conn
    # The evaluation time (what a "since" stored as "at the evaluation time" reads as),
    # and whether anyone is in the stage since then.
    row = conn.execute(
        "SELECT evaluated_at, EXISTS (SELECT 1 FROM journey_positions INDEXED BY"
        " journey_positions_stage WHERE journey_id = ? AND stage = ? AND since = ?)"
        " FROM journey_progress WHERE journey_id = ?",
        (jid, stage, AT_EVALUATION, jid)).fetchone()
    now, any_at_now = (int(row[0]), bool(row[1])) if row else (0, False)
    where = "p.journey_id = ? AND p.stage = ?"
    args: list[Any] = [jid, stage]
    if before is not None:
        where += " AND p.since < ?"
        args.append(before)
    select = ("SELECT {key}, p.contact_id, trim(c.first_name || ' ' || c.last_name),"
              " c.email, p.since FROM journey_positions p JOIN contacts c"
              " ON c.id = p.contact_id WHERE {where} ORDER BY {order} LIMIT ?")
    if sort == "name":
        key = "lower(c.first_name || ' ' || c.last_name)"
        direction = "DESC" if backwards else "ASC"
        if after is not None:
            where += f" AND ({key}, p.contact_id) {'>' if direction == 'ASC' else '<'} (?, ?)"
            args.extend(after)
        found = conn.execute(select.format(
            key=key, where=where, order=f"{key} {direction}, p.contact_id {direction}"),
            [*args, limit]).fetchall()
    else:
        ascending = (sort != "newest") != backwards
        direction = "ASC" if ascending else "DESC"
        op = ">" if ascending else "<"
        # Those in it since the evaluation time (stored as such) sort as "now": a read
        # of each kind in the stage index's order, merged.
        timed_where = where + f" AND p.since < {AT_EVALUATION}"
        timed_args = list(args)
        if after is not None:
            timed_where += f" AND (p.since, p.contact_id) {op} (?, ?)"
            timed_args.extend(after)
        found = conn.execute(select.format(
            key="p.since", where=timed_where,
            order=f"p.since {direction}, p.contact_id {direction}"),
            [*timed_args, limit]).fetchall()
        now_where = where + f" AND p.since = {AT_EVALUATION}"
        now_args = list(args)
        wanted = any_at_now
        if after is not None and wanted:
            k, c = after
            if k == now:
                now_where += f" AND p.contact_id {op} ?"
                now_args.append(c)
            else:
                wanted = (now > k) == ascending
        if wanted:
            found.extend((now, *r[1:]) for r in conn.execute(select.format(
                key="p.since", where=now_where, order=f"p.contact_id {direction}"),
                [*now_args, limit]))
            found.sort(key=itemgetter(0, 1), reverse=not ascending)
            del found[limit:]
    rows = [
        ((k, cid), StageMember(cid, name or "", address or "", resolved(since, now)))
        for k, cid, name, address, since in found
    ]
    return rows[::-1] if backwards else rows


def iter_stage_members(
    store: Store, jid: int, stage: str, *, before: int | None, sort: str, page: int = 2000,
) -> Iterator[StageMember]:
    """Every contact in *stage*, in the list's order, a keyset page at a time."""
    after = None
    while True:
        rows = stage_page(store, jid, stage, before=before, sort=sort, after=after,
                          limit=page)
        for _, c in rows:
            yield c
        if len(rows) < page:
            return
        after = rows[-1][0]


def _csv_row(r: StageContact) -> list[object]:
    return [csv_cell(r.email), csv_cell(r.first_name), csv_cell(r.last_name),
            csv_cell(r.stage), iso_time(r.since) or "", r.days_in_stage,
            "yes" if r.stalled else "no"]


def write_contacts_csv(rows: Iterable[StageContact], out: IO[str]) -> int:
    """Write *rows* as CSV to *out* as they come; returns how many."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_HEADER)
    n = 0
    for r in rows:
        w.writerow(_csv_row(r))
        n += 1
    return n


def contacts_csv(rows: Iterable[StageContact]) -> str:
    buf = io.StringIO()
    write_contacts_csv(rows, buf)
    return buf.getvalue()

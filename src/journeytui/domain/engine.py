"""The journey engine: replays consented contacts' events and records every move.

Rules (PRODUCT.md §4), as built here — copy to the README:

* **What it reads.**  Contact activities (``activities``: consented contacts only —
  a click by a contact without tracking consent is never there, so it never moves
  anyone), minus machine opens and suspected bot clicks; the send log (``sends``)
  of contacts that have activities, for "no click in the last N campaigns"; and, at
  evaluation time, the current subscription state (``contacts.unsubscribed_all``,
  ``subscriptions``).  Every send counts as a campaign received, whatever its
  delivery status.  A contact with no activity is in no journey.
* **Order.**  Each contact's events in time order; events of the same second in
  row-id order (so one indexed scan per table, merged, gives the order).
* **Entry.**  A contact enters the first stage at its first *activity* (never a
  send) at which the journey's ``entry`` condition holds (default: any open or
  click).  Its history before that still counts for later conditions.
* **Moves.**  After each event the transitions out of the current stage, and those
  "from any stage" (which apply in every main-line stage, not in exit stages), are
  tried in ascending priority, ties in definition order; the first that holds moves
  the contact.  The new stage's transitions are then tried at the same event, so
  one event can carry a contact several steps (never back to a stage already
  visited at that event).  Each move records its time and the triggering event —
  the activity, or the send for an inactivity check — and so the email.
* **Conditions** are facts about the history up to the check ("has clicked …"),
  optionally within the last D days or only since the contact entered its current
  stage (``since_stage``, strictly after the move, so the event that moved it
  does not count again).
* **Inactivity** ("no click in the last N campaigns received") is judged at every
  send — over the N campaigns received *before* that one, which have had their
  chance — and at evaluation time over the N latest campaigns.  Any click clears
  the verdict taken at the last send.
* **Evaluation time** ("now") is a parameter; by default the time of the latest
  activity or send in the store, so the same data always give the same stages.  At
  "now" every contact's transitions are tried once more (inactivity, windows, and
  the current subscription state such as an unsubscribe from all recorded without
  consent).  Those moves are *provisional* (``journey_moves.provisional = 1``): the
  next evaluation or advance redoes them, which is what keeps an incremental
  advance equal to a full replay.
* **Incremental.**  :func:`advance` (and :func:`advance_all`, for after an import)
  continues each contact from its stored state with the activities and sends added
  since the last run (high-water marks of ``activities.id`` / ``sends.id`` per
  journey).  A contact whose new events are older than what was already processed
  for it, or that has no state yet, is replayed from its first event.  A changed
  definition, or states stored by another engine (``STATE_FORMAT``), replay the
  journey fully.
* **Known limits.**  After a contact revokes consent its clicks are no longer seen
  while campaigns keep being sent, so an inactivity exit can follow.  Forgetting a
  contact deletes its positions and moves (the per-stage click counters, which name
  no contact, keep its clicks until the journey is evaluated again).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from journeytui.domain.compiler import (
    LAST_AT,
    LAST_ID,
    LAST_SRC,
    SINCE,
    STAGE,
    Compiled,
    compile_journey,
)
from journeytui.domain.journey_model import Journey
from journeytui.store import Store

# The layout of the stored per-contact states (journeytui.domain.compiler).  Change it
# whenever that layout changes: stores evaluated with another one are replayed fully.
STATE_FORMAT = "1"

# move: (contact, from_stage, to_stage, transition, at, activity_id, send_id, email_id,
#        provisional)  — stage indexes, from_stage -1 = entry, transition 0 = entry
Move = tuple[int, int, int, int, int, int | None, int | None, int | None, int]

_ACT_COLS = "contact_id, at, 1, id, kind, email_id, link_id, list_id, value"
_SEND_COLS = "contact_id, at, 0, id, 'send', email_id, NULL, NULL, NULL"
_ACT_WHERE = "machine = 0 AND bot = 0"
_SEND_WHERE = "contact_id IN (SELECT contact_id FROM activities)"

EVENTS_SQL = (
    f"SELECT {_ACT_COLS} FROM activities WHERE {_ACT_WHERE} AND id <= :ahwm"
    f" UNION ALL SELECT {_SEND_COLS} FROM sends WHERE {_SEND_WHERE} AND id <= :shwm"
    " ORDER BY 1, 2, 4, 3"
)
NEW_EVENTS_SQL = (
    f"SELECT {_ACT_COLS} FROM activities WHERE {_ACT_WHERE}"
    " AND id > :a0 AND id <= :ahwm"
    f" UNION ALL SELECT {_SEND_COLS} FROM sends WHERE {_SEND_WHERE}"
    " AND id > :s0 AND id <= :shwm"
    " ORDER BY 1, 2, 4, 3"
)
CONTACT_EVENTS_SQL = (
    f"SELECT {_ACT_COLS} FROM activities WHERE {_ACT_WHERE}"
    " AND contact_id = :c AND id <= :ahwm"
    f" UNION ALL SELECT {_SEND_COLS} FROM sends WHERE contact_id = :c AND id <= :shwm"
    " ORDER BY 1, 2, 4, 3"
)


def default_now(conn: sqlite3.Connection) -> int:
    """The evaluation time by default: the latest activity or send in the store."""
    row = conn.execute(
        "SELECT max(coalesce((SELECT max(at) FROM activities), 0),"
        " coalesce((SELECT max(at) FROM sends), 0))"
    ).fetchone()
    return int(row[0] or 0)


def high_water(conn: sqlite3.Connection) -> tuple[int, int]:
    a = conn.execute("SELECT coalesce(max(id), 0) FROM activities").fetchone()[0]
    s = conn.execute("SELECT coalesce(max(id), 0) FROM sends").fetchone()[0]
    return int(a), int(s)


def load_final_context(c: Compiled, conn: sqlite3.Connection) -> None:
    fc = c.final
    fc.unsub_all = dict(conn.execute(
        "SELECT id, coalesce(unsubscribed_all_at, 0) FROM contacts WHERE unsubscribed_all = 1"
    ).fetchall())
    lists: dict[int, dict[int, int]] = {}
    for cid, lid, at in conn.execute(
        "SELECT contact_id, list_id, changed_at FROM subscriptions WHERE status = 'unsubscribed'"
    ):
        lists.setdefault(cid, {})[lid] = at
    fc.unsub_lists = lists


# -- the replay ------------------------------------------------------------------------
@dataclass
class Replay:
    """What a run produced (in memory): moves, post-"now" positions, click stats."""

    compiled: Compiled
    now: int
    moves: list[Move] = field(default_factory=list)
    # contact -> (stage index or -1, since or None)
    positions: dict[int, tuple[int, int | None]] = field(default_factory=dict)
    # contact -> pre-"now" state (only when states are kept)
    states: dict[int, list[Any]] = field(default_factory=dict)
    # (stage index, email id) -> [clicks, clicks that moved the contact]
    clicks: dict[tuple[int, int], list[int]] = field(default_factory=dict)


class Runner:
    """Feeds events to per-contact states (the hot loop: tuples and closures only)."""

    def __init__(self, c: Compiled, now: int, *, keep_states: bool = True) -> None:
        self.c = c
        self.now = now
        self.keep_states = keep_states
        self.out = Replay(c, now)

    # One contact's events, *st* already holding its state before them.
    def feed(self, cid: int, st: list[Any], rows: Iterable[tuple[Any, ...]]) -> None:
        c = self.c
        updaters = c.updaters
        by_kind = c.by_kind
        entry = c.entry
        entry_kinds = c.entry_kinds
        moves = self.out.moves
        clicks = self.out.clicks
        chain = self._chain
        nothing: tuple[Any, ...] = ()
        row = None
        for row in rows:
            kind = row[4]
            t = row[1]
            for upd in updaters.get(kind, nothing):
                upd(st, row)
            stage = st[STAGE]
            if stage < 0:
                if kind == "send" or (entry_kinds is not None and kind not in entry_kinds):
                    continue
                if not entry(st, t, False):
                    continue
                stage = st[STAGE] = 0
                st[SINCE] = t
                moves.append((cid, -1, 0, 0, t, row[3], None, row[5], 0))
                n0 = len(moves)
                chain(cid, st, t, row, 0, None)
            else:
                n0 = len(moves)
                for pred, to, num in by_kind[stage].get(kind, nothing):
                    if pred(st, t, False):
                        chain(cid, st, t, row, to, num)
                        break
            if kind == "click" and row[5] is not None:
                key = (stage, row[5])
                counts = clicks.get(key)
                if counts is None:
                    counts = clicks[key] = [0, 0]
                counts[0] += 1
                if len(moves) > n0:
                    counts[1] += 1
        if row is not None:
            st[LAST_AT] = row[1]
            st[LAST_SRC] = row[2]
            st[LAST_ID] = row[3]

    def _chain(
        self, cid: int, st: list[Any], t: int, row: tuple[Any, ...] | None, to: int,
        num: int | None,
    ) -> None:
        """Move to *to* by transition *num* (None: already there), then keep trying the
        new stage's transitions at the same check point, never revisiting a stage."""
        out = self.c.out
        moves = self.out.moves
        final = row is None
        stage = st[STAGE]
        visited = {stage}
        while True:
            if num is not None:
                if row is None:
                    moves.append((cid, stage, to, num, t, None, None, None, 1))
                elif row[2] == 1:
                    moves.append((cid, stage, to, num, t, row[3], None, row[5], 0))
                else:
                    moves.append((cid, stage, to, num, t, None, row[3], row[5], 0))
                visited.add(to)
                st[STAGE] = stage = to
                st[SINCE] = t
            num = None
            for pred, nxt, n, _ in out[stage]:
                if nxt not in visited and pred(st, t, final):
                    to, num = nxt, n
                    break
            if num is None:
                return

    def finish(self, cid: int, st: list[Any]) -> None:
        """The check at evaluation time (provisional moves); remembers the position."""
        stage, since = st[STAGE], st[SINCE]
        if stage >= 0 and self.c.out[stage]:
            self.c.final.contact = cid
            self._chain(cid, st, self.now, None, stage, None)
        self.out.positions[cid] = (st[STAGE], st[SINCE])
        st[STAGE], st[SINCE] = stage, since
        if self.keep_states:
            self.out.states[cid] = st


def _by_contact(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
    return groupby(rows, key=itemgetter(0))  # type: ignore[return-value]


# Small stores: the event rows of the last full read are kept, so that a live preview
# (the TUI editor re-evaluates on every change) only pays for the Python part.  The key
# changes with any commit on this connection or another one.
CACHE_MAX_ROWS = 300_000
_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def _events(conn: sqlite3.Connection, ahwm: int, shwm: int) -> Iterable[tuple[Any, ...]]:
    params = {"ahwm": ahwm, "shwm": shwm}
    if ahwm + shwm > CACHE_MAX_ROWS:
        return conn.execute(EVENTS_SQL, params)
    key = (id(conn), conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes,
           ahwm, shwm)
    with _cache_lock:  # the TUI's worker threads share this cache
        if _cache.get("key") != key or _cache.get("conn") is not conn:
            rows = conn.execute(EVENTS_SQL, params).fetchall()
            _cache.clear()
            _cache.update(key=key, conn=conn, rows=rows)
        return _cache["rows"]  # type: ignore[no-any-return]


def replay(
    conn: sqlite3.Connection,
    j: Journey,
    *,
    now: int | None = None,
    hwm: tuple[int, int] | None = None,
    keep_states: bool = True,
) -> Replay:
    """Full replay of *j* over the store, in memory (nothing is written)."""
    c = compile_journey(j, conn)
    if now is None:
        now = default_now(conn)
    ahwm, shwm = hwm if hwm is not None else high_water(conn)
    load_final_context(c, conn)
    runner = Runner(c, now, keep_states=keep_states)
    new_state = c.new_state
    for cid, rows in _by_contact(_events(conn, ahwm, shwm)):
        st = new_state()
        runner.feed(cid, st, rows)
        runner.finish(cid, st)
    return runner.out


# -- persistence -----------------------------------------------------------------------
def _journey_row(conn: sqlite3.Connection, name: str) -> tuple[int, int, Journey]:
    from journeytui.domain.journeys import JourneyNotFound, _from_definition

    row = conn.execute(
        "SELECT id, version, definition FROM journeys WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        raise JourneyNotFound(name, conn)
    return int(row[0]), int(row[1]), _from_definition(row[2], name)


def _write_moves(conn: sqlite3.Connection, jid: int, c: Compiled, moves: list[Move]) -> None:
    names = c.stage_names
    conn.executemany(
        "INSERT INTO journey_moves(journey_id, contact_id, from_stage, to_stage, transition,"
        " at, activity_id, send_id, email_id, provisional) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (jid, m[0], names[m[1]] if m[1] >= 0 else None, names[m[2]], m[3] or None,
             m[4], m[5], m[6], m[7], m[8])
            for m in moves
        ],
    )


_dump_state = json.JSONEncoder(separators=(",", ":")).encode


def _write_clicks(
    conn: sqlite3.Connection, jid: int, c: Compiled, clicks: dict[tuple[int, int], list[int]],
    sign: int = 1,
) -> None:
    names = c.stage_names
    conn.executemany(
        "INSERT INTO journey_click_stats(journey_id, stage, email_id, clicks, moved)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(journey_id, stage, email_id) DO UPDATE SET"
        " clicks = clicks + excluded.clicks, moved = moved + excluded.moved",
        [(jid, names[s], e, sign * v[0], sign * v[1]) for (s, e), v in clicks.items()],
    )


def evaluate(store: Store, name: str, *, now: int | None = None) -> Replay:
    """Full re-evaluation of journey *name*; replaces its positions and moves."""
    with store.transaction() as conn:
        jid, version, j = _journey_row(conn, name)
        return _evaluate_full(conn, jid, version, j, now)


def _evaluate_full(
    conn: sqlite3.Connection, jid: int, version: int, j: Journey, now: int | None
) -> Replay:
    hwm = high_water(conn)
    if now is None:
        now = default_now(conn)
    r = replay(conn, j, now=now, hwm=hwm)
    c = r.compiled
    names = c.stage_names
    for table in ("journey_moves", "journey_positions", "journey_click_stats"):
        conn.execute(f"DELETE FROM {table} WHERE journey_id = ?", (jid,))
    _write_moves(conn, jid, c, r.moves)
    conn.executemany(
        "INSERT INTO journey_positions(journey_id, contact_id, stage, since, state)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (jid, cid, names[pos[0]] if pos[0] >= 0 else None, pos[1],
             _dump_state(r.states[cid]))
            for cid, pos in r.positions.items()
        ],
    )
    _write_clicks(conn, jid, c, r.clicks)
    _set_progress(conn, jid, version, hwm, now)
    return r


def _set_progress(
    conn: sqlite3.Connection, jid: int, version: int, hwm: tuple[int, int], now: int
) -> None:
    conn.execute(
        "INSERT INTO journey_progress(journey_id, version, activity_hwm, send_hwm, evaluated_at,"
        " engine) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(journey_id) DO UPDATE SET"
        " version = excluded.version, activity_hwm = excluded.activity_hwm,"
        " send_hwm = excluded.send_hwm, evaluated_at = excluded.evaluated_at,"
        " engine = excluded.engine",
        (jid, version, hwm[0], hwm[1], now, STATE_FORMAT),
    )


@dataclass
class AdvanceReport:
    journey: str
    full: bool
    contacts_advanced: int
    contacts_replayed: int
    moves: int


def advance(store: Store, name: str, *, now: int | None = None) -> AdvanceReport:
    """Continue journey *name* with the events added since its last evaluation."""
    with store.transaction() as conn:
        jid, version, j = _journey_row(conn, name)
        prog = conn.execute(
            "SELECT version, activity_hwm, send_hwm, engine FROM journey_progress"
            " WHERE journey_id = ?", (jid,),
        ).fetchone()
        if prog is None or prog[0] != version or prog[3] != STATE_FORMAT:
            r = _evaluate_full(conn, jid, version, j, now)
            return AdvanceReport(j.name, True, len(r.positions), len(r.positions), len(r.moves))
        return _advance(conn, jid, version, j, (prog[1], prog[2]), now)


def _advance(
    conn: sqlite3.Connection, jid: int, version: int, j: Journey, old: tuple[int, int],
    now: int | None,
) -> AdvanceReport:
    hwm = high_water(conn)
    if now is None:
        now = default_now(conn)
    c = compile_journey(j, conn)
    load_final_context(c, conn)
    names = c.stage_names
    conn.execute("DELETE FROM journey_moves WHERE journey_id = ? AND provisional = 1", (jid,))
    runner = Runner(c, now, keep_states=False)
    new_rows = conn.execute(
        NEW_EVENTS_SQL, {"a0": old[0], "ahwm": hwm[0], "s0": old[1], "shwm": hwm[1]}
    ).fetchall()
    stored: dict[int, tuple[str | None, int | None, str]] = {
        cid: (stage, since, state)
        for cid, stage, since, state in conn.execute(
            "SELECT contact_id, stage, since, state FROM journey_positions WHERE journey_id = ?",
            (jid,),
        )
    }
    touched: dict[int, list[Any]] = {}
    replayed = 0
    old_params = {"ahwm": old[0], "shwm": old[1]}
    new_params = {"ahwm": hwm[0], "shwm": hwm[1]}
    for cid, group in _by_contact(new_rows):
        rows = list(group)
        prev = stored.get(cid)
        st = json.loads(prev[2]) if prev is not None else None
        if st is not None and (rows[0][1], rows[0][3], rows[0][2]) > (
            st[LAST_AT], st[LAST_ID], st[LAST_SRC]
        ):
            runner.feed(cid, st, rows)
        else:
            # Late events, or a contact new to the journey: replay it from the start.
            replayed += 1
            if st is not None:
                undo = Runner(c, now, keep_states=False)
                undo.feed(cid, c.new_state(),
                          conn.execute(CONTACT_EVENTS_SQL, {"c": cid, **old_params}))
                _write_clicks(conn, jid, c, undo.out.clicks, sign=-1)
                conn.execute(
                    "DELETE FROM journey_moves WHERE journey_id = ? AND contact_id = ?",
                    (jid, cid),
                )
            st = c.new_state()
            runner.feed(cid, st, conn.execute(CONTACT_EVENTS_SQL, {"c": cid, **new_params}))
        touched[cid] = st
    # The check at the new evaluation time, for every contact.
    for cid, (_, _, state) in stored.items():
        if cid not in touched:
            runner.finish(cid, json.loads(state))
    for cid, st in touched.items():
        runner.finish(cid, st)
    r = runner.out
    _write_moves(conn, jid, c, r.moves)
    _write_clicks(conn, jid, c, r.clicks)
    upsert = []
    update = []
    for cid, (stage, since) in r.positions.items():
        stage_name = names[stage] if stage >= 0 else None
        if cid in touched:
            upsert.append((jid, cid, stage_name, since, _dump_state(touched[cid])))
        else:
            prev = stored[cid]
            if prev[0] != stage_name or prev[1] != since:
                update.append((stage_name, since, jid, cid))
    conn.executemany(
        "INSERT INTO journey_positions(journey_id, contact_id, stage, since, state)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(journey_id, contact_id) DO UPDATE SET"
        " stage = excluded.stage, since = excluded.since, state = excluded.state",
        upsert,
    )
    conn.executemany(
        "UPDATE journey_positions SET stage = ?, since = ? WHERE journey_id = ? AND contact_id = ?",
        update,
    )
    _set_progress(conn, jid, version, hwm, now)
    return AdvanceReport(j.name, False, len(touched), replayed, len(r.moves))


def advance_all(store: Store, *, now: int | None = None) -> list[AdvanceReport]:
    """After any import: advance every journey (one transaction each)."""
    names = [r[0] for r in store.conn.execute("SELECT name FROM journeys ORDER BY name")]
    return [advance(store, n, now=now) for n in names]


def evaluate_all(store: Store, *, now: int | None = None) -> list[Replay]:
    names = [r[0] for r in store.conn.execute("SELECT name FROM journeys ORDER BY name")]
    return [evaluate(store, n, now=now) for n in names]

"""The journey engine: replays consented contacts' events and records every move.

Rules (PRODUCT.md §4), as built here — the README's "Journeys" section says the same:

* **What it reads.**  Contact activities (``activities``: consented contacts only —
  a click by a contact without tracking consent is never there, so it never moves
  anyone), minus machine opens and suspected bot clicks; and, for contacts that have
  activities, the delivered sends (``sends.status = 'delivered'``: a bounced or
  dropped send is not a campaign received, nor a check point) and every subscription
  change (``subscription_changes``: unsubscribe, resubscribe, spam report — with or
  without consent).  A contact with no activity is in no journey.
* **Order.**  Each contact's events in time order; events of the same second in
  row-id order (each table has its own ids; equal ids: the send, then the activity,
  then the subscription change).
* **Entry.**  A contact enters the first stage at its first *activity* at which the
  journey's ``entry`` condition holds (default: any open or click) — never at a send,
  nor at a subscription change recorded without consent (one recorded with consent
  is the contact's unsubscribe or spam activity, and counts as that activity).  Its
  history before that still counts for later conditions.
* **Moves (the cascade).**  After each event the transitions out of the current
  stage, and those "from any stage" (which apply in every main-line stage, not in
  exit stages), are tried in ascending priority, ties in definition order; the first
  that holds moves the contact, and the same is tried from the new stage, until none
  holds or the next move would re-enter a stage already visited at this event.
  Every transition is tried at every event, whatever its kind; the engine skips only
  those that provably cannot hold (a condition without ``not`` whose event kinds did
  not occur, when the last cascade was not cut: time only makes facts false).  Each
  move records its time and the triggering event — the activity, the send (an
  inactivity check), or nothing for a subscription change without consent and for
  the check at evaluation time — and so the email (a subscription change names its
  email only with consent).
* **Conditions** are facts about the history up to the check ("has clicked …"),
  optionally within the last D days or only since the contact entered its current
  stage (``since_stage``, strictly after the move, so the event that moved it
  does not count again).  ``unsubscribed`` reads the subscription *state* at that
  moment: an unsubscribe from the list (or from all lists) makes it true, a
  resubscribe to that list makes it false again; unsubscribed from all beats every
  list (a resubscribe to one list leaves it).  ``reported_spam`` holds from the
  report on (with or without consent; "reported email X" only with consent, as the
  email is not kept otherwise).
* **Inactivity** ("no click in the last N campaigns received") is judged at every
  delivered send — over the N campaigns received *before* that one, which have had
  their chance — and at evaluation time over the N latest campaigns received.  Any
  click clears the verdict taken at the last send.
* **Evaluation time** ("now") is a parameter; by default the time of the latest
  activity, send or subscription change in the store, so the same data always give
  the same stages.  At "now" every contact's transitions are tried once more
  (inactivity, windows, ``not``).  Those moves are *provisional*
  (``journey_moves.provisional = 1``): the next evaluation or advance redoes them,
  which is what keeps an incremental advance equal to a full replay.  Their time, and
  the ``since`` of a position one of them decides, are stored as "at the evaluation
  time" (``journeytui.store.evaluation_time``): an advance to a later time leaves
  the moves of the contacts it does not touch as they are.
* **Incremental.**  :func:`advance` (and :func:`advance_all`, for after an import)
  continues each contact from its stored state with the activities, sends and
  subscription changes added since the last run (high-water marks per journey, kept
  in ``journey_progress``).  A contact is replayed from its first event (its share of
  the click counters taken back first) when it has no state yet, when new events are
  older than what was already processed for it, or when a row already processed
  changed in place since (a send bounced, was dropped or got an earlier time; an
  activity or subscription change was removed): SQL triggers note such contacts in
  ``changed_contacts`` with a sequence number, so an advance reads exactly them — and
  the new events' contacts, and those whose time window closes before the new "now"
  (``journey_positions.recheck_at``) — and no other contact's state.  A changed
  definition, or states stored by another engine (``STATE_FORMAT``), replay the
  journey fully.
* **Writing.**  A full evaluation streams: each contact's moves, position and
  state are written in batches (:data:`BATCH_MOVES` moves) as contacts finish, and
  the journey's funnel counts (:class:`journeytui.domain.funnel.Tally`) are built on
  the way; an advance takes back and adds again the share of the contacts it
  touches.  Deleting the newest row of an event table (a forgotten contact) lets
  SQLite reuse its id below the high-water marks: an advance that has not seen that
  deletion (``freed_ids``) replays the journey fully.
* **Known limits.**  After a contact revokes consent its clicks are no longer seen
  while campaigns keep being sent, so an inactivity exit can follow.  Forgetting a
  contact deletes its positions and moves (the per-stage click counters, which name
  no contact, keep its clicks until the journey is evaluated again).  Events later
  than an evaluation time given by hand are still replayed (``--now`` sets when the
  final check happens, not a cut-off).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from journeytui.domain.compiler import (
    CLICKS,
    CUT,
    LAST_AT,
    LAST_ID,
    LAST_SRC,
    SENDS,
    SINCE,
    STAGE,
    Compiled,
    compile_journey,
)
from journeytui.domain.funnel import (
    Tally,
    load_tally,
    rebuild_tally,
    save_tally,
    stored_moves,
    write_steps,
)
from journeytui.domain.journey_model import Journey
from journeytui.store import Store
from journeytui.store.evaluation_time import AT_EVALUATION

# The layout of the stored per-contact states (journeytui.domain.compiler).  Change it
# whenever that layout changes: stores evaluated with another one are replayed fully.
STATE_FORMAT = "4"

# move: (contact, from_stage, to_stage, transition, at, activity_id, send_id, email_id,
#        provisional)  — stage indexes, from_stage -1 = entry, transition 0 = entry
Move = tuple[int, int, int, int, int, int | None, int | None, int | None, int]
# High-water marks: the largest activities.id, sends.id and subscription_changes.id read.
Hwm = tuple[int, int, int]

# The event rows (journeytui.domain.compiler): contact activities without machine
# opens and suspected bot clicks (unsubscribes and spam reports come as subscription
# changes instead, with the activity's id when there is one); delivered sends and
# subscription changes of contacts with activities.
_ACT = ("SELECT contact_id, at, 1, id, kind, email_id, link_id, list_id, value"
        " FROM activities WHERE machine = 0 AND bot = 0"
        " AND kind != 'unsubscribe' AND kind != 'spam'")
_SEND = ("SELECT contact_id, at, 0, id, 'send', email_id, NULL, NULL, NULL"
         " FROM sends WHERE status = 'delivered'")
_CHANGE = ("SELECT s.contact_id, s.at, 2, s.id, s.kind, s.email_id, NULL, s.list_id,"
           " (SELECT min(a.id) FROM activities a WHERE a.contact_id = s.contact_id"
           " AND a.at = s.at AND a.kind = s.kind AND a.list_id IS s.list_id"
           " AND a.email_id IS s.email_id)"
           " FROM subscription_changes s WHERE 1")
_HAS_ACTIVITY = "contact_id IN (SELECT contact_id FROM activities)"
# (few rows: a lookup each is cheaper than the list of every contact with activities)
_CHANGE_HAS_ACTIVITY = "EXISTS (SELECT 1 FROM activities x WHERE x.contact_id = s.contact_id)"
_ORDER = " ORDER BY 1, 2, 4, 3"

# A full replay reads the (few) subscription changes apart and merges them per contact:
# cheaper than a three-way merge of every row in SQL.
EVENTS_SQL = (
    f"{_ACT} AND id <= :ahwm"
    f" UNION ALL {_SEND} AND {_HAS_ACTIVITY} AND id <= :shwm" + _ORDER
)
CHANGES_SQL = f"{_CHANGE} AND {_CHANGE_HAS_ACTIVITY} AND s.id <= :chwm ORDER BY 1, 2, 4"
_ROW_ORDER = itemgetter(1, 3, 2)  # within a contact: at, id, src (as _ORDER)
NEW_EVENTS_SQL = (
    f"{_ACT} AND id > :a0 AND id <= :ahwm"
    f" UNION ALL {_SEND} AND {_HAS_ACTIVITY} AND id > :s0 AND id <= :shwm"
    f" UNION ALL {_CHANGE} AND {_CHANGE_HAS_ACTIVITY} AND s.id > :c0 AND s.id <= :chwm"
    + _ORDER
)
# Few new sends (an import of a webhook batch): look each one's contact up instead of
# listing every contact with activities first.
NEW_EVENTS_FEW_SQL = NEW_EVENTS_SQL.replace(
    f"{_SEND} AND {_HAS_ACTIVITY}",
    f"{_SEND} AND EXISTS (SELECT 1 FROM activities x WHERE x.contact_id = sends.contact_id)",
)
FEW_SENDS = 5_000
CONTACT_EVENTS_SQL = (
    f"{_ACT} AND contact_id = :c AND id <= :ahwm"
    f" UNION ALL {_SEND} AND contact_id = :c AND id <= :shwm"
    f" UNION ALL {_CHANGE} AND s.contact_id = :c AND s.id <= :chwm" + _ORDER
)


def hwm_params(hwm: Hwm) -> dict[str, int]:
    return {"ahwm": hwm[0], "shwm": hwm[1], "chwm": hwm[2]}


def default_now(conn: sqlite3.Connection) -> int:
    """The evaluation time by default: the latest activity, send or subscription change."""
    row = conn.execute(
        "SELECT max(coalesce((SELECT max(at) FROM activities), 0),"
        " coalesce((SELECT max(at) FROM sends), 0),"
        " coalesce((SELECT max(at) FROM subscription_changes), 0))"
    ).fetchone()
    return int(row[0] or 0)


def high_water(conn: sqlite3.Connection) -> Hwm:
    a = conn.execute("SELECT coalesce(max(id), 0) FROM activities").fetchone()[0]
    s = conn.execute("SELECT coalesce(max(id), 0) FROM sends").fetchone()[0]
    c = conn.execute("SELECT coalesce(max(id), 0) FROM subscription_changes").fetchone()[0]
    return int(a), int(s), int(c)


def _ids(row: tuple[Any, ...]) -> tuple[int | None, int | None, int | None]:
    """(activity_id, send_id, email_id) of the event that triggers a move."""
    src = row[2]
    if src == 1:
        return row[3], None, row[5]
    if src == 0:
        return None, row[3], row[5]
    return row[8], None, row[5]


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
        out = c.out
        entry = c.entry
        entry_kinds = c.entry_kinds
        moves = self.out.moves
        clicks = self.out.clicks
        chain = self._chain
        nothing: tuple[Any, ...] = ()
        n_sends = sum_at = 0
        row = None
        for row in rows:
            kind = row[4]
            t = row[1]
            upd = updaters.get(kind)
            if upd is not None:
                upd(st, row)
            if kind == "send":
                n_sends += 1
                sum_at += t
            stage = st[STAGE]
            if stage < 0:
                # Only a contact activity enters (never a send, nor a subscription
                # change recorded without consent).
                if kind == "send" or (row[2] == 2 and row[8] is None) or (
                        entry_kinds is not None and kind not in entry_kinds):
                    continue
                if not entry(st, t, False):
                    continue
                stage = st[STAGE] = 0
                st[SINCE] = t
                moves.append((cid, -1, 0, 0, t, *_ids(row), 0))
                n0 = len(moves)
                chain(cid, st, t, row, 0, None)
                moved = int(len(moves) > n0)  # beyond the entry
            else:
                moved = 0
                if st[CUT]:
                    # A transition may hold since the last cascade was cut: try them
                    # all (none of them leads back to this stage).
                    st[CUT] = 0
                    for pred, to, num, _ in out[stage]:
                        if pred(st, t, False):
                            chain(cid, st, t, row, to, num)
                            moved = 1
                            break
                else:
                    for pred, to, num in by_kind[stage].get(kind, nothing):
                        if pred(st, t, False):
                            chain(cid, st, t, row, to, num)
                            moved = 1
                            break
            if kind == "click" and row[5] is not None:
                key = (stage, row[5])
                counts = clicks.get(key)
                if counts is None:
                    counts = clicks[key] = [0, 0]
                counts[0] += 1
                counts[1] += moved
                for mine in st[CLICKS]:
                    if mine[0] == stage and mine[1] == row[5]:
                        mine[2] += 1
                        mine[3] += moved
                        break
                else:
                    st[CLICKS].append([stage, row[5], 1, moved])
        if row is not None:
            st[LAST_AT] = row[1]
            st[LAST_SRC] = row[2]
            st[LAST_ID] = row[3]
        if n_sends:
            sends = st[SENDS]
            sends[0] += n_sends
            sends[1] += sum_at

    def _chain(
        self, cid: int, st: list[Any], t: int, row: tuple[Any, ...] | None, to: int,
        num: int | None,
    ) -> None:
        """Move to *to* by transition *num* (None: already there), then keep trying the
        current stage's transitions at the same check point, in priority order, until
        none holds or the next would re-enter a stage visited at this check point
        (then ``cut`` is remembered, so that the next event tries them all)."""
        out = self.c.out
        moves = self.out.moves
        final = row is None
        stage = st[STAGE]
        visited = {stage}
        while True:
            if num is not None:
                if row is None:
                    moves.append((cid, stage, to, num, t, None, None, None, 1))
                else:
                    moves.append((cid, stage, to, num, t, *_ids(row), 0))
                visited.add(to)
                st[STAGE] = stage = to
                st[SINCE] = t
            num = None
            cut = 0
            for pred, nxt, n, _ in out[stage]:
                if nxt in visited:
                    cut = 1
                elif pred(st, t, final):
                    to, num = nxt, n
                    break
            if num is None:
                st[CUT] = cut
                return

    def finish(self, cid: int, st: list[Any]) -> None:
        """The check at evaluation time (provisional moves); remembers the position."""
        stage, since, cut = st[STAGE], st[SINCE], st[CUT]
        if stage >= 0 and self.c.out[stage]:
            self._chain(cid, st, self.now, None, stage, None)
        self.out.positions[cid] = (st[STAGE], st[SINCE])
        st[STAGE], st[SINCE], st[CUT] = stage, since, cut
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


Changes = dict[int, list[tuple[Any, ...]]]


def _read(conn: sqlite3.Connection, hwm: Hwm) -> tuple[Iterable[tuple[Any, ...]], Changes]:
    params = hwm_params(hwm)
    changes: Changes = {}
    for row in conn.execute(CHANGES_SQL, params):
        changes.setdefault(row[0], []).append(row)
    return conn.execute(EVENTS_SQL, params), changes


def _events(conn: sqlite3.Connection, hwm: Hwm) -> tuple[Iterable[tuple[Any, ...]], Changes]:
    if sum(hwm) > CACHE_MAX_ROWS:
        return _read(conn, hwm)
    key = (id(conn), conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes,
           hwm)
    with _cache_lock:  # the TUI's worker threads share this cache
        if _cache.get("key") != key or _cache.get("conn") is not conn:
            rows, changes = _read(conn, hwm)
            rows = list(rows)
            _cache.clear()
            _cache.update(key=key, conn=conn, rows=rows, changes=changes)
        return _cache["rows"], _cache["changes"]


def _merged(
    rows: Iterable[tuple[Any, ...]], changes: Changes
) -> Iterator[tuple[int, Iterable[tuple[Any, ...]]]]:
    """Each contact's events in order: *rows* (sorted by contact) with its *changes*."""
    pending = sorted(changes)
    k, end = 0, len(pending)
    for cid, group in _by_contact(rows):
        while k < end and pending[k] < cid:
            yield pending[k], changes[pending[k]]
            k += 1
        if k < end and pending[k] == cid:
            k += 1
            yield cid, sorted([*group, *changes[cid]], key=_ROW_ORDER)
        else:
            yield cid, group
    for cid in pending[k:]:
        yield cid, changes[cid]


def replay(
    conn: sqlite3.Connection,
    j: Journey,
    *,
    now: int | None = None,
    hwm: Hwm | None = None,
    keep_states: bool = True,
) -> Replay:
    """Full replay of *j* over the store, in memory (nothing is written)."""
    c = compile_journey(j, conn)
    if now is None:
        now = default_now(conn)
    if hwm is None:
        hwm = high_water(conn)
    runner = Runner(c, now, keep_states=keep_states)
    new_state = c.new_state
    for cid, rows in _merged(*_events(conn, hwm)):
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
    """Write *moves*; a provisional one's time is stored as "at the evaluation time"
    (:data:`AT_EVALUATION`), so that a later evaluation time changes no move."""
    names = c.stage_names
    conn.executemany(
        "INSERT INTO journey_moves(journey_id, contact_id, from_stage, to_stage, transition,"
        " at, activity_id, send_id, email_id, provisional) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (jid, m[0], names[m[1]] if m[1] >= 0 else None, names[m[2]], m[3] or None,
             AT_EVALUATION if m[8] else m[4], m[5], m[6], m[7], m[8])
            for m in moves
        ],
    )


def _since(cid: int, since: int | None, provisional: set[int]) -> int | None:
    """A position's ``since`` as stored: "at the evaluation time" when a provisional
    move (the check at evaluation time) put the contact in its stage."""
    return AT_EVALUATION if cid in provisional else since


_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _stored_state(
    st: list[Any] | tuple[str, int | None], recheck: Callable[[list[Any], int], int | None],
    now: int,
) -> tuple[str, int | None]:
    """A state's stored text and recheck time; a worker process's replay gives them
    already (a tuple)."""
    if isinstance(st, tuple):
        return st
    return _dump_state(st), recheck(st, now)


def _dump_state(st: list[Any]) -> str:
    """A state as stored: JSON, without its trailing None slots (an advance pads them
    back)."""
    k = len(st)
    while st[k - 1] is None:
        k -= 1
    return _encode(st[:k] if k < len(st) else st)




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


# A full evaluation writes its moves, and the positions and states of the contacts
# they belong to, once it holds this many moves or this many contacts (a journey few
# contacts move in holds states, not moves): memory stays flat whatever the store's
# size.
BATCH_MOVES = 20_000
BATCH_CONTACTS = 5_000
# The page cache of a full evaluation (negative: KiB).
EVALUATION_CACHE_KIB = -65_536
# How often (in contacts) a full evaluation reports its progress.
PROGRESS_EVERY = 2_000

Progress = Callable[[int, int], None]


@dataclass
class Evaluation:
    """What a full evaluation wrote."""

    journey: str
    now: int
    contacts: int  # contacts replayed (with at least one activity)
    in_journey: int  # of them, in a stage as of *now*
    moves: int
    # how the moves were written: batches, and the most moves and contacts (positions
    # and states) held at once
    write_batches: int = 0
    most_in_flight: int = 0
    most_contacts_in_flight: int = 0
    # worker processes the replay was split over (0: replayed in process)
    workers: int = 0


def evaluate(
    store: Store, name: str, *, now: int | None = None, progress: Progress | None = None
) -> Evaluation:
    """Full re-evaluation of journey *name*; replaces its positions, moves and kept
    funnel.  *progress*: called with (contacts done, contacts in all) as it goes."""
    path = _worker_path(store)
    with _large_cache(store), store.transaction() as conn:
        jid, version, j = _journey_row(conn, name)
        return _evaluate_many(conn, [(jid, version, j)], now, progress, path)[0]


def _worker_path(store: Store) -> str | None:
    """The store's file for worker processes to read (see _evaluate_many), when the
    evaluation about to start will be a transaction of its own on a WAL store; else
    None."""
    if store.conn.in_transaction:
        return None
    mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    return str(store.path) if str(mode).lower() == "wal" else None


@contextmanager
def _large_cache(store: Store) -> Iterator[None]:
    """A larger page cache while journeys' rows are rewritten: the index pages of the
    moves and positions stay in memory (fewer spills of a long transaction).  And,
    when the evaluation is a transaction of its own, no foreign-key lookup per row
    written: every id a move, position or counter names comes from a row read in the
    same transaction (the journey, and event rows whose own references were checked
    when they were recorded), and no table refers to the rows rewritten."""
    conn = store.conn
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    own = not conn.in_transaction  # (the pragma cannot change within a transaction)
    conn.execute(f"PRAGMA cache_size = {EVALUATION_CACHE_KIB}")
    if own:
        conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")
        if own:
            conn.execute("PRAGMA foreign_keys = ON")


# A full evaluation that rewrites most of a table's rows (at least this many) drops the
# table's secondary indexes first and builds them again once the rows are written:
# one sort costs less than keeping four indexes current row by row.
REBUILD_INDEXES_FROM = 20_000
_REWRITTEN = ("journey_moves", "journey_positions")


@contextmanager
def _indexes_set_aside(conn: sqlite3.Connection, jids: list[int]) -> Iterator[None]:
    """Drop the secondary indexes of the tables whose rows of journeys *jids* are about
    to be rewritten — when those rows are at least :data:`REBUILD_INDEXES_FROM` and
    outnumber the other journeys' — and create them again (the same SQL) at the end.
    Within the transaction: another connection sees them all along."""
    aside: list[tuple[str, str]] = []
    for table in _REWRITTEN:
        mine = other = 0
        for jid, n in conn.execute(
                f"SELECT journey_id, count(*) FROM {table} GROUP BY journey_id"):
            if jid in jids:
                mine += n
            else:
                other += n
        if mine >= REBUILD_INDEXES_FROM and mine >= other:
            aside += conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql IS NOT NULL ORDER BY name", (table,)).fetchall()
            if not other:
                # every row goes: emptied at once (one row at a time, without the
                # index on the journey, each journey's delete would read them all)
                conn.execute(f"DELETE FROM {table}")
    for name, _ in aside:
        conn.execute(f'DROP INDEX "{name}"')
    ok = False
    try:
        yield
        ok = True
    finally:
        for _, sql in aside:
            if ok:
                conn.execute(sql)
            else:  # failing: the transaction is rolled back (that restores them too)
                try:
                    conn.execute(sql)
                except sqlite3.Error:
                    pass


def contacts_to_evaluate(conn: sqlite3.Connection) -> int:
    """How many contacts a full evaluation replays (those with an activity)."""
    return int(conn.execute("SELECT count(DISTINCT contact_id) FROM activities").fetchone()[0])


class _FullEvaluation:
    """One journey's full evaluation, fed one contact at a time: moves, positions and
    states written every :data:`BATCH_MOVES` moves, the funnel tally built on the way."""

    def __init__(self, conn: sqlite3.Connection, jid: int, version: int, j: Journey,
                 now: int, hwm: Hwm, seq: int) -> None:
        self.conn, self.jid, self.version, self.hwm, self.seq = conn, jid, version, hwm, seq
        self.c = c = compile_journey(j, conn)
        for table in ("journey_moves", "journey_positions", "journey_click_stats",
                      "journey_funnel_steps"):
            conn.execute(f"DELETE FROM {table} WHERE journey_id = ?", (jid,))
        self.runner = Runner(c, now)
        self.tally = Tally(j)
        self.report = Evaluation(j.name, now, 0, 0, 0)
        # contacts (of the batch in memory) in their stage since a provisional move
        self.provisional: set[int] = set()

    def contact(self, cid: int, rows: Iterable[tuple[Any, ...]]) -> None:
        runner = self.runner
        st = self.c.new_state()
        first = len(runner.out.moves)
        runner.feed(cid, st, rows)
        runner.finish(cid, st)
        self.finished(cid, first)

    def replayed(self, cid: int, moves: list[Move], position: tuple[int, int | None],
                 stored: tuple[str, int | None]) -> None:
        """Contact *cid* as a worker process replayed it: its moves, position, and its
        state as stored — text and recheck time (the worker encodes them: the one
        writer has enough to do)."""
        out = self.runner.out
        first = len(out.moves)
        out.moves.extend(moves)
        out.positions[cid] = position
        out.states[cid] = stored  # type: ignore[assignment]
        self.finished(cid, first)

    def merge_clicks(self, clicks: dict[tuple[int, int], list[int]]) -> None:
        """Add a worker's click counters (of the contacts it replayed) to the journey's."""
        mine = self.runner.out.clicks
        for key, (n, moved) in clicks.items():
            counts = mine.get(key)
            if counts is None:
                counts = mine[key] = [0, 0]
            counts[0] += n
            counts[1] += moved

    def finished(self, cid: int, first: int) -> None:
        """Contact *cid* is replayed: its moves (from index *first* on), position and
        state are in the runner's output."""
        runner = self.runner
        moves = runner.out.moves
        if len(moves) > first:
            self.tally.contact(cid, [(m[2], m[3], m[4], m[7], m[8]) for m in moves[first:]])
            if moves[-1][8]:  # in its stage since the check at evaluation time
                self.provisional.add(cid)
        stage = runner.out.positions[cid][0]
        if stage >= 0:
            self.tally.current[stage] += 1
            self.report.in_journey += 1
        self.report.contacts += 1
        if len(moves) >= BATCH_MOVES or len(runner.out.positions) >= BATCH_CONTACTS:
            self.flush()

    def flush(self) -> None:
        conn, jid, c, out, report = self.conn, self.jid, self.c, self.runner.out, self.report
        names, recheck, now = c.stage_names, c.recheck_at, self.runner.now
        moves, positions, states = out.moves, out.positions, out.states
        report.write_batches += 1
        report.most_in_flight = max(report.most_in_flight, len(moves))
        report.most_contacts_in_flight = max(report.most_contacts_in_flight, len(positions))
        report.moves += len(moves)
        _write_moves(conn, jid, c, moves)
        conn.executemany(
            "INSERT INTO journey_positions(journey_id, contact_id, stage, since, state,"
            " recheck_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(jid, cid, names[pos[0]] if pos[0] >= 0 else None,
              _since(cid, pos[1], self.provisional),
              *_stored_state(states[cid], recheck, now))
             for cid, pos in positions.items()],
        )
        write_steps(conn, jid, self.tally)
        moves.clear()
        positions.clear()
        states.clear()
        self.provisional.clear()

    def close(self) -> Evaluation:
        self.flush()
        _write_clicks(self.conn, self.jid, self.c, self.runner.out.clicks)
        _set_progress(self.conn, self.jid, self.version, self.hwm, self.runner.now, self.seq)
        save_tally(self.conn, self.jid, self.tally)
        return self.report


def _evaluate_full(
    conn: sqlite3.Connection, jid: int, version: int, j: Journey, now: int | None,
    progress: Progress | None = None, path: str | None = None,
) -> Evaluation:
    """*path*: as :func:`_evaluate_many` — give it (``_worker_path(store)``, taken
    before the transaction began) only when this transaction has changed no event
    row: a worker reads what is committed."""
    return _evaluate_many(conn, [(jid, version, j)], now, progress, path)[0]


def _evaluate_many(
    conn: sqlite3.Connection, journeys: list[tuple[int, int, Journey]], now: int | None,
    progress: Progress | None = None, path: str | None = None,
) -> list[Evaluation]:
    """Full evaluation of several journeys in one read of the events: each contact's
    rows are fed to every journey in turn.  *path*: the store's file, when the replay
    may be split over worker processes (:mod:`journeytui.domain.replay_workers`: only
    for an evaluation that is a transaction of its own)."""
    if not journeys:
        return []
    hwm = high_water(conn)
    seq = change_seq(conn)
    if now is None:
        now = default_now(conn)
    workers = 0
    if path is not None:
        from journeytui.domain import replay_workers

        workers = replay_workers.workers_for(hwm[0] + hwm[1])
    with _indexes_set_aside(conn, [jid for jid, _, _ in journeys]):
        runs = [_FullEvaluation(conn, jid, version, j, now, hwm, seq)
                for jid, version, j in journeys]
        total = contacts_to_evaluate(conn) if progress is not None else 0
        if progress is not None:
            progress(0, total)
        done = 0
        if workers and path is not None:
            for run in runs:
                run.report.workers = workers
            for parts in replay_workers.replayed(
                    conn, path, [j for _, _, j in journeys], [run.c for run in runs], now,
                    hwm, workers):
                for run, part in zip(runs, parts, strict=True):
                    run.merge_clicks(part.clicks)
                ends = [0] * len(parts)
                for cid in parts[0].positions:
                    for k, (run, part) in enumerate(zip(runs, parts, strict=True)):
                        moves, start = part.moves, ends[k]
                        end = start
                        while end < len(moves) and moves[end][0] == cid:
                            end += 1
                        ends[k] = end
                        run.replayed(cid, moves[start:end], part.positions[cid],
                                     part.states[cid])
                    done += 1
                    if progress is not None and done % PROGRESS_EVERY == 0:
                        progress(min(done, total), max(total, done))
        else:
            for cid, rows in _merged(*_events(conn, hwm)):
                if len(runs) == 1:
                    runs[0].contact(cid, rows)
                else:
                    group = rows if isinstance(rows, list) else list(rows)
                    for run in runs:
                        run.contact(cid, group)
                done += 1
                if progress is not None and done % PROGRESS_EVERY == 0:
                    progress(min(done, total), max(total, done))
        if progress is not None:
            progress(done, max(total, done))
        return [run.close() for run in runs]


def change_seq(conn: sqlite3.Connection) -> int:
    """The latest sequence number of ``changed_contacts`` (sends, activities or
    subscription changes changed in place or deleted)."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM changed_contacts").fetchone()[0])


# journey_progress.engine: "STATE_FORMAT chwm seq" — the state format, the high-water
# mark of subscription_changes.id and of changed_contacts.seq (the table has no
# columns of their own for them).
def _engine_text(hwm: Hwm, seq: int) -> str:
    return f"{STATE_FORMAT} {hwm[2]} {seq}"


def _parse_engine(text: str) -> tuple[int, int] | None:
    parts = text.split()
    if len(parts) != 3 or parts[0] != STATE_FORMAT:
        return None
    try:
        return int(parts[1]), int(parts[2])
    except ValueError:
        return None


def _set_progress(
    conn: sqlite3.Connection, jid: int, version: int, hwm: Hwm, now: int, seq: int,
) -> None:
    conn.execute(
        "INSERT INTO journey_progress(journey_id, version, activity_hwm, send_hwm, evaluated_at,"
        " engine) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(journey_id) DO UPDATE SET"
        " version = excluded.version, activity_hwm = excluded.activity_hwm,"
        " send_hwm = excluded.send_hwm, evaluated_at = excluded.evaluated_at,"
        " engine = excluded.engine",
        (jid, version, hwm[0], hwm[1], now, _engine_text(hwm, seq)),
    )


@dataclass
class AdvanceReport:
    journey: str
    full: bool
    contacts_advanced: int
    contacts_replayed: int
    moves: int
    # stored states read and decoded (the cost an advance should keep to what changed)
    states_read: int = 0


def advance(store: Store, name: str, *, now: int | None = None) -> AdvanceReport:
    """Continue journey *name* with the events added since its last evaluation."""
    with store.transaction() as conn:
        jid, version, j = _journey_row(conn, name)
        prog = conn.execute(
            "SELECT version, activity_hwm, send_hwm, engine, evaluated_at FROM journey_progress"
            " WHERE journey_id = ?", (jid,),
        ).fetchone()
        engine = _parse_engine(prog[3]) if prog is not None else None
        if prog is None or prog[0] != version or engine is None or _ids_freed(
                conn, (prog[1], prog[2], engine[0]), engine[1]):
            r = _evaluate_full(conn, jid, version, j, now)
            return AdvanceReport(j.name, True, r.contacts, r.contacts, r.moves, r.contacts)
        return _advance(conn, jid, version, j, (prog[1], prog[2], engine[0]), engine[1],
                        int(prog[4]), now)


def _ids_freed(conn: sqlite3.Connection, hwm: Hwm, seq: int) -> bool:
    """Whether rows under the high-water marks *hwm* may be new: the newest row of an
    event table was deleted (a forgotten contact) after the journey's last run (a
    deletion is a change: the journey has not seen every change, *seq*), and SQLite
    may have given its id, or a lower one, to a row added since.  The journey is
    replayed fully then."""
    if seq >= change_seq(conn):
        return False
    tops = dict(zip(("activities", "sends", "subscription_changes"), hwm, strict=True))
    return any(below < tops[tbl] for tbl, below in conn.execute(
        "SELECT tbl, below FROM freed_ids"))


# Above this many contacts to read, one pass over the journey's positions beats a
# lookup each.
FEW_CONTACTS = 2_000
_POSITION = "SELECT contact_id, stage, since, state FROM journey_positions WHERE journey_id = ?"


def _advance(
    conn: sqlite3.Connection, jid: int, version: int, j: Journey, old: Hwm,
    old_seq: int, old_now: int, now: int | None,
) -> AdvanceReport:
    hwm = high_water(conn)
    seq = change_seq(conn)
    if now is None:
        now = default_now(conn)
    c = compile_journey(j, conn)
    names = c.stage_names
    runner = Runner(c, now, keep_states=False)
    new_rows = conn.execute(
        NEW_EVENTS_FEW_SQL if hwm[1] - old[1] <= FEW_SENDS else NEW_EVENTS_SQL,
        {"a0": old[0], "s0": old[1], "c0": old[2], **hwm_params(hwm)},
    ).fetchall()
    groups = {cid: list(group) for cid, group in _by_contact(new_rows)}
    del new_rows
    # Contacts one of whose rows changed in place or went away since: replayed.
    changed = {int(r[0]) for r in conn.execute(
        "SELECT contact_id FROM changed_contacts WHERE seq > ?", (old_seq,))}
    # The check at evaluation time decides the same for every other contact unless a
    # window closed in between (recheck_at) or the time went back.
    every = now < old_now
    wanted = set(groups) | changed
    if every or len(wanted) > FEW_CONTACTS:
        rows = [r for r in conn.execute(_POSITION, (jid,)) if every or r[0] in wanted]
    else:
        rows = []
        for cid in sorted(wanted):
            rows.extend(conn.execute(_POSITION + " AND contact_id = ?", (jid, cid)))
    if not every:
        rows.extend(r for r in conn.execute(
            _POSITION + " AND recheck_at IS NOT NULL AND recheck_at < ?", (jid, now))
            if r[0] not in wanted)
    stored: dict[int, tuple[str | None, int | None]] = {}
    states: dict[int, list[Any]] = {}
    size = len(c.new_state())
    # One JSON document for all the states: a decoder call per state costs more.
    for (cid, stage, since, _), st in zip(
        rows, json.loads("[" + ",".join(r[3] for r in rows) + "]"), strict=True
    ):
        stored[cid] = (stage, since)
        if len(st) < size:
            st.extend([None] * (size - len(st)))
        states[cid] = st
    n_read = len(rows)
    del rows
    # Only contacts already in the journey can have changed rows that matter (one
    # without a state had no activity when last seen).
    changed &= set(states)
    for cid in changed:
        groups.setdefault(cid, [])
    # The kept funnel: the share of every contact whose moves or position may change
    # is taken back here and added again once written (the durations that end at the
    # evaluation time are kept as such: a time change touches none of them).  Without
    # a current tally (or when everyone is checked again) it is rebuilt from all moves.
    tally = None if every else load_tally(conn, jid, j)
    taken: set[int] = set()
    if tally is not None:
        taken = set(states) | set(groups)
        for cid, ms in stored_moves(conn, jid, j, taken).items():
            tally.contact(cid, ms, -1)
        index = {n: i for i, n in enumerate(names)}
        for stage, _ in stored.values():
            if stage is not None:
                tally.current[index[stage]] -= 1
    # Provisional moves: redone for the contacts checked again below; the others'
    # moves stand, at the new evaluation time (their time, and the ``since`` of the
    # positions they decide, are stored as "at the evaluation time": nothing to write).
    if every:
        conn.execute("DELETE FROM journey_moves WHERE journey_id = ? AND provisional = 1",
                     (jid,))
    else:
        conn.executemany(
            "DELETE FROM journey_moves WHERE journey_id = ? AND contact_id = ?"
            " AND provisional = 1", [(jid, cid) for cid in sorted(states)])
    touched: dict[int, list[Any]] = {}
    gone: list[int] = []
    replayed = 0
    new_params = hwm_params(hwm)
    for cid in sorted(groups):
        new = groups[cid]
        st = states.get(cid)
        if st is not None and cid not in changed and (new[0][1], new[0][3], new[0][2]) > (
            st[LAST_AT], st[LAST_ID], st[LAST_SRC]
        ):
            runner.feed(cid, st, new)
        else:
            # Late events, changed rows, or a contact new to the journey: replay it
            # from the start (taking back its share of the click counters).
            replayed += 1
            if st is not None:
                _write_clicks(conn, jid, c, {(s, e): [n, m] for s, e, n, m in st[CLICKS]},
                              sign=-1)
                conn.execute(
                    "DELETE FROM journey_moves WHERE journey_id = ? AND contact_id = ?",
                    (jid, cid),
                )
            events = conn.execute(CONTACT_EVENTS_SQL, {"c": cid, **new_params}).fetchall()
            if not events or conn.execute(
                    "SELECT 1 FROM activities WHERE contact_id = ? AND id <= ?",
                    (cid, hwm[0])).fetchone() is None:
                gone.append(cid)  # nothing left to replay: out of the journey
                states.pop(cid, None)
                continue
            st = c.new_state()
            runner.feed(cid, st, events)
        touched[cid] = st
    # The check at the new evaluation time.
    for cid, st in states.items():
        if cid not in touched:
            runner.finish(cid, st)
    for cid, st in touched.items():
        runner.finish(cid, st)
    r = runner.out
    _write_moves(conn, jid, c, r.moves)
    _write_clicks(conn, jid, c, r.clicks)
    conn.executemany("DELETE FROM journey_positions WHERE journey_id = ? AND contact_id = ?",
                     [(jid, cid) for cid in gone])
    upsert = []
    update = []
    recheck = c.recheck_at
    provisional = {m[0] for m in r.moves if m[8]}
    for cid, (stage, since) in r.positions.items():
        stage_name = names[stage] if stage >= 0 else None
        since = _since(cid, since, provisional)
        if cid in touched:
            st = touched[cid]
            upsert.append((jid, cid, stage_name, since, _dump_state(st), recheck(st, now)))
        else:
            update.append((stage_name, since, recheck(states[cid], now), jid, cid))
    conn.executemany(
        "INSERT INTO journey_positions(journey_id, contact_id, stage, since, state, recheck_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(journey_id, contact_id) DO UPDATE SET"
        " stage = excluded.stage, since = excluded.since, state = excluded.state,"
        " recheck_at = excluded.recheck_at",
        upsert,
    )
    conn.executemany(
        "UPDATE journey_positions SET stage = ?, since = ?, recheck_at = ?"
        " WHERE journey_id = ? AND contact_id = ?",
        update,
    )
    _set_progress(conn, jid, version, hwm, now, seq)
    if tally is None:
        rebuild_tally(conn, jid, j)
    else:
        for cid, ms in stored_moves(conn, jid, j, taken).items():
            tally.contact(cid, ms)
        for stage, _ in r.positions.values():
            tally.position(stage)
        save_tally(conn, jid, tally)
    return AdvanceReport(j.name, False, len(touched), replayed, len(r.moves), n_read)


def advance_all(store: Store, *, now: int | None = None) -> list[AdvanceReport]:
    """After any import: advance every journey (one transaction each)."""
    names = [r[0] for r in store.conn.execute("SELECT name FROM journeys ORDER BY name")]
    out = [advance(store, n, now=now) for n in names]
    compact_changes(store)
    return out


def compact_changes(store: Store) -> None:
    """Empty ``changed_contacts`` once every journey has seen all of it (so the table
    stays small, and a store reads the same however its rows were written): its
    sequence starts again at 0, and so does each journey's mark."""
    with store.transaction() as conn:
        seq = change_seq(conn)
        if seq == 0:
            return
        marks = [_parse_engine(r[0]) for r in conn.execute("SELECT engine FROM journey_progress")]
        if any(m is not None and m[1] != seq for m in marks):
            return
        conn.execute("DELETE FROM changed_contacts")
        conn.execute("DELETE FROM freed_ids")  # every journey has run since
        conn.execute("UPDATE journey_progress SET engine = ? || ' ' ||"
                     " substr(engine, length(?) + 2, instr(substr(engine, length(?) + 2), ' ') - 1)"
                     " || ' 0' WHERE engine LIKE ? || ' %'",
                     (STATE_FORMAT, STATE_FORMAT, STATE_FORMAT, STATE_FORMAT))


def evaluate_all(
    store: Store, *, now: int | None = None, progress: Progress | None = None
) -> list[Evaluation]:
    """Full re-evaluation of every journey (by name), in one read of the events and
    one transaction; *progress* counts contacts once for all journeys."""
    path = _worker_path(store)
    with _large_cache(store), store.transaction() as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM journeys ORDER BY name")]
        out = _evaluate_many(conn, [_journey_row(conn, n) for n in names], now, progress,
                             path)
    compact_changes(store)
    return out

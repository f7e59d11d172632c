"""The full evaluation: every contact replayed, its results written in batches as
it finishes (the funnel tally built on the way), several journeys in one read of the
events, the replay split over worker processes for a large store."""

from __future__ import annotations

import gc
import sqlite3
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from journeytui.domain.compiler import Compiled, compile_journey
from journeytui.domain.engine.events import _events, _merged, default_now
from journeytui.domain.engine.marks import (
    Hwm,
    _set_progress,
    change_seq,
    compact_changes,
    high_water,
)
from journeytui.domain.engine.results import (
    INSERT_MOVES,
    INSERT_POSITIONS,
    INSERT_STEPS,
    _journey_row,
    _stored_state,
    _write_clicks,
    _write_moves,
    position_row,
)
from journeytui.domain.engine.runner import Runner
from journeytui.domain.funnel import Tally, save_tally, write_steps
from journeytui.domain.journey_model import Journey
from journeytui.store import Store

if TYPE_CHECKING:
    from journeytui.domain.replay_workers import Part, Split

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
    with evaluation_transaction(store) as (conn, evaluate_one):
        jid, version, j = _journey_row(conn, name)
        return evaluate_one(jid, version, j, now, progress)


class EvaluateOne(Protocol):
    def __call__(self, jid: int, version: int, j: Journey, now: int | None = None,
                 progress: Progress | None = None) -> Evaluation: ...


@contextmanager
def evaluation_transaction(store: Store) -> Iterator[tuple[sqlite3.Connection, EvaluateOne]]:
    """A transaction of its own that ends in one journey's full evaluation: yields the
    connection and the function that evaluates (a journey saved in it is written
    first, then evaluated).  The replay may be split over worker processes, as every
    evaluation that is a transaction of its own: the transaction must change no event
    row before it evaluates (a worker reads what is committed)."""
    path = _worker_path(store)
    with _large_cache(store), store.transaction() as conn:
        if path is not None and str(store.path) != path:
            # (a private demo session's store moved to its own copy at its first
            # write: the workers would read the shared file, not this one)
            path = None

        def evaluate_one(jid: int, version: int, j: Journey, now: int | None = None,
                         progress: Progress | None = None) -> Evaluation:
            return _evaluate_many(conn, [(jid, version, j)], now, progress, path)[0]

        yield conn, evaluate_one


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
        # (a private demo session's store may have moved to its own copy at the
        # transaction's first write: that connection is closed, the new one fresh)
        if store.conn is conn:
            conn.execute(f"PRAGMA cache_size = {int(cache)}")
            if own:
                conn.execute("PRAGMA foreign_keys = ON")


# Python's cycle collector, paused while journeys are replayed and written (see
# paused_gc): how many evaluations are under way, and whether it ran before the first.
_gc_lock = threading.Lock()
_gc_pauses = [0, False]


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a full evaluation runs.  A replay makes a
    few objects per event row (the row, a state's lists, a move) and keeps most of
    them alive for a while: the collector would keep walking them (a fifth of a
    replay's time) for cycles that the replay never makes; reference counting frees
    everything it makes.  Evaluations in several threads at once (the app) share one
    pause: the collector runs again, as it did, once the last one ends."""
    with _gc_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


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
                 now: int, hwm: Hwm, seq: int, c: Compiled) -> None:
        self.conn, self.jid, self.version, self.hwm, self.seq = conn, jid, version, hwm, seq
        self.c = c
        for table in ("journey_moves", "journey_positions", "journey_click_stats",
                      "journey_funnel_steps"):
            conn.execute(f"DELETE FROM {table} WHERE journey_id = ?", (jid,))
        self.runner = Runner(c, now)
        self.tally = Tally(j)
        self.report = Evaluation(j.name, now, 0, 0, 0)
        # contacts (of the batch in memory) in their stage since a provisional move
        self.provisional: set[int] = set()
        # (replayed by worker processes) the rows of the moves not written yet, and
        # how many contacts they are the moves of
        self.held: list[tuple[Any, ...]] = []
        self.held_contacts = 0

    def contact(self, cid: int, rows: Iterable[tuple[Any, ...]]) -> None:
        runner = self.runner
        st = self.c.new_state()
        first = len(runner.out.moves)
        runner.feed(cid, st, rows)
        runner.finish(cid, st)
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

    def take(self, part: Part, k: int) -> list[tuple[int, int, list[tuple[Any, ...]]]]:
        """A range of contacts as a worker process replayed and shaped it (journey *k*
        of the evaluation): its positions and funnel duration rows written at once
        (they have no ids), its counts added; its moves cut into the batches
        :meth:`finished` would write them in, one contact at a time, returned as
        (index in the range of the contact after which, *k*, rows) for the caller
        to write in that order across the journeys: the same move ids."""
        conn, report, tally, part_tally = self.conn, self.report, self.tally, part.tally
        conn.executemany(INSERT_POSITIONS, part.positions)
        conn.executemany(INSERT_STEPS, part.steps)
        for level, n in enumerate(part_tally.reached):
            tally.reached[level] += n
        for mine, theirs in ((tally.exits, part_tally.exits),
                             (tally.current, part_tally.current),
                             (tally.moved, part_tally.moved)):
            mine.update(theirs)
        tally.emails.update(part_tally.emails)
        self.merge_clicks(part.clicks)
        ends, moves, n = part.ends, part.moves, len(part.ends)
        report.contacts += n
        report.in_journey += sum(part_tally.current.values())
        batches = []
        i = first = 0  # the range's first contact and move not in a batch yet
        while i < n:
            # the contact whose moves, or whose position, fill the batch
            j = min(bisect_left(ends, first + BATCH_MOVES - len(self.held), i),
                    i + BATCH_CONTACTS - self.held_contacts - 1)
            if j >= n:
                break
            rows = self.held + moves[first:ends[j]]
            self._batch(len(rows), self.held_contacts + j - i + 1)
            batches.append((j, k, rows))
            self.held, self.held_contacts = [], 0
            first, i = ends[j], j + 1
        self.held += moves[first:]
        self.held_contacts += n - i
        return batches

    def _batch(self, moves: int, contacts: int) -> None:
        report = self.report
        report.write_batches += 1
        report.most_in_flight = max(report.most_in_flight, moves)
        report.most_contacts_in_flight = max(report.most_contacts_in_flight, contacts)
        report.moves += moves

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
        conn, jid, c, out = self.conn, self.jid, self.c, self.runner.out
        names, recheck, now = c.stage_names, c.recheck_at, self.runner.now
        moves, positions, states = out.moves, out.positions, out.states
        provisional = self.provisional
        if self.held_contacts or self.held:  # (the last batch of a split replay)
            self._batch(len(self.held), self.held_contacts)
            conn.executemany(INSERT_MOVES, self.held)
            self.held, self.held_contacts = [], 0
        else:
            self._batch(len(moves), len(positions))
        _write_moves(conn, jid, c, moves)
        conn.executemany(
            INSERT_POSITIONS,
            [position_row(jid, names, cid, pos, cid in provisional,
                          _stored_state(states[cid], recheck, now))
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
    compiled = [compile_journey(j, conn) for _, _, j in journeys]
    split = None
    if path is not None:
        from journeytui.domain import replay_workers

        workers = replay_workers.workers_for(hwm[0] + hwm[1])
        if workers:
            # (started before the old rows go: they start up and replay meanwhile)
            split = replay_workers.Split(conn, path, [j for _, _, j in journeys],
                                         [jid for jid, _, _ in journeys], now, hwm, workers)
    try:
        return _replay_and_write(conn, journeys, compiled, now, hwm, seq, progress, split)
    finally:
        if split is not None:
            split.stop()


def _replay_and_write(
    conn: sqlite3.Connection, journeys: list[tuple[int, int, Journey]],
    compiled: list[Compiled], now: int, hwm: Hwm, seq: int, progress: Progress | None,
    split: Split | None,
) -> list[Evaluation]:
    with paused_gc(), _indexes_set_aside(conn, [jid for jid, _, _ in journeys]):
        runs = [_FullEvaluation(conn, jid, version, j, now, hwm, seq, c)
                for (jid, version, j), c in zip(journeys, compiled, strict=True)]
        total = contacts_to_evaluate(conn) if progress is not None else 0
        if progress is not None:
            progress(0, total)
        done = 0
        if split is not None:
            for run in runs:
                run.report.workers = split.workers
            for parts in split.parts(conn, compiled):
                batches = []
                for k, (run, part) in enumerate(zip(runs, parts, strict=True)):
                    batches += run.take(part, k)
                # in the order the contacts finished, journey after journey
                batches.sort(key=lambda b: (b[0], b[1]))
                for _, _, batch in batches:
                    conn.executemany(INSERT_MOVES, batch)
                before, done = done, done + len(parts[0].ends)
                if progress is not None and done // PROGRESS_EVERY > before // PROGRESS_EVERY:
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

"""A full evaluation's replay, split by contact over worker processes.

Contacts are independent: each one's moves, position and state depend on its own
events only.  So a full evaluation of a large store hands contiguous ranges of
contact ids (:data:`CHUNK_ACTIVITIES` activities each) to worker processes, which
read their range's events from the store (read-only, their own connection), replay
every journey over them, and send back each contact's moves, position and state; the
evaluation's own process, the one writer SQLite allows, writes them in contact
order, exactly as it writes the contacts it replays itself — the same rows, the same
ids, the same funnel.

Only an evaluation that is a transaction of its own is split (``evaluate``,
``evaluate_all``): its transaction holds the store's write lock from its start and
has changed no event row, so what a worker reads (the last committed state, WAL) is
what the evaluation itself would read.  The high-water marks are checked anyway.

Workers are fresh Python processes (``python -m journeytui.domain.replay_workers``,
requests and answers pickled over their standard input and output): never a fork of
a process that holds an open SQLite connection or the app's threads.  One starts in
about 0.3 s, so small stores (:data:`PARALLEL_FROM`) are replayed in process.  Should
a worker fail or end, the evaluating process replays the ranges not received itself:
slower, never different.
"""

from __future__ import annotations

import gc
import os
import pickle
import sqlite3
import subprocess
import sys
from array import array
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from journeytui.domain import engine
from journeytui.domain.compiler import Compiled
from journeytui.domain.engine.results import move_rows, position_row
from journeytui.domain.funnel import Tally
from journeytui.domain.journey_model import Journey

# Below this many event rows (activities and sends, by id) the replay stays in process.
PARALLEL_FROM = 300_000
# The activities of one range of contacts handed to a worker (a contact is never split).
CHUNK_ACTIVITIES = 50_000
# How many worker processes at most; the environment variable
# JOURNEYTUI_EVALUATION_WORKERS sets it (0 or 1: in process).
MAX_WORKERS = 4
WORKERS_ENV = "JOURNEYTUI_EVALUATION_WORKERS"
# How much of the store a worker reads through a memory map (SQLite's cap here: 2 GB).
MAP_BYTES = 1 << 31

_RANGE = " AND contact_id > :lo AND contact_id <= :hi"
# engine.EVENTS_SQL and engine.CHANGES_SQL over one range of contacts (the list of
# contacts with activities taken over the range only).
EVENTS_RANGE_SQL = (
    f"{engine._ACT} AND id <= :ahwm{_RANGE}"
    f" UNION ALL {engine._SEND} AND contact_id IN (SELECT contact_id FROM activities"
    f" WHERE 1{_RANGE}) AND id <= :shwm{_RANGE}" + engine._ORDER
)
CHANGES_RANGE_SQL = (
    f"{engine._CHANGE} AND {engine._CHANGE_HAS_ACTIVITY} AND s.id <= :chwm"
    " AND s.contact_id > :lo AND s.contact_id <= :hi ORDER BY 1, 2, 4"
)


def workers_for(rows: int) -> int:
    """How many worker processes to replay a store of *rows* event rows with (0: in
    process)."""
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    if wanted:
        try:
            n = int(wanted)
        except ValueError:
            n = 1
    else:
        if rows < PARALLEL_FROM:
            return 0
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # (not on Linux)
            n = os.cpu_count() or 1
        n = min(n, MAX_WORKERS)
    return n if n >= 2 else 0


def chunks(conn: sqlite3.Connection, size: int | None = None) -> Iterator[tuple[int, int]]:
    """Ranges (lo, hi] of contact ids, each holding about *size* activities (whole
    contacts), covering every contact with an activity; computed as they are asked
    for (one index step each)."""
    size = size or CHUNK_ACTIVITIES
    top = conn.execute("SELECT max(contact_id) FROM activities").fetchone()[0]
    if top is None:
        return
    lo = -(1 << 62)
    while lo < top:
        row = conn.execute(
            "SELECT contact_id FROM activities WHERE contact_id > ? ORDER BY contact_id"
            " LIMIT 1 OFFSET ?", (lo, size)).fetchone()
        hi = int(top) if row is None else int(row[0])
        yield lo, hi
        lo = hi


@dataclass
class Part:
    """One journey's replay of one range of contacts, shaped for writing (the worker
    does that: the one writer has enough to do): its moves as rows of
    ``journey_moves`` in contact order, how many of them there are after each contact
    (``ends``), the positions (with states) and funnel duration rows as rows, the
    range's funnel counts (a :class:`Tally` without its duration rows) and click
    counters."""

    moves: list[tuple[Any, ...]]
    ends: array[int]
    positions: list[tuple[Any, ...]]
    steps: list[tuple[int, int, int, int]]
    tally: Tally
    clicks: dict[tuple[int, int], list[int]]


def replay_range(conn: sqlite3.Connection, jids: list[int], compiled: list[Compiled],
                 now: int, hwm: engine.Hwm, lo: int, hi: int) -> list[Part]:
    """Every journey's replay of the contacts in (lo, hi] (one :class:`Part` each;
    *jids*: the journeys' ids, as *compiled*)."""
    params = {**engine.hwm_params(hwm), "lo": lo, "hi": hi}
    changes: engine.Changes = {}
    for row in conn.execute(CHANGES_RANGE_SQL, params):
        changes.setdefault(row[0], []).append(row)
    runners = [engine.Runner(c, now) for c in compiled]
    ends: list[array[int]] = [array("q") for _ in runners]
    many = len(runners) > 1
    for cid, rows in engine._merged(conn.execute(EVENTS_RANGE_SQL, params), changes):
        group = list(rows) if many and not isinstance(rows, list) else rows
        for runner, after in zip(runners, ends, strict=True):
            st = runner.c.new_state()
            runner.feed(cid, st, group)
            runner.finish(cid, st)
            after.append(len(runner.out.moves))
    return [_shaped(jid, r, after) for jid, r, after in zip(jids, runners, ends, strict=True)]


def _shaped(jid: int, runner: engine.Runner, ends: array[int]) -> Part:
    """A runner's output as the rows the evaluation writes (as _FullEvaluation does
    one contact at a time)."""
    c, out, now = runner.c, runner.out, runner.now
    names, recheck, dump = c.stage_names, c.recheck_at, engine._dump_state
    moves, states = out.moves, out.states
    tally = Tally(c.journey)
    current = tally.current
    positions = []
    start = 0
    for (cid, position), end in zip(out.positions.items(), ends, strict=True):
        provisional = 0
        if end > start:
            mine = moves[start:end]
            tally.contact(cid, [(m[2], m[3], m[4], m[7], m[8]) for m in mine])
            provisional = mine[-1][8]
            start = end
        if position[0] >= 0:
            current[position[0]] += 1
        st = states[cid]
        positions.append(position_row(jid, names, cid, position, bool(provisional),
                                      (dump(st), recheck(st, now))))
    steps = [(jid, *s) for s in tally.steps_added]
    tally.steps_added = []
    return Part(move_rows(jid, names, moves), ends, positions, steps, tally, out.clicks)


# -- a worker process: python -m journeytui.domain.replay_workers -------------------------
# It reads pickled requests on its standard input — ("start", path, journeys, jids, now,
# hwm),
# then ("range", lo, hi) as many times as given — and answers each on its standard
# output: ("ok", None), ("part", [Part, …]) or ("error", text).  End of input: it ends.
def _serve(inp: IO[bytes], out: IO[bytes]) -> None:
    # Replaying makes no reference cycles, and a range's objects go once it is
    # answered: the cycle collector would only walk them (engine.full.paused_gc).
    gc.disable()
    conn: sqlite3.Connection | None = None
    compiled: list[Compiled] = []
    jids: list[int] = []
    now, hwm = 0, (0, 0, 0)
    while True:
        try:
            req = pickle.load(inp)
        except EOFError:
            return
        try:
            if req[0] == "start":
                _, path, journeys, jids, now, hwm = req
                conn = sqlite3.connect(path, isolation_level=None)
                conn.execute("PRAGMA query_only = ON")
                # pages straight from the OS file cache, not a copy each (pread)
                conn.execute(f"PRAGMA mmap_size = {MAP_BYTES}")
                conn.execute("PRAGMA busy_timeout = 10000")
                if engine.high_water(conn) != hwm:
                    raise RuntimeError("the store changed under the evaluation")
                compiled = [engine.compile_journey(j, conn) for j in journeys]
                answer: tuple[str, Any] = ("ok", None)
            else:
                assert conn is not None
                answer = ("part", replay_range(conn, jids, compiled, now, hwm, req[1], req[2]))
        except Exception as exc:  # reported to the evaluating process, which goes on alone
            answer = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, out, pickle.HIGHEST_PROTOCOL)
        out.flush()
        if answer[0] == "error":
            return


class WorkerFailed(Exception):
    """A worker process failed or ended (the evaluation replays the rest itself)."""


# How a worker is started (after the Python interpreter's path).
WORKER_ARGS = ["-m", "journeytui.domain.replay_workers"]


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *WORKER_ARGS],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the evaluating process only
        )

    def send(self, *req: Any) -> None:
        assert self.proc.stdin is not None
        try:
            pickle.dump(req, self.proc.stdin, pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.flush()
        except OSError as exc:
            raise WorkerFailed(str(exc)) from None

    def answer(self) -> Any:
        assert self.proc.stdout is not None
        try:
            kind, value = pickle.load(self.proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            raise WorkerFailed(f"a worker process ended ({exc})") from None
        if kind == "error":
            raise WorkerFailed(value)
        return value

    def stop(self) -> None:
        """End the worker, whatever it is doing (it only reads: nothing to finish)."""
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Split:
    """A replay split over *workers* processes: they are started, and handed their
    first two ranges each, when it is made, so that they start up and replay while
    the evaluating process prepares its writes; :meth:`parts` then gives each range's
    replay in contact order.  Should a worker fail, the evaluating process replays
    what was not received itself.  :meth:`stop` ends the workers (always call it)."""

    def __init__(self, conn: sqlite3.Connection, path: str, journeys: list[Journey],
                 jids: list[int], now: int, hwm: engine.Hwm, workers: int) -> None:
        self.jids, self.now, self.hwm, self.workers = jids, now, hwm, workers
        self.ranges = chunks(conn)
        self.pool: list[_Worker] = []
        self.queued: deque[tuple[int, int, _Worker]] = deque()
        self.failed = False
        try:
            self.pool = [_Worker() for _ in range(workers)]
            for w in self.pool:
                w.send("start", path, journeys, jids, now, hwm)
            for _ in range(2):
                for w in self.pool:
                    self._hand(w)
        except (WorkerFailed, OSError):
            self._fail()

    def _hand(self, w: _Worker) -> None:
        r = next(self.ranges, None)
        if r is not None:
            self.queued.append((*r, w))
            w.send("range", *r)

    def _fail(self) -> None:
        self.failed = True
        self.stop()

    def parts(self, conn: sqlite3.Connection, compiled: list[Compiled]) -> Iterator[list[Part]]:
        """Each range's replay (one :class:`Part` per journey), in contact order
        (*conn*, *compiled*: this process's own, should it replay ranges itself)."""
        queued = self.queued
        if not self.failed:
            try:
                for w in self.pool:
                    w.answer()  # (started)
                while queued:
                    w = queued[0][2]
                    parts = w.answer()
                    queued.popleft()
                    failure = None
                    try:
                        self._hand(w)
                    except (WorkerFailed, OSError) as exc:  # (the range stays queued)
                        failure = exc
                    yield parts  # received: never lost to a hand-over that failed
                    if failure is not None:
                        raise failure
            except (WorkerFailed, OSError):
                self._fail()
        # Alone: what was handed out and not received, then the rest.
        jids, now, hwm = self.jids, self.now, self.hwm
        for lo, hi, _ in list(queued):
            yield replay_range(conn, jids, compiled, now, hwm, lo, hi)
        queued.clear()
        for lo, hi in self.ranges:
            yield replay_range(conn, jids, compiled, now, hwm, lo, hi)

    def stop(self) -> None:
        for w in self.pool:
            w.stop()


if __name__ == "__main__":
    # (through the module's own name: what it pickles must unpickle as its classes)
    from journeytui.domain import replay_workers

    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the answers alone go to the real standard output
    replay_workers._serve(sys.stdin.buffer, answers)

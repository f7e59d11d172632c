"""The replay: per-contact states fed their events in order (entry, the cascade of
moves, click counters), then the check at the evaluation time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
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
from journeytui.domain.engine.events import _events, _merged, default_now
from journeytui.domain.engine.marks import Hwm, high_water
from journeytui.domain.journey_model import Journey

# move: (contact, from_stage, to_stage, transition, at, activity_id, send_id, email_id,
#        provisional)  — stage indexes, from_stage -1 = entry, transition 0 = entry
Move = tuple[int, int, int, int, int, int | None, int | None, int | None, int]


def _ids(row: tuple[Any, ...]) -> tuple[int | None, int | None, int | None]:
    """(activity_id, send_id, email_id) of the event that triggers a move."""
    src = row[2]
    if src == 1:
        return row[3], None, row[5]
    if src == 0:
        return None, row[3], row[5]
    return row[8], None, row[5]


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

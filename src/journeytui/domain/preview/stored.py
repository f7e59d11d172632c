"""Reading back the saved journey's stored results for the contacts a draft cannot
move differently (the exact funnel replays only the others).

When the stored results are current and the draft differs from the saved journey
only in transitions out of some stages S (same stages, same entry), a contact the
saved evaluation never put in a stage of S cannot move differently: transitions
out of S are tried only while a contact is in S (at an event, at the check at
evaluation time, or in a cascade through S — each of those records a move into S).
A contact that was in S is replayed from its first event: the stored state is its
state at the end, not where the draft first differs, and the per-event conditions
read the whole history.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from journeytui.domain.compiler import CLICKS
from journeytui.domain.engine import STATE_FORMAT, change_seq, default_now, high_water
from journeytui.domain.journey_model import Journey
from journeytui.domain.preview.events import Row, _events_of
from journeytui.store.evaluation_time import resolved


class _Positions:
    """What the funnel reads of the positions — how many contacts are in each stage,
    and how many of them since before the stall limit — without keeping one entry per
    contact.  ``values()`` yields one (stage, since) pair per contact as the funnel
    expects: since one second before the limit for the stalled, None for the others."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.stalled: Counter[int] = Counter()
        self.other: Counter[int] = Counter()

    def add(self, stage: int, since: int | None) -> None:
        if since is not None and since < self.limit:
            self.stalled[stage] += 1
        else:
            self.other[stage] += 1

    def __len__(self) -> int:
        return sum(self.stalled.values()) + sum(self.other.values())

    def values(self) -> Iterator[tuple[int, int | None]]:
        for stage, n in self.stalled.items():
            for _ in range(n):
                yield stage, self.limit - 1
        for stage, n in self.other.items():
            for _ in range(n):
                yield stage, None


@dataclass
class _Stored:
    """The saved journey's stored results, when they are those of the current data."""

    jid: int
    journey: Journey
    now: int


def stored_current(conn: sqlite3.Connection, name: str | None) -> _Stored | None:
    """The stored results of journey *name* when a full replay of it now would give
    them again: same version evaluated, nothing read since (high-water marks, changed
    rows), the default evaluation time, states of this engine.  Else None."""
    if name is None:
        return None
    from journeytui.domain.journeys import _from_definition

    row = conn.execute(
        "SELECT j.id, j.version, j.definition, p.version, p.activity_hwm, p.send_hwm,"
        " p.evaluated_at, p.engine FROM journeys j JOIN journey_progress p"
        " ON p.journey_id = j.id WHERE j.name = ?", (name,)).fetchone()
    if row is None or row[1] != row[3]:
        return None
    parts = str(row[7] or "").split()
    if len(parts) != 3 or parts[0] != STATE_FORMAT:
        return None
    hwm = high_water(conn)
    if (row[4], row[5], int(parts[1])) != hwm or int(parts[2]) != change_seq(conn):
        return None
    if int(row[6]) != default_now(conn):
        return None
    return _Stored(int(row[0]), _from_definition(row[2], name), int(row[6]))


def _out_of(j: Journey) -> dict[int, list[tuple[int, int, Any, int]]]:
    """Per stage index, the transitions tried there in the engine's order (ascending
    priority, ties in definition order): (priority, to, condition, number)."""
    index = {n: i for i, n in enumerate(j.stage_names)}
    main = [i for i, s in enumerate(j.stages) if not s.exit]
    out: dict[int, list[tuple[int, int, Any, int]]] = {}
    for k, t in enumerate(j.transitions, start=1):
        for f in (main if t.from_ is None else [index[t.from_]]):
            if f != index[t.to]:
                out.setdefault(f, []).append((t.priority, index[t.to], t.when, k))
    return {f: sorted(ts, key=itemgetter(0)) for f, ts in out.items()}


def affected_stages(saved: Journey, draft: Journey) -> set[int] | None:
    """The stages (indexes) whose outgoing transitions, as the engine tries them,
    differ between *saved* and *draft*, when that is all that differs (same stages,
    same entry); None when a contact could move differently anywhere."""
    if saved.stages != draft.stages or saved.entry != draft.entry:
        return None
    a, b = _out_of(saved), _out_of(draft)
    return {f for f in set(a) | set(b)
            if [t[:3] for t in a.get(f, [])] != [t[:3] for t in b.get(f, [])]}


def _renumber(saved: Journey, draft: Journey) -> dict[tuple[int, int], int]:
    """(stage index, saved transition number) → the draft's number of the transition
    tried at the same place out of that stage (stages whose transitions did not
    change); the entry (-1, 0) stays 0."""
    out = {(-1, 0): 0}
    b = _out_of(draft)
    for f, ts in _out_of(saved).items():
        for t, u in zip(ts, b.get(f, []), strict=False):
            out[(f, t[3])] = u[3]
    return out


# Reusing stored results pays while the contacts to replay are at most this share;
# up to BY_CONTACT of them, their events are read by contact, CHUNK contacts a query
# (about 0.4 ms a contact: index seeks), else in one pass over every event (which sorts
# them all, and turns every row into a Python tuple, but reads in order).
REUSE_SHARE = 0.6
BY_CONTACT = 20_000
CHUNK = 5_000


def _chunks(marks: bytearray) -> Iterator[list[int]]:
    """The ids whose byte is set, CHUNK at a time, in order."""
    chunk: list[int] = []
    i = marks.find(1)
    while i != -1:
        chunk.append(i)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
        i = marks.find(1, i + 1)
    if chunk:
        yield chunk
_STATES = "SELECT contact_id, state FROM journey_positions WHERE journey_id = ?"


def _reuse(
    conn: sqlite3.Connection, stored: _Stored, draft: Journey, stages: set[int],
    positions: _Positions, clicks: dict[tuple[int, int], list[int]],
) -> tuple[bytearray, Iterator[tuple[int, int, int, int, int, int | None]],
           Iterator[tuple[int, list[Row]]] | None] | None:
    """Take the stored figures of the contacts the edit cannot change (never in a stage
    of *stages*): their positions into *positions*, the click counters less the other
    contacts' share into *clicks*.  Returns a byte per contact id, 1 for those (the
    replay skips them), and their stored moves, renumbered (to read after the
    replay), and the events of the contacts to replay when they are few enough to be
    read by contact; None when most contacts must be replayed anyway."""
    jid = stored.jid
    names = draft.stage_names
    index = {n: i for i, n in enumerate(names)}
    max_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0])
    affected = bytearray(max_id + 1)
    n_affected = 0
    if stages:
        marks = ",".join("?" * len(stages))
        for (cid,) in conn.execute(
                f"SELECT DISTINCT contact_id FROM journey_moves WHERE journey_id = ?"
                f" AND to_stage IN ({marks})", (jid, *(names[s] for s in sorted(stages)))):
            affected[cid] = 1
            n_affected += 1
    total = int(conn.execute("SELECT count(*) FROM journey_positions WHERE journey_id = ?"
                             " AND stage IS NOT NULL", (jid,)).fetchone()[0])
    if n_affected > REUSE_SHARE * total:
        return None
    skip = bytearray(max_id + 1)
    for cid, stage, since in conn.execute(
            "SELECT contact_id, stage, since FROM journey_positions WHERE journey_id = ?",
            (jid,)):
        if not affected[cid]:
            skip[cid] = 1
            if stage is not None:
                positions.add(index[stage], resolved(since, stored.now))
    for stage_name, email, n, moved in conn.execute(
            "SELECT stage, email_id, clicks, moved FROM journey_click_stats"
            " WHERE journey_id = ?", (jid,)):
        clicks[(index[stage_name], email)] = [n, moved]
    if n_affected:
        by_contact = n_affected <= BY_CONTACT
        states: Iterable[tuple[int, str]] = (
            row for ids in _chunks(affected) for row in conn.execute(
                _STATES + " AND contact_id IN (SELECT value FROM json_each(?))",
                (jid, json.dumps(ids)))
        ) if by_contact else conn.execute(_STATES, (jid,))
        for cid, state in states:
            if affected[cid]:  # their replay adds the draft's share back
                for s, e, n, m in json.loads(state)[CLICKS]:
                    got = clicks[(s, e)]
                    got[0] -= n
                    got[1] -= m
    renumber = _renumber(stored.journey, draft)

    def stored_moves() -> Iterator[tuple[int, int, int, int, int, int | None]]:
        now = stored.now  # (a provisional move's time, stored as "at the evaluation time")
        for cid, f, t, num, at, email in conn.execute(
                "SELECT contact_id, from_stage, to_stage, transition, at, email_id"
                " FROM journey_moves WHERE journey_id = ?"
                " ORDER BY contact_id, provisional, id", (jid,)):
            if skip[cid]:
                src = index[f] if f is not None else -1
                yield (cid, src, index[t], renumber[(src, num or 0)],
                       resolved(at, now), email)

    hwm = high_water(conn)
    events = (
        pair for ids in _chunks(affected) for pair in _events_of(conn, ids, hwm)
    ) if n_affected <= BY_CONTACT else None
    return skip, stored_moves(), events

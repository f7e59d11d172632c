"""The live preview of a draft journey: the funnel it would give, without writing.

The condition editor asks for it at every edit, on stores of any size, so it comes
in two steps (the README's section on the condition editor says the same):

* **An estimate** (:class:`Sample`): the draft replayed over a fixed sample of the
  contacts — those whose id hashes below a threshold (:func:`contact_hash`, the same
  contacts at every edit, so figures do not flicker) — scaled up by the share
  sampled.  When the saved journey's stored results are current (nothing imported
  since its last evaluation), the sample measures only the *difference* the draft
  makes (draft − saved, per contact) and adds it to the saved figures: contacts the
  edit does not touch add no error.  Each estimated figure carries a margin of three
  standard errors (Bernoulli sampling), the variance taken at the upper end of what
  the sample allows (so a change the sample saw little of, or none, still fits).  On a store no
  larger than the sample there is no estimate: the exact funnel comes as quickly.
* **The exact funnel** (:func:`exact`): the draft replayed over every contact with
  the engine's own :class:`Runner`, one contact at a time, feeding the funnel's own
  :func:`journeytui.domain.funnel.compute` as it goes — only running totals are kept
  (no list of every move or position), so memory stays flat whatever the store's
  size.  A cancel flag is checked between contacts (an edit during a replay stops it
  within one contact), and progress is reported as the share of contact ids done.

  When the stored results are current and the draft differs from the saved journey
  only in transitions out of some stages S (same stages, same entry), a contact the
  saved evaluation never put in a stage of S cannot move differently: transitions
  out of S are tried only while a contact is in S (at an event, at the check at
  evaluation time, or in a cascade through S — each of those records a move into S).
  Those contacts' figures are read back from the stored moves and positions, and
  only the others are replayed (:func:`affected_stages`).  A contact that was in S
  is replayed from its first event: the stored state is its state at the end, not
  where the draft first differs, and the per-event conditions read the whole history.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

from journeytui.domain.compiler import CLICKS, compile_journey
from journeytui.domain.engine import (
    CHANGES_SQL,
    CONTACT_EVENTS_SQL,
    EVENTS_SQL,
    STATE_FORMAT,
    Hwm,
    Runner,
    change_seq,
    default_now,
    high_water,
    hwm_params,
)
from journeytui.domain.funnel import DEFAULT_STALL_DAYS, FunnelData, compute
from journeytui.domain.journey_model import Journey
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.evaluation_time import AT_EVALUATION, resolved

# Contacts the estimate replays (its sample): about this many of those with activities
# (the ones a journey replays), whatever the store's size.
SAMPLE_CONTACTS = 3_000
# The margin, in standard errors.
Z = 3.0
_HASH_RANGE = 1 << 32
Row = tuple[Any, ...]


class PreviewCancelled(Exception):
    """A newer edit asked for another preview: this one stopped between contacts."""


def contact_hash(cid: int) -> int:
    """A fixed, well-mixed 32-bit hash of a contact id (murmur3's finaliser), so the
    sample is the same contacts at every edit and owes nothing to how ids were given."""
    h = cid & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def preview(
    store: Store, j: Journey, *, now: int | None = None, stall_days: int = DEFAULT_STALL_DAYS,
    validate: bool = True,
) -> dict[str, Any]:
    """The funnel *j* would give, without saving or writing anything (the exact one)."""
    return exact(store, j, now=now, stall_days=stall_days, validate=validate)


# -- reading events ------------------------------------------------------------------
_by_contact = itemgetter(0)
_ROW_ORDER = itemgetter(1, 3, 2)  # within a contact: at, id, src (as the engine orders)


def _contacts_of(
    conn: sqlite3.Connection, hwm: Hwm, skip: bytearray | None,
) -> Iterator[tuple[int, list[Row]]]:
    """Each contact's events in the engine's order, contact by contact (one ordered
    read; the few subscription changes merged in).  *skip*: a byte per contact id,
    non-zero for contacts not wanted (their rows are passed over unread by Python)."""
    params = hwm_params(hwm)
    changes: dict[int, list[Row]] = {}
    for row in conn.execute(CHANGES_SQL, params):
        changes.setdefault(row[0], []).append(row)
    pending = sorted(changes)
    k, end = 0, len(pending)
    n_skip = len(skip) if skip is not None else 0
    for cid, group in groupby(conn.execute(EVENTS_SQL, params), key=_by_contact):
        while k < end and pending[k] < cid:
            c = pending[k]
            k += 1
            if not (c < n_skip and skip[c]):  # type: ignore[index]
                yield c, changes[c]
        if cid < n_skip and skip[cid]:  # type: ignore[index]
            if k < end and pending[k] == cid:
                k += 1
            continue
        if k < end and pending[k] == cid:
            k += 1
            yield cid, sorted([*group, *changes[cid]], key=_ROW_ORDER)
        else:
            yield cid, list(group)
    for c in pending[k:]:
        if not (c < n_skip and skip[c]):  # type: ignore[index]
            yield c, changes[c]


# Small stores: each contact's events, as last read, are kept (per connection, until
# any change), so that the editor's previews pay only for the replay.
CACHE_MAX_ROWS = 100_000
_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def _all_contacts(conn: sqlite3.Connection, hwm: Hwm) -> Iterable[tuple[int, list[Row]]]:
    """Every contact's events (:func:`_contacts_of`), from the cache when it is small."""
    if sum(hwm) > CACHE_MAX_ROWS:
        return _contacts_of(conn, hwm, None)
    key = (id(conn), conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes,
           hwm)
    with _cache_lock:  # the app's worker threads share it
        if _cache.get("key") != key or _cache.get("conn") is not conn:
            _cache.clear()
            _cache.update(key=key, conn=conn, contacts=list(_contacts_of(conn, hwm, None)))
        return _cache["contacts"]  # type: ignore[no-any-return]


def _events_of(conn: sqlite3.Connection, ids: list[int], hwm: Hwm) -> Iterator[tuple[int, list[Row]]]:
    """The events of the contacts *ids* (few), contact by contact in the engine's order."""
    params = hwm_params(hwm)
    sql = CONTACT_EVENTS_SQL.replace("contact_id = :c", "contact_id IN (SELECT value FROM"
                                     " json_each(:ids))")
    if sql.count("json_each") == 3:
        rows = conn.execute(sql, {"ids": json.dumps(ids), **params})
        for cid, group in groupby(rows, key=_by_contact):
            yield cid, list(group)
    else:  # the engine's query changed shape: one contact at a time
        for cid in ids:
            found = conn.execute(CONTACT_EVENTS_SQL, {"c": cid, **params}).fetchall()
            if found:
                yield cid, found


# -- the exact funnel ----------------------------------------------------------------
class Cancel(threading.Event):
    """The cancel flag of a preview.  Setting it also interrupts the SQL statement a
    replay is waiting on (the ordered read of every event sorts them all before the
    first contact comes), on the connection the replay registered while it runs."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []

    def set(self) -> None:
        with self._lock:
            super().set()
            for conn in self._conns:
                conn.interrupt()

    def watching(self, conn: sqlite3.Connection) -> _Watch:
        return _Watch(self, conn)


class _Watch:
    """``with cancel.watching(conn):`` — *conn* is interrupted if the flag is set
    meanwhile (and never after: the pool may lend it to someone else)."""

    def __init__(self, cancel: Cancel, conn: sqlite3.Connection) -> None:
        self.cancel, self.conn = cancel, conn

    def __enter__(self) -> None:
        with self.cancel._lock:
            self.cancel._conns.append(self.conn)
            if self.cancel.is_set():
                raise PreviewCancelled

    def __exit__(self, kind: Any, error: BaseException | None, tb: Any) -> None:
        with self.cancel._lock:
            self.cancel._conns.remove(self.conn)
        if isinstance(error, sqlite3.OperationalError) and self.cancel.is_set():
            raise PreviewCancelled from None  # the statement was interrupted

Progress = Callable[[float], None]


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


def exact(
    store: Store, j: Journey, *, now: int | None = None,
    stall_days: int = DEFAULT_STALL_DAYS, validate: bool = True, saved: str | None = None,
    cancel: threading.Event | None = None, progress: Progress | None = None,
    report: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The exact funnel of draft *j* (``funnel.compute``'s dict), replaying contact by
    contact with only running totals kept.  *saved*: the name of the saved journey
    the draft was edited from (its stored results are reused where sound).  Raises
    :class:`PreviewCancelled` soon after *cancel* is set.  *report* gets how many
    contacts were ``replayed`` and whether stored results were ``reused`` (0/1)."""
    if stall_days < 1:
        raise UserError(f"--stall-days {stall_days}: must be at least 1")
    if validate:
        from journeytui.domain.journeys import validate_for_store

        validate_for_store(store, j)
    conn = store.conn
    if isinstance(cancel, Cancel):
        with cancel.watching(conn):
            return _exact(conn, j, now, stall_days, saved, cancel, progress, report)
    return _exact(conn, j, now, stall_days, saved, cancel, progress, report)


def _exact(
    conn: sqlite3.Connection, j: Journey, now: int | None, stall_days: int,
    saved: str | None, cancel: threading.Event | None, progress: Progress | None,
    report: dict[str, int] | None,
) -> dict[str, Any]:
    hwm = high_water(conn)
    if now is None:
        now = default_now(conn)
    stored = stored_current(conn, saved)
    reuse: tuple[_Stored, set[int]] | None = None
    if stored is not None and stored.now == now:
        stages = affected_stages(stored.journey, j)
        if stages is not None:
            reuse = (stored, stages)
    c = compile_journey(j, conn)
    runner = Runner(c, now, keep_states=False)
    out = runner.out
    positions = _Positions(now - stall_days * 86_400)
    max_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0]) or 1
    skip: bytearray | None = None
    reused: Iterable[tuple[int, int, int, int, int, int | None]] = ()
    contacts: Iterable[tuple[int, list[Row]]] | None = None
    if reuse is not None:
        taken = _reuse(conn, reuse[0], j, reuse[1], positions, out.clicks)
        if taken is not None:
            skip, reused, contacts = taken
    if contacts is None:
        contacts = _contacts_of(conn, hwm, skip) if skip is not None else _all_contacts(
            conn, hwm)
    if report is not None:
        report.update(replayed=0, reused=int(skip is not None))

    def moves() -> Iterator[tuple[int, int, int, int, int, int | None]]:
        new_state = c.new_state
        n = 0
        for cid, rows in contacts:
            if cancel is not None and cancel.is_set():
                raise PreviewCancelled
            st = new_state()
            runner.feed(cid, st, rows)
            runner.finish(cid, st)
            pos = out.positions.pop(cid)
            if pos[0] >= 0:
                positions.add(pos[0], pos[1])
            if out.moves:
                for m in out.moves:
                    yield m[0], m[1], m[2], m[3], m[4], m[7]
                out.moves.clear()
            n += 1
            if report is not None:
                report["replayed"] = n
            if progress is not None and n % 2048 == 0:
                progress(min(cid / max_id, 1.0))
        yield from reused
        if progress is not None:
            progress(1.0)

    names = dict(conn.execute("SELECT id, name FROM emails").fetchall())
    data = FunnelData(j, now, cast(dict[int, tuple[int, int | None]], positions),
                      cast(list[tuple[int, int, int, int, int, int | None]], moves()),
                      out.clicks, names)
    return compute(data, stall_days=stall_days)


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
                       now if at == AT_EVALUATION else at, email)

    hwm = high_water(conn)
    events = (
        pair for ids in _chunks(affected) for pair in _events_of(conn, ids, hwm)
    ) if n_affected <= BY_CONTACT else None
    return skip, stored_moves(), events


# -- the estimate --------------------------------------------------------------------
@dataclass
class Estimate:
    """An estimated funnel: ``figures`` in ``funnel.compute``'s form (medians, stalled
    and clicks left out), each count's ``margins`` (± of the same name's figure:
    ``("reached", stage)``, ``("current", stage)``, ``("moved", number)``, and
    ``("in_journey", "")``), and what it was estimated from."""

    figures: dict[str, Any]
    margins: dict[tuple[str, Any], int]
    sampled: int  # contacts of the sample in the journey's events
    share: float  # the share of contacts sampled
    exact: bool  # the sample was every contact: the figures are exact

    def margin(self, what: str, key: Any = "") -> int:
        return self.margins.get((what, key), 0)


def _vector(n_fig: int, main: list[int], level: dict[int, int], n_stages: int,
            moves: list[Any], pos: tuple[int, int | None]) -> list[int]:
    """One contact's share of each counted figure, by slot: reached per stage (its
    index; a main-line stage counts when the contact got at least that far), current
    per stage (n_stages + index), moves per transition (2·n_stages + number, 0: the
    entry), and in the journey (the last)."""
    v = [0] * n_fig
    top = -1
    base = 2 * n_stages
    for m in moves:
        to = m[2]
        v[base + m[3]] += 1
        k = level.get(to)
        if k is None:
            v[to] = 1  # an exit
        elif k > top:
            top = k
    for k in range(top + 1):
        v[main[k]] = 1
    if pos[0] >= 0:
        v[n_stages + pos[0]] = 1
        v[n_fig - 1] = 1
    return v


@dataclass
class Sample:
    """The fixed sample of contacts an estimate replays, with their events in memory
    (read once per journey opened and data seen), and the saved journey's share of
    each figure on it (for estimating the difference an edit makes)."""

    hwm: Hwm
    now: int
    share: float
    events: list[tuple[int, list[Row]]]
    saved: Journey | None = None
    saved_figures: dict[str, Any] | None = None  # the stored funnel, when current
    saved_vectors: dict[int, list[int]] = field(default_factory=dict)
    saved_visits: dict[int, int] = field(default_factory=dict)  # stages visited, a bit each

    @property
    def whole(self) -> bool:
        """The store has no more contacts than a sample: no estimate (the exact funnel
        is as quick)."""
        return self.share >= 1.0

    @classmethod
    def prepare(cls, store: Store, saved_name: str | None, *, size: int = SAMPLE_CONTACTS,
                saved_funnel: dict[str, Any] | None = None, cancel: threading.Event | None = None,
                whole: bool = False) -> Sample:
        """Choose the sample and read its events (and the saved journey's figures on it
        when its stored results are current).  *saved_funnel*: the saved journey's
        stored funnel, when the caller has it already.  *whole*: read every contact
        even when the store is no larger than a sample (an "estimate" with margin 0)."""
        conn = store.conn
        hwm = high_water(conn)
        now = default_now(conn)
        max_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0])
        # how many contacts a replay feeds: as many as the saved journey has positions
        # (when evaluated), else at most every contact
        n = int(conn.execute(
            "SELECT count(*) FROM journey_positions WHERE journey_id ="
            " (SELECT id FROM journeys WHERE name = ?)", (saved_name,)).fetchone()[0]) or int(
            conn.execute("SELECT count(*) FROM contacts").fetchone()[0])
        share = 1.0 if n <= size else size / n
        if share >= 1.0 and not whole:
            return cls(hwm, now, 1.0, [])
        if share >= 1.0:
            ids = [int(r[0]) for r in conn.execute("SELECT id FROM contacts ORDER BY id")]
        else:
            limit = int(share * _HASH_RANGE)
            ids = [cid for cid in range(1, max_id + 1) if contact_hash(cid) < limit]
        if cancel is not None and cancel.is_set():
            raise PreviewCancelled
        # (a contact without activities is in no journey: a replay does not feed it)
        sample = cls(hwm, now, share, [
            (cid, rows) for cid, rows in _events_of(conn, ids, hwm)
            if any(row[2] == 1 for row in rows)])
        stored = stored_current(conn, saved_name)
        if stored is not None and stored.now == now:
            if saved_funnel is None:
                from journeytui.domain.funnel import funnel

                saved_funnel = funnel(store, saved_name or "")
            sample.saved = stored.journey
            sample.saved_figures = saved_funnel
            sample.saved_vectors = sample._vectors(conn, stored.journey, cancel)
        return sample

    def _vectors(self, conn: sqlite3.Connection, j: Journey, cancel: threading.Event | None,
                 only: int | None = None) -> dict[int, list[int]]:
        """Each sampled contact's share of the figures of *j* (contacts in no stage and
        without moves left out).  *only*: a mask of stages — replay only the contacts
        the saved journey put in one of them (the others: see :meth:`estimate`).
        The saved journey's pass also notes the stages each contact visited."""
        c = compile_journey(j, conn)
        runner = Runner(c, self.now, keep_states=False)
        out = runner.out
        main = [i for i, s in enumerate(j.stages) if not s.exit]
        level = {idx: k for k, idx in enumerate(main)}
        n_stages = len(j.stages)
        n_fig = 2 * n_stages + len(j.transitions) + 2
        vectors: dict[int, list[int]] = {}
        visits = self.saved_visits
        note = only is None and j is self.saved
        for cid, rows in self.events:
            if cancel is not None and cancel.is_set():
                raise PreviewCancelled
            if only is not None and not visits.get(cid, 0) & only:
                continue
            st = c.new_state()
            runner.feed(cid, st, rows)
            runner.finish(cid, st)
            pos = out.positions.pop(cid)
            if pos[0] >= 0 or out.moves:
                vectors[cid] = _vector(n_fig, main, level, n_stages, out.moves, pos)
                if note:
                    seen = 0
                    for m in out.moves:
                        seen |= 1 << m[2]
                    visits[cid] = seen
            out.moves.clear()
        return vectors

    def estimate(self, conn: sqlite3.Connection, j: Journey, *,
                 cancel: threading.Event | None = None) -> Estimate:
        """The draft *j*'s funnel estimated from the sample.

        With the saved journey's figures at hand and an edit confined to the
        transitions out of some stages (:func:`affected_stages`, transitions keeping
        their numbers), only the sampled contacts the saved journey put in one of
        those stages are replayed: any other's share is the saved one (a difference
        of 0)."""
        only = None
        if self.saved is not None:
            stages = affected_stages(self.saved, j)
            if stages is not None and all(
                    k == n for (_, k), n in _renumber(self.saved, j).items()):
                only = sum(1 << f for f in stages)
        draft = self._vectors(conn, j, cancel, only)
        if only is not None:
            draft = {cid: draft.get(cid, v) for cid, v in self.saved_vectors.items()}
        q = self.share
        names = j.stage_names
        n_stages = len(names)
        # Each figure: (what, key, the draft's slot, the saved figure's slot or None).
        figures: list[tuple[str, Any, int]] = []
        for i, s in enumerate(j.stages):
            figures.append(("reached", s.name, i))
            figures.append(("current", s.name, n_stages + i))
        for k in range(len(j.transitions) + 1):
            figures.append(("moved", k, 2 * n_stages + k))
        figures.append(("in_journey", "", 2 * n_stages + len(j.transitions) + 1))
        saved_slot = self._saved_slots() if self.saved_figures is not None else {}
        totals: dict[tuple[str, Any], int] = {}
        margins: dict[tuple[str, Any], int] = {}
        everyone = set(draft) | set(self.saved_vectors)
        for what, key, slot in figures:
            base = saved_slot.get((what, key))
            if base is None:  # no saved figure to start from: the sample's total
                ys = [v[slot] for v in draft.values()]
                start = 0
            else:
                sslot, start = base
                ys = [(draft[cid][slot] if cid in draft else 0)
                      - (self.saved_vectors[cid][sslot] if cid in self.saved_vectors else 0)
                      for cid in everyone]
            total = start + sum(ys) / q
            if q >= 1.0:
                margin = 0.0
            else:
                # Bernoulli sampling: Var = (1 − q)/q² · Σ y², with Σ y² taken at the
                # upper end of its own range (as a count seen in the sample), so that a
                # change the sample saw little of, or none, still fits in the margin.
                seen = sum(y * y for y in ys)
                high = seen + Z * Z / 2 + Z * math.sqrt(seen + Z * Z / 4)
                margin = Z * math.sqrt((1 - q) * high) / q
            totals[(what, key)] = max(0, round(total))
            margins[(what, key)] = math.ceil(margin)
        return Estimate(self._figures(j, totals), margins, len(draft), q, q >= 1.0)

    def _saved_slots(self) -> dict[tuple[str, Any], tuple[int, int]]:
        """Each figure of the saved journey: its slot in the saved vectors and its
        stored value."""
        assert self.saved is not None and self.saved_figures is not None
        j, f = self.saved, self.saved_figures
        n_stages = len(j.stages)
        index = {n: i for i, n in enumerate(j.stage_names)}
        out: dict[tuple[str, Any], tuple[int, int]] = {}
        for row in [*f["stages"], *f["exits"]]:
            i = index[row["stage"]]
            out[("reached", row["stage"])] = (i, row["reached"])
            out[("current", row["stage"])] = (n_stages + i, row["current"])
        out[("moved", 0)] = (2 * n_stages, f["entry"]["entered"])
        for t in f["transitions"]:
            out[("moved", t["number"])] = (2 * n_stages + t["number"], t["moved"])
        out[("in_journey", "")] = (2 * n_stages + len(j.transitions) + 1, f["in_journey"])
        return out

    def _figures(self, j: Journey, totals: dict[tuple[str, Any], int]) -> dict[str, Any]:
        """The estimated counts in ``funnel.compute``'s form."""
        from journeytui.domain.conditions import render
        from journeytui.timefmt import iso_time

        main = [s for s in j.stages if not s.exit]
        reached = [totals[("reached", s.name)] for s in main]
        rows = []
        for k, s in enumerate(main):
            last = k == len(main) - 1
            nxt = None if last else reached[k + 1]
            rows.append({
                "stage": s.name, "reached": reached[k], "current": totals[("current", s.name)],
                "next_step_conversion": None if last or not reached[k] else round(
                    min(nxt or 0, reached[k]) / reached[k], 4),
                "cumulative_conversion": round(reached[k] / reached[0], 4) if reached[0]
                else None,
                "drop_off": None if last else max(0, reached[k] - (nxt or 0)),
                "median_days_to_next": None, "stalled": None,
            })
        return {
            "journey": j.name, "goal": j.goal, "evaluated_at": iso_time(self.now),
            "stall_days": DEFAULT_STALL_DAYS, "in_journey": totals[("in_journey", "")],
            "stages": rows,
            "exits": [{"stage": s.name, "reached": totals[("reached", s.name)],
                       "current": totals[("current", s.name)], "stalled": None}
                      for s in j.stages if s.exit],
            "entry": {"stage": j.stages[0].name, "condition": render(j.entry),
                      "entered": totals[("moved", 0)], "emails": []},
            "transitions": [
                {"number": k, "from": t.from_, "to": t.to, "priority": t.priority,
                 "condition": render(t.when), "moved": totals[("moved", k)], "emails": []}
                for k, t in enumerate(j.transitions, start=1)],
            "clicks_with_no_move": [],
        }

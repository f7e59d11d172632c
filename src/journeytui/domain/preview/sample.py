"""The estimate: the draft replayed over a fixed, hashed sample of the contacts,
scaled up, each figure with its margin."""

from __future__ import annotations

import math
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from journeytui.domain.compiler import compile_journey
from journeytui.domain.engine import Hwm, Runner, default_now, high_water
from journeytui.domain.funnel import DEFAULT_STALL_DAYS
from journeytui.domain.journey_model import Journey
from journeytui.domain.preview.cancel import PreviewCancelled
from journeytui.domain.preview.events import Row, _events_of
from journeytui.domain.preview.stored import _renumber, affected_stages, stored_current
from journeytui.store import Store

# Contacts the estimate replays (its sample): about this many of those with activities
# (the ones a journey replays), whatever the store's size.
SAMPLE_CONTACTS = 3_000
# The margin, in standard errors.
Z = 3.0
_HASH_RANGE = 1 << 32


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

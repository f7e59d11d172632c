"""Funnels over time: as of a past date, for an entry cohort, within a conversion
window, and the change between two of them.

Built on the stored moves of an evaluated journey (``journey_moves``), never on a new
replay: the engine is deterministic and causal — a move made at an event depends only
on the events up to that one — so the moves it recorded at or before a time *T* are the
moves a replay of the events up to *T* makes (tests/cohort proves it against such a
replay).  The rules, as the README's "Time, cohorts and segments" section says:

* **As of T** — every move at or before *T*; where each contact stood is the stage of
  its last such move, since that move's time; "stalled" is judged at *T*.  The check an
  evaluation makes at its own time (inactivity judged at "now", a time window closing;
  *provisional* moves) belongs to the evaluation time: as of the evaluation time or
  later the funnel is the stored one, as of an earlier *T* those checks are not redone
  at *T* — a contact they would have moved shows the move at its next event.
* **Entry cohort** — the contacts whose entry into the journey (their first move, into
  the first stage) falls between two times, both included.  A date alone means the
  whole day (UTC): from 00:00 of the first to 23:59:59 of the last.
* **Conversion window** (``within_days`` N) — each cohort member's moves count only up
  to N days after its own entry (and never after *T*); where it stands ("current") is
  where it was at the end of its window, and "stalled" is judged there too.
* Clicks with no move (the funnel's per-stage click counters) are kept per journey,
  not per contact or time: they are left out (``null``) of these funnels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from journeytui.domain.funnel import DEFAULT_STALL_DAYS, FunnelData, compute
from journeytui.domain.journey_model import Journey, JourneyError
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.evaluation_time import resolved_sql
from journeytui.textsafe import safe_text
from journeytui.timefmt import iso_time

DAY = 86_400
_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def parse_when(value: str, what: str, *, end_of_day: bool = False) -> int:
    """A time given by a user: ``YYYY-MM-DD`` (the start of that day UTC, or its last
    second with *end_of_day*), ``YYYY-MM-DDTHH:MM[:SS]`` or seconds since the epoch."""
    v = value.strip()
    if v.isdigit():
        return int(v)
    try:
        day = datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        pass
    else:
        if end_of_day:
            day += timedelta(days=1, seconds=-1)
        return int(day.timestamp())
    for fmt in _FORMATS:
        try:
            return int(datetime.strptime(v, fmt).replace(tzinfo=UTC).timestamp())
        except ValueError:
            continue
    raise UserError(f"{what} {safe_text(value)}: not a time; use YYYY-MM-DD or "
                    "YYYY-MM-DDTHH:MM (UTC), or seconds since the epoch")


def parse_range(value: str, what: str) -> tuple[int, int]:
    """``FROM..TO`` (dates or times, both included) as two times."""
    a, sep, b = value.partition("..")
    if not sep or not a.strip() or not b.strip():
        raise UserError(f"{what} {safe_text(value)}: give a range as FROM..TO, "
                        "e.g. 2026-01-01..2026-01-31")
    lo, hi = parse_when(a, what), parse_when(b, what, end_of_day=True)
    if hi < lo:
        raise UserError(f"{what} {safe_text(value)}: the range ends before it starts")
    return lo, hi


@dataclass(frozen=True)
class Slice:
    """Which funnel: as of a time (None: the evaluation time), for the contacts who
    entered between two times (None: no bound), each within N days of its entry."""

    as_of: int | None = None
    entered_from: int | None = None
    entered_to: int | None = None
    within_days: int | None = None

    @property
    def is_cohort(self) -> bool:
        return self.entered_from is not None or self.entered_to is not None

    @property
    def is_plain(self) -> bool:
        return self.as_of is None and not self.is_cohort and self.within_days is None

    def check(self) -> None:
        if self.within_days is not None and self.within_days < 1:
            raise UserError(f"--within {self.within_days}: the conversion window is at "
                            "least 1 day")
        if self.within_days is not None and not self.is_cohort:
            raise UserError("--within DAYS counts moves from each contact's entry: give the "
                            "entry cohort too (--entered-from and/or --entered-to)")
        if (self.entered_from is not None and self.entered_to is not None
                and self.entered_to < self.entered_from):
            raise UserError("--entered-to is before --entered-from: the cohort is empty "
                            "by definition; swap them")


def _journey(store: Store, name: str) -> tuple[Journey, int, int]:
    """The journey, its id and its evaluation time (refused if never evaluated)."""
    from journeytui.domain.journeys import get_journey

    j, _ = get_journey(store, name)
    row = store.conn.execute(
        "SELECT j.id, p.evaluated_at FROM journeys j LEFT JOIN journey_progress p"
        " ON p.journey_id = j.id WHERE j.name = ?", (name,)
    ).fetchone()
    if row is None or row[1] is None:
        raise UserError(
            f"journey '{safe_text(name)}' has not been evaluated yet; run "
            f"`journeytui evaluate \"{safe_text(name)}\"`"
        )
    return j, int(row[0]), int(row[1])


def slice_data(store: Store, name: str, sl: Slice) -> FunnelData:
    """The funnel's input for *sl*, cut from the stored moves."""
    sl.check()
    j, jid, evaluated_at = _journey(store, name)
    at_time = evaluated_at if sl.as_of is None else sl.as_of
    index = {n: i for i, n in enumerate(j.stage_names)}
    lo = sl.entered_from if sl.entered_from is not None else -(1 << 62)
    hi = sl.entered_to if sl.entered_to is not None else 1 << 62
    window = None if sl.within_days is None else sl.within_days * DAY
    moves: list[tuple[int, int, int, int, int, int | None]] = []
    positions: dict[int, tuple[int, int | None]] = {}
    cid_now = -1
    keep = False
    cut = at_time
    last: tuple[int, int] | None = None
    try:
        # Each contact's moves in the order they were made (non-provisional ones by id;
        # the provisional ones, at the evaluation time, after them).
        at_sql = resolved_sql("at", ":now")
        rows = store.conn.execute(
            f"SELECT contact_id, from_stage, to_stage, transition, {at_sql}, email_id"
            f" FROM journey_moves WHERE journey_id = :j AND {at_sql} <= :t"
            " ORDER BY contact_id, provisional, id",
            {"j": jid, "t": at_time, "now": evaluated_at})
        for cid, src, to, num, at, email in rows:
            if cid != cid_now:
                if keep and last is not None:
                    positions[cid_now] = (last[0], last[1] + (at_time - cut))
                cid_now, last = cid, None
                # The first move is the entry: it decides cohort membership.
                keep = src is None and lo <= at <= hi
                cut = at_time if window is None else min(at_time, at + window)
            if not keep or at > cut:
                continue
            moves.append((cid, index[src] if src is not None else -1, index[to], num or 0,
                          at, email))
            last = (index[to], at)
        if keep and last is not None:
            positions[cid_now] = (last[0], last[1] + (at_time - cut))
    except KeyError:
        raise JourneyError(
            f"journey '{safe_text(name)}': stored results do not match its stages; run "
            f"`journeytui evaluate \"{safe_text(name)}\"`"
        ) from None
    # (A contact's "since" is shifted by the time between the end of its window and
    # T, so that "stalled at T" reads as "stalled at the end of its window".)
    names = dict(store.conn.execute("SELECT id, name FROM emails").fetchall())
    return FunnelData(j, at_time, positions, moves, {}, names)


def slice_funnel(
    store: Store, name: str, sl: Slice, *, stall_days: int = DEFAULT_STALL_DAYS
) -> dict[str, Any]:
    """The funnel of *sl*: the same fields as the plain funnel, plus ``slice`` (what
    was asked) and ``clicks_with_no_move`` null (not kept per contact or time)."""
    if sl.is_plain:
        from journeytui.domain.funnel import funnel

        data = funnel(store, name, stall_days=stall_days)
    else:
        data = compute(slice_data(store, name, sl), stall_days=stall_days)
        data["clicks_with_no_move"] = None
    data["slice"] = {
        "as_of": iso_time(sl.as_of),
        "entered_from": iso_time(sl.entered_from),
        "entered_to": iso_time(sl.entered_to),
        "within_days": sl.within_days,
    }
    return data


def describe(sl: Slice, evaluated_at: int | None = None) -> str:
    """One line saying which funnel *sl* is (for headings); times ``YYYY-MM-DD HH:MM``
    UTC.  With *evaluated_at*, "as of the last evaluation" says when that was."""
    from journeytui.timefmt import fmt_time

    parts = []
    if sl.is_cohort:
        lo = fmt_time(sl.entered_from) if sl.entered_from is not None else "the start"
        hi = fmt_time(sl.entered_to) if sl.entered_to is not None else "now"
        parts.append(f"entered {lo} – {hi}")
    if sl.within_days is not None:
        parts.append(f"moves within {sl.within_days} days of entry")
    if sl.as_of is not None:
        parts.append(f"as of {fmt_time(sl.as_of)}")
    elif evaluated_at is not None:
        parts.append(f"as of the last evaluation ({fmt_time(evaluated_at)})")
    else:
        parts.append("as of the last evaluation")
    return ", ".join(parts)


# -- comparison --------------------------------------------------------------------------
def _delta(a: float | int | None, b: float | int | None) -> float | int | None:
    if a is None or b is None:
        return None
    d = b - a
    return round(d, 4) if isinstance(d, float) else d


_STAGE_FIGURES = ("reached", "current", "next_step_conversion", "cumulative_conversion",
                  "stalled")
_EXIT_FIGURES = ("reached", "current")


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The change per stage between two funnels of the same journey: each figure as
    ``{"before", "after", "delta"}`` (delta = after − before; rates as fractions)."""

    def rows(key: str, figures: tuple[str, ...]) -> list[dict[str, Any]]:
        old = {r["stage"]: r for r in before[key]}
        out = []
        for r in after[key]:
            o = old.get(r["stage"], {})
            row: dict[str, Any] = {"stage": r["stage"]}
            for f in figures:
                row[f] = {"before": o.get(f), "after": r[f], "delta": _delta(o.get(f), r[f])}
            out.append(row)
        return out

    return {
        "journey": after["journey"],
        "before": {"slice": before.get("slice"), "evaluated_at": before["evaluated_at"],
                   "in_journey": before["in_journey"]},
        "after": {"slice": after.get("slice"), "evaluated_at": after["evaluated_at"],
                  "in_journey": after["in_journey"]},
        "in_journey": {"before": before["in_journey"], "after": after["in_journey"],
                       "delta": after["in_journey"] - before["in_journey"]},
        "stages": rows("stages", _STAGE_FIGURES),
        "exits": rows("exits", _EXIT_FIGURES),
    }


def compare_slices(
    store: Store, name: str, before: Slice, after: Slice, *,
    stall_days: int = DEFAULT_STALL_DAYS,
) -> dict[str, Any]:
    return compare(slice_funnel(store, name, before, stall_days=stall_days),
                   slice_funnel(store, name, after, stall_days=stall_days))

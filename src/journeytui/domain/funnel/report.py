"""The funnel's figures: what a funnel is computed from (:class:`FunnelData`), its
computation from every move and position (:func:`compute`), and the report
``journeytui funnel --json`` gives, from the counts, medians and stalled counts."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from journeytui.domain.conditions import render
from journeytui.domain.funnel.tally import Tally
from journeytui.domain.in_stage import check_stall_days
from journeytui.domain.journey_model import Journey
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

"""The funnel of a journey (PRODUCT.md §4), from stored results or from a preview.

Per main-line stage, in order:

* ``reached`` — contacts who ever got at least as far as this stage (a contact whose
  transition jumps ahead counts for the stages it skipped, so ``reached`` never
  grows along the main line);
* ``current`` — contacts in it as of the evaluation time;
* ``next_step_conversion`` = reached(k+1) / reached(k); ``cumulative_conversion``
  = reached(k) / reached(first stage); ``drop_off`` = reached(k) − reached(k+1);
  ``null`` where there is no next stage or the denominator is 0;
* ``median_days_to_next`` — median days from first reaching this stage to first
  reaching the next, over those who did;
* ``stalled`` — contacts currently in it for more than ``stall_days`` days
  (``null`` for the last stage: that is the goal).

Exit stages are reported apart (reached, current; ``stalled`` is ``null``: nobody is
stalled in the goal or an exit stage, in any output).  Per transition: how many moves
it made and which emails' events triggered them (``email`` null: a form, a page
visit, or the check at evaluation time).  Per stage and email: clicks by contacts
while in that stage, and how many led to no move ("many clicks, little progress").
"""

from __future__ import annotations

import csv
import io
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from journeytui.domain.conditions import render
from journeytui.domain.journey_model import Journey, JourneyError
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.textsafe import csv_cell, safe_text
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
    if stall_days < 1:
        raise UserError(f"--stall-days {stall_days}: must be at least 1")
    j = data.journey
    stages = j.stages
    main = [i for i, s in enumerate(stages) if not s.exit]
    level = {idx: k for k, idx in enumerate(main)}
    n_main = len(main)
    reached = [0] * n_main
    durations: list[list[int]] = [[] for _ in range(n_main)]
    exit_reached: Counter[int] = Counter()
    per_transition: Counter[int] = Counter()
    per_email: Counter[tuple[int, int | None]] = Counter()

    cur_cid = None
    maxlvl = -1
    times: list[int] = [0] * n_main
    exits_seen: set[int] = set()

    def close() -> None:
        for k in range(maxlvl + 1):
            reached[k] += 1
        for k in range(maxlvl):
            durations[k].append(times[k + 1] - times[k])
        for e in exits_seen:
            exit_reached[e] += 1

    for cid, _src, to, num, at, email in data.moves:
        if cid != cur_cid:
            if cur_cid is not None:
                close()
            cur_cid, maxlvl, exits_seen = cid, -1, set()
        per_transition[num] += 1
        per_email[(num, email)] += 1
        k = level.get(to)
        if k is None:
            exits_seen.add(to)
        elif k > maxlvl:
            for kk in range(maxlvl + 1, k + 1):
                times[kk] = at
            maxlvl = k
    if cur_cid is not None:
        close()

    current: Counter[int] = Counter()
    stalled: Counter[int] = Counter()
    limit = data.now - stall_days * DAY
    for stage, since in data.positions.values():
        current[stage] += 1
        if since is not None and since < limit:
            stalled[stage] += 1

    rows = []
    first = reached[0] if reached else 0
    for k, idx in enumerate(main):
        last = k == n_main - 1
        nxt = None if last else reached[k + 1]
        med = statistics.median(durations[k]) / DAY if durations[k] else None
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
        {"stage": s.name, "reached": exit_reached[i], "current": current[i], "stalled": None}
        for i, s in enumerate(stages) if s.exit
    ]

    def emails_of(num: int) -> list[dict[str, Any]]:
        found = [(e, n) for (t, e), n in per_email.items() if t == num]
        found.sort(key=lambda p: (-p[1], data.email_names.get(p[0], "") if p[0] else "~"))
        return [{"email": data.email_names.get(e, f"#{e}") if e is not None else None,
                 "moved": n} for e, n in found]

    transitions = []
    for k, t in enumerate(j.transitions, start=1):
        transitions.append({
            "number": k,
            "from": t.from_,
            "to": t.to,
            "priority": t.priority,
            "condition": render(t.when),
            "moved": per_transition[k],
            "emails": emails_of(k),
        })
    clicks: list[dict[str, Any]] = []
    for (stage, email), (n, moved) in data.clicks.items():
        if n <= 0:
            continue
        clicks.append({
            "stage": stages[stage].name,
            "email": data.email_names.get(email, f"#{email}"),
            "clicks": n,
            "moved": moved,
            "clicks_with_no_move": n - moved,
        })
    clicks.sort(key=lambda r: (j.stage_names.index(r["stage"]), -r["clicks_with_no_move"],
                               r["email"]))
    return {
        "journey": j.name,
        "goal": j.goal,
        "evaluated_at": iso_time(data.now),
        "stall_days": stall_days,
        "in_journey": len(data.positions),
        "stages": rows,
        "exits": exits,
        "entry": {"stage": stages[0].name, "condition": render(j.entry),
                  "entered": per_transition[0], "emails": emails_of(0)},
        "transitions": transitions,
        "clicks_with_no_move": clicks,
    }


# -- reading the stored results --------------------------------------------------------
def _email_names(store: Store) -> dict[int, str]:
    return dict(store.conn.execute("SELECT id, name FROM emails").fetchall())


def stored_data(store: Store, name: str) -> FunnelData:
    from journeytui.domain.journeys import get_journey

    j, _ = get_journey(store, name)
    conn = store.conn
    jid, = conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()
    prog = conn.execute(
        "SELECT evaluated_at, version FROM journey_progress WHERE journey_id = ?", (jid,)
    ).fetchone()
    if prog is None:
        raise UserError(
            f"journey '{safe_text(name)}' has not been evaluated yet; run "
            f"`journeytui evaluate \"{safe_text(name)}\"`"
        )
    index = {n: i for i, n in enumerate(j.stage_names)}
    try:
        positions = {
            cid: (index[stage], since)
            for cid, stage, since in conn.execute(
                "SELECT contact_id, stage, since FROM journey_positions"
                " WHERE journey_id = ? AND stage IS NOT NULL", (jid,)
            )
        }
        moves = [
            (cid, index[f] if f is not None else -1, index[t], num or 0, at, email)
            for cid, f, t, num, at, email in conn.execute(
                "SELECT contact_id, from_stage, to_stage, transition, at, email_id"
                " FROM journey_moves WHERE journey_id = ?"
                " ORDER BY contact_id, provisional, id", (jid,)
            )
        ]
        clicks = {
            (index[stage], email): [n, moved]
            for stage, email, n, moved in conn.execute(
                "SELECT stage, email_id, clicks, moved FROM journey_click_stats"
                " WHERE journey_id = ?", (jid,)
            )
        }
    except KeyError:
        raise JourneyError(
            f"journey '{safe_text(name)}': stored results do not match its stages; run "
            f"`journeytui evaluate \"{safe_text(name)}\"`"
        ) from None
    return FunnelData(j, int(prog[0]), positions, moves, clicks, _email_names(store))


def funnel(store: Store, name: str, *, stall_days: int = DEFAULT_STALL_DAYS) -> dict[str, Any]:
    return compute(stored_data(store, name), stall_days=stall_days)


def preview(
    store: Store, j: Journey, *, now: int | None = None, stall_days: int = DEFAULT_STALL_DAYS,
    validate: bool = True,
) -> dict[str, Any]:
    """The funnel *j* would give, without saving or writing anything."""
    from journeytui.domain.engine import replay
    from journeytui.domain.journeys import validate_for_store

    if validate:
        validate_for_store(store, j)
    r = replay(store.conn, j, now=now, keep_states=False)
    positions = {cid: pos for cid, pos in r.positions.items() if pos[0] >= 0}
    moves = [(m[0], m[1], m[2], m[3], m[4], m[7]) for m in r.moves]
    data = FunnelData(j, r.now, positions, moves, r.clicks, _email_names(store))
    return compute(data, stall_days=stall_days)


# -- who is in a stage ---------------------------------------------------------------
@dataclass(frozen=True)
class StageContact:
    contact_id: int
    email: str
    first_name: str
    last_name: str
    stage: str
    since: int | None
    days_in_stage: float | None
    stalled: bool


def stage_contacts(
    store: Store, name: str, stage: str, *, stall_days: int = DEFAULT_STALL_DAYS,
    stalled_only: bool = False,
) -> list[StageContact]:
    """Contacts currently in *stage* (longest there first)."""
    from journeytui.domain.journeys import get_journey

    j, _ = get_journey(store, name)
    if stage not in j.stage_names:
        raise UserError(
            f"journey '{safe_text(name)}' has no stage '{safe_text(stage)}'; its stages: "
            + ", ".join(f"'{safe_text(s)}'" for s in j.stage_names)
        )
    conn = store.conn
    row = conn.execute(
        "SELECT p.evaluated_at FROM journey_progress p JOIN journeys j ON j.id = p.journey_id"
        " WHERE j.name = ?", (name,)
    ).fetchone()
    now = int(row[0]) if row else int(time.time())
    limit = now - stall_days * DAY
    # Nobody is stalled in the goal or an exit stage (the funnel says the same).
    can_stall = stage in j.main_line[:-1]
    out = []
    for cid, email, first, last, since in conn.execute(
        "SELECT c.id, c.email, c.first_name, c.last_name, p.since FROM journey_positions p"
        " JOIN journeys j ON j.id = p.journey_id JOIN contacts c ON c.id = p.contact_id"
        " WHERE j.name = ? AND p.stage = ? ORDER BY p.since, c.id", (name, stage)
    ):
        is_stalled = can_stall and since is not None and since < limit
        if stalled_only and not is_stalled:
            continue
        days = None if since is None else round((now - since) / DAY, 1)
        out.append(StageContact(cid, email, first, last, stage, since, days, is_stalled))
    return out


def contacts_csv(rows: list[StageContact]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["email", "first_name", "last_name", "stage", "since", "days_in_stage",
                "stalled"])
    for r in rows:
        w.writerow([csv_cell(r.email), csv_cell(r.first_name), csv_cell(r.last_name),
                    csv_cell(r.stage), iso_time(r.since) or "", r.days_in_stage,
                    "yes" if r.stalled else "no"])
    return buf.getvalue()


"""The funnel figures the Journeys and Conditions panes show, and the store lookups
they need — an adapter over the journey engine (``journeytui.domain``).

The figures come from the domain's own funnel (``journeytui.domain.funnel``: the
same numbers as ``journeytui funnel``), for the saved journey
(:func:`stored_figures`) and for a draft replayed in memory
(:func:`preview_figures`), turned into small dataclasses the widgets draw.
Meanings are the domain's (PRODUCT.md §4; ``reached`` counts a contact for every
main-line stage up to the furthest it got, so it never grows along the main line).

Who is in a stage (one keyset page at a time, in three orders) and the names a
condition may use come from the domain too (``funnel.stage_page``,
``journeys.store_choices``), under the names the panes use.  No SQL here: plain
functions of a Store; they run in worker threads.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from journeytui.domain.funnel import (
    STAGE_SORTS,
    StageMember,
    count_in_stage,
    iter_stage_members,
    stage_page,
)
from journeytui.domain.journey_model import Journey
from journeytui.domain.journeys import StoreChoices as StoreChoices
from journeytui.domain.journeys import journey_id as journey_id
from journeytui.domain.journeys import store_choices as store_choices
from journeytui.errors import UserError
from journeytui.store import Store

DAY = 86_400
# What a worker of the panes turns into a message for the user (never a traceback):
# a user error, or the store failing (locked by another writer, disk full…).
WORKER_ERRORS: tuple[type[BaseException], ...] = (UserError, sqlite3.Error, OSError)
STALL_STEPS = (1, 3, 7, 14, 21, 30, 45, 60, 90, 120, 180, 365)
DEFAULT_STALL_DAYS = 30
NO_EMAIL = "(no email: a form, a page visit or the check at evaluation)"


@dataclass(frozen=True)
class StageRow:
    index: int  # position in Journey.stages
    number: int  # 1-based position on the main line (exits: 0)
    name: str
    exit: bool
    reached: int
    current: int
    next_rate: float | None  # None: the last main stage, or nobody reached this one
    cumulative: float | None
    drop_off: int | None
    median_days: float | None
    stalled: int | None  # None: not counted for this stage (the goal, exits)


@dataclass(frozen=True)
class TransitionRow:
    number: int  # 1-based index in Journey.transitions
    source: str | None  # None: any stage
    target: str
    moved: int
    emails: list[tuple[str, int]]  # (email name or NO_EMAIL, moves), most first

    @property
    def label(self) -> str:
        return f"{self.source if self.source is not None else 'any stage'} → {self.target}"


@dataclass(frozen=True)
class ClickRow:
    email: str
    clicks: int
    moved: int

    @property
    def idle(self) -> int:
        return self.clicks - self.moved


@dataclass
class FunnelFigures:
    journey: str
    version: int
    now: int | None
    stall_days: int
    main: list[StageRow] = field(default_factory=list)
    exits: list[StageRow] = field(default_factory=list)
    transitions: list[TransitionRow] = field(default_factory=list)
    clicks: dict[str, list[ClickRow]] = field(default_factory=dict)  # per stage

    @property
    def stages(self) -> list[StageRow]:
        return self.main + self.exits

    def stage(self, name: str) -> StageRow | None:
        return next((s for s in self.stages if s.name == name), None)


def _epoch(iso: str | None) -> int | None:
    if not iso:
        return None
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def from_domain(j: Journey, d: dict[str, Any], version: int) -> FunnelFigures:
    """The domain's funnel dict (``funnel.compute``) as the panes' dataclasses."""
    out = FunnelFigures(j.name, version, _epoch(d.get("evaluated_at")), int(d["stall_days"]))
    index = {n: i for i, n in enumerate(j.stage_names)}
    for k, row in enumerate(d["stages"], start=1):
        out.main.append(StageRow(
            index=index[row["stage"]], number=k, name=row["stage"], exit=False,
            reached=row["reached"], current=row["current"],
            next_rate=row["next_step_conversion"], cumulative=row["cumulative_conversion"],
            drop_off=row["drop_off"], median_days=row["median_days_to_next"],
            stalled=row["stalled"],
        ))
    for row in d["exits"]:
        out.exits.append(StageRow(
            index=index[row["stage"]], number=0, name=row["stage"], exit=True,
            reached=row["reached"], current=row["current"], next_rate=None,
            cumulative=None, drop_off=None, median_days=None, stalled=None,
        ))
    for t in d["transitions"]:
        emails = [(e["email"] if e["email"] is not None else NO_EMAIL, e["moved"])
                  for e in t["emails"]]
        out.transitions.append(TransitionRow(t["number"], t["from"], t["to"], t["moved"],
                                             emails))
    per_stage: dict[str, list[ClickRow]] = defaultdict(list)
    for c in d["clicks_with_no_move"]:
        per_stage[c["stage"]].append(ClickRow(c["email"], c["clicks"], c["moved"]))
    out.clicks = dict(per_stage)
    return out


def stored_figures(store: Store, name: str, stall_days: int) -> FunnelFigures:
    """The funnel of the saved journey *name*, as the engine last evaluated it."""
    from journeytui.domain.funnel import funnel
    from journeytui.domain.journeys import get_journey

    j, version = get_journey(store, name)
    return from_domain(j, funnel(store, name, stall_days=stall_days), version)


def preview_figures(
    store: Store, j: Journey, stall_days: int, *, version: int = 0
) -> FunnelFigures:
    """The funnel *j* would give, from a replay in memory (nothing is written)."""
    from journeytui.domain.funnel import preview

    return from_domain(j, preview(store, j, stall_days=stall_days), version)


# -- who is in a stage, and the names a condition can use: the domain's ----------------
SORTS = STAGE_SORTS
SORT_LABELS = {
    "longest": "longest in stage first",
    "newest": "newest in stage first",
    "name": "by name",
}
StageContact = StageMember
count_stage_contacts = count_in_stage
stage_contacts = stage_page
all_stage_contacts = iter_stage_members


def diff(current: Sequence[StageRow], draft: Sequence[StageRow]) -> dict[str, tuple[int, int]]:
    """Per stage name: (reached difference, current difference), draft − current."""
    before = {s.name: s for s in current}
    out: dict[str, tuple[int, int]] = {}
    for s in draft:
        b = before.get(s.name)
        out[s.name] = (s.reached - (b.reached if b else 0), s.current - (b.current if b else 0))
    return out

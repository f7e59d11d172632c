"""The funnel figures the Journeys and Conditions panes show, and the store lookups
they need — an adapter over the journey engine (``journeytui.domain``).

The figures come from the domain's own funnel (``journeytui.domain.funnel``: the
same numbers as ``journeytui funnel``), for the saved journey
(:func:`stored_figures`) and for a draft replayed in memory
(:func:`preview_figures`), turned into small dataclasses the widgets draw.
Meanings are the domain's (PRODUCT.md §4; ``reached`` counts a contact for every
main-line stage up to the furthest it got, so it never grows along the main line).

What the domain does not offer and the panes need is here too: who is in a stage
one keyset page at a time in three orders (the domain returns the whole list,
longest first), and the names a condition may use (for suggestions).  Plain
functions of a Store; they run in worker threads.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from journeytui.domain.journey_model import Journey
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


# -- who is in a stage -----------------------------------------------------------------
@dataclass(frozen=True)
class StageContact:
    contact_id: int
    name: str
    address: str
    since: int | None


SORTS = ("longest", "newest", "name")
SORT_LABELS = {
    "longest": "longest in stage first",
    "newest": "newest in stage first",
    "name": "by name",
}


def journey_id(store: Store, name: str) -> int | None:
    row = store.conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row else None


def count_stage_contacts(
    store: Store, jid: int, stage: str, before: int | None
) -> int:
    sql = "SELECT count(*) FROM journey_positions WHERE journey_id = ? AND stage = ?"
    args: list[Any] = [jid, stage]
    if before is not None:
        sql += " AND since < ?"
        args.append(before)
    return int(store.conn.execute(sql, args).fetchone()[0])


def stage_contacts(
    store: Store, jid: int, stage: str, *, before: int | None, sort: str,
    after: Any | None, limit: int, backwards: bool = False,
) -> list[tuple[Any, StageContact]]:
    """One keyset page of the contacts now in *stage* (stalled only: *before*);
    returns (key, contact) pairs, the key to pass as *after* for the next page.

    *backwards*: the *limit* rows just before key *after* (the last rows when it is
    None), in the list's order — so the end of a long list is one read.  Ordered by
    ``since`` and the contact id as they are, so the stage index serves every page
    (no sort of the whole stage).
    """
    where = "p.journey_id = ? AND p.stage = ?"
    args: list[Any] = [jid, stage]
    if before is not None:
        where += " AND p.since < ?"
        args.append(before)
    if sort == "name":
        order_cols, direction = ("lower(c.first_name || ' ' || c.last_name)", "p.contact_id"), "ASC"
    elif sort == "newest":
        order_cols, direction = ("p.since", "p.contact_id"), "DESC"
    else:
        order_cols, direction = ("p.since", "p.contact_id"), "ASC"
    if backwards:
        direction = "DESC" if direction == "ASC" else "ASC"
    if after is not None:
        op = ">" if direction == "ASC" else "<"
        where += f" AND ({order_cols[0]}, {order_cols[1]}) {op} (?, ?)"
        args.extend(after)
    sql = (
        f"SELECT {order_cols[0]}, p.contact_id, trim(c.first_name || ' ' || c.last_name),"
        " c.email, p.since"
        " FROM journey_positions p JOIN contacts c ON c.id = p.contact_id"
        f" WHERE {where} ORDER BY {order_cols[0]} {direction}, {order_cols[1]} {direction}"
        " LIMIT ?"
    )
    args.append(limit)
    rows = [
        ((k, cid), StageContact(cid, name or "", address or "", since))
        for k, cid, name, address, since in store.conn.execute(sql, args)
    ]
    return rows[::-1] if backwards else rows


def all_stage_contacts(
    store: Store, jid: int, stage: str, *, before: int | None, sort: str
) -> Iterator[StageContact]:
    after = None
    while True:
        page = stage_contacts(store, jid, stage, before=before, sort=sort, after=after,
                              limit=2000)
        for _, c in page:
            yield c
        if len(page) < 2000:
            return
        after = page[-1][0]


# -- names a condition can refer to (for suggestions) ----------------------------------
@dataclass
class StoreChoices:
    emails: list[str] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)  # email name -> URLs
    pages: list[str] = field(default_factory=list)

    def all_links(self) -> list[str]:
        seen: dict[str, None] = {}
        for urls in self.links.values():
            for u in urls:
                seen.setdefault(u, None)
        return sorted(seen)


def store_choices(store: Store) -> StoreChoices:
    conn = store.conn
    links: dict[str, list[str]] = defaultdict(list)
    for email, url in conn.execute(
        "SELECT e.name, l.url FROM links l JOIN emails e ON e.id = l.email_id"
        " ORDER BY e.name, l.url"
    ):
        links[email].append(url)
    return StoreChoices(
        emails=[r[0] for r in conn.execute("SELECT name FROM emails ORDER BY name")],
        lists=[r[0] for r in conn.execute("SELECT name FROM lists ORDER BY name")],
        forms=[r[0] for r in conn.execute(
            "SELECT DISTINCT value FROM activities WHERE kind = 'form' AND value IS NOT NULL"
            " ORDER BY value")],
        links=dict(links),
        pages=[r[0] for r in conn.execute(
            "SELECT DISTINCT value FROM activities WHERE kind = 'visit' AND value IS NOT NULL"
            " ORDER BY value LIMIT 500")],
    )


def diff(current: Sequence[StageRow], draft: Sequence[StageRow]) -> dict[str, tuple[int, int]]:
    """Per stage name: (reached difference, current difference), draft − current."""
    before = {s.name: s for s in current}
    out: dict[str, tuple[int, int]] = {}
    for s in draft:
        b = before.get(s.name)
        out[s.name] = (s.reached - (b.reached if b else 0), s.current - (b.current if b else 0))
    return out

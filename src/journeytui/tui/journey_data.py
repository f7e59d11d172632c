"""The funnel figures the Journeys and Conditions panes show, and the store lookups
they need — an adapter over the journey engine (``journeytui.domain``).

The same function (:func:`figures`) turns moves, positions and click counts into
the funnel, whether they come from the store (the saved journey, as the engine last
evaluated it: :func:`stored_figures`) or from an in-memory replay of a draft
(:func:`preview_figures`), so the editor's "current vs draft" difference compares
like with like.  Plain functions of a Store; they run in worker threads.

Meanings (PRODUCT.md §4): *reached* = contacts who ever entered the stage;
*current* = contacts in it now; next-step conversion = reached k+1 / reached k;
cumulative = reached k / reached stage 1; drop-off = reached k − reached k+1;
median days to next = over contacts who reached both, from their first entry into
k to their first entry into k+1; *stalled* = in the stage for longer than the
threshold at evaluation time (not counted for the last main-line stage, the goal,
nor for exit stages, where staying is the point).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from journeytui.domain.journey_model import Journey
from journeytui.store import Store

DAY = 86_400
STALL_STEPS = (1, 3, 7, 14, 21, 30, 45, 60, 90, 120, 180, 365)
DEFAULT_STALL_DAYS = 30
NO_EMAIL = "(check at evaluation time)"


@dataclass(frozen=True)
class StageRow:
    index: int  # position in Journey.stages
    number: int  # 1-based position on the main line (exits: 0)
    name: str
    exit: bool
    reached: int
    current: int
    next_rate: float | None  # None: last main stage, or nobody reached this one
    cumulative: float | None
    drop_off: int | None
    median_days: float | None
    stalled: int | None  # None: not counted for this stage


@dataclass(frozen=True)
class TransitionRow:
    number: int  # 1-based index in Journey.transitions
    source: str | None  # None: any stage
    target: str
    moved: int
    emails: list[tuple[str, int]]  # (email name, moves), most first

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


# -- the figures -----------------------------------------------------------------------
Move = tuple[int, str, int | None, int, int | None]  # contact, to_stage, transition, at, email


def figures(
    j: Journey,
    *,
    version: int,
    now: int | None,
    stall_days: int,
    moves: Iterable[Move],
    positions: Iterable[tuple[str | None, int | None]],
    clicks: Iterable[tuple[str, int, int, int]],  # stage, email id, clicks, moved
    email_names: dict[int, str],
) -> FunnelFigures:
    first_at: dict[str, dict[int, int]] = defaultdict(dict)
    by_transition: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for contact, to_stage, transition, at, email in moves:
        seen = first_at[to_stage]
        if contact not in seen or at < seen[contact]:
            seen[contact] = at
        if transition:
            name = email_names.get(email, f"email #{email}") if email is not None else NO_EMAIL
            by_transition[transition][name] += 1
    current: dict[str, int] = defaultdict(int)
    stalled: dict[str, int] = defaultdict(int)
    cutoff = (now - stall_days * DAY) if now is not None else None
    for stage, since in positions:
        if stage is None:
            continue
        current[stage] += 1
        if cutoff is not None and since is not None and since < cutoff:
            stalled[stage] += 1
    main = [s.name for s in j.stages if not s.exit]
    out = FunnelFigures(j.name, version, now, stall_days)
    first_reached = len(first_at.get(main[0], {})) if main else 0
    for k, name in enumerate(main):
        reached = len(first_at.get(name, {}))
        nxt = main[k + 1] if k + 1 < len(main) else None
        next_rate = drop = median = None
        if nxt is not None:
            reached_next = len(first_at.get(nxt, {}))
            next_rate = reached_next / reached if reached else None
            drop = max(0, reached - reached_next)
            here, there = first_at.get(name, {}), first_at.get(nxt, {})
            days = [(there[c] - t) / DAY for c, t in here.items()
                    if c in there and there[c] >= t]
            median = statistics.median(days) if days else None
        out.main.append(StageRow(
            index=j.stage_names.index(name), number=k + 1, name=name, exit=False,
            reached=reached, current=current.get(name, 0), next_rate=next_rate,
            cumulative=(reached / first_reached) if first_reached else None,
            drop_off=drop, median_days=median,
            stalled=stalled.get(name, 0) if nxt is not None else None,
        ))
    for s in j.stages:
        if s.exit:
            out.exits.append(StageRow(
                index=j.stage_names.index(s.name), number=0, name=s.name, exit=True,
                reached=len(first_at.get(s.name, {})), current=current.get(s.name, 0),
                next_rate=None, cumulative=None, drop_off=None, median_days=None,
                stalled=None,
            ))
    for i, t in enumerate(j.transitions, start=1):
        emails = sorted(by_transition.get(i, {}).items(), key=lambda e: (-e[1], e[0]))
        out.transitions.append(
            TransitionRow(i, t.from_, t.to, sum(n for _, n in emails), emails)
        )
    per_stage: dict[str, list[ClickRow]] = defaultdict(list)
    for stage, email, n, moved in clicks:
        if n:
            per_stage[stage].append(ClickRow(email_names.get(email, f"email #{email}"), n, moved))
    for rows in per_stage.values():
        rows.sort(key=lambda r: (-r.idle, r.email))
    out.clicks = dict(per_stage)
    return out


def email_names(store: Store) -> dict[int, str]:
    return dict(store.conn.execute("SELECT id, name FROM emails").fetchall())


def stored_figures(store: Store, name: str, stall_days: int) -> FunnelFigures:
    """The funnel of the saved journey *name*, as the engine last evaluated it."""
    from journeytui.domain.journeys import get_journey

    conn = store.conn
    j, version = get_journey(store, name)
    row = conn.execute(
        "SELECT j.id, p.evaluated_at FROM journeys j"
        " LEFT JOIN journey_progress p ON p.journey_id = j.id WHERE j.name = ?", (name,)
    ).fetchone()
    jid, now = int(row[0]), row[1]
    moves = conn.execute(
        "SELECT contact_id, to_stage, transition, at, email_id FROM journey_moves"
        " WHERE journey_id = ?", (jid,)
    )
    positions = conn.execute(
        "SELECT stage, since FROM journey_positions WHERE journey_id = ?", (jid,)
    )
    clicks = conn.execute(
        "SELECT stage, email_id, clicks, moved FROM journey_click_stats WHERE journey_id = ?",
        (jid,),
    )
    return figures(j, version=version, now=now, stall_days=stall_days, moves=moves,
                   positions=positions, clicks=clicks, email_names=email_names(store))


def preview_figures(
    store: Store, j: Journey, stall_days: int, *, version: int = 0
) -> FunnelFigures:
    """The funnel *j* would give, from a replay in memory (nothing is written)."""
    from journeytui.domain.engine import replay

    r = replay(store.conn, j, keep_states=False)
    names = r.compiled.stage_names
    moves = ((m[0], names[m[2]], m[3] or None, m[4], m[7]) for m in r.moves)
    positions = (
        (names[p[0]] if p[0] >= 0 else None, p[1]) for p in r.positions.values()
    )
    clicks = ((names[s], e, v[0], v[1]) for (s, e), v in r.clicks.items())
    return figures(j, version=version, now=r.now, stall_days=stall_days, moves=moves,
                   positions=positions, clicks=clicks, email_names=email_names(store))


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
    after: Any | None, limit: int,
) -> list[tuple[Any, StageContact]]:
    """One keyset page of the contacts now in *stage* (stalled only: *before*);
    returns (key, contact) pairs, the key to pass as *after* for the next page."""
    where = "p.journey_id = ? AND p.stage = ?"
    args: list[Any] = [jid, stage]
    if before is not None:
        where += " AND p.since < ?"
        args.append(before)
    if sort == "name":
        order_cols, direction = ("lower(c.first_name || ' ' || c.last_name)", "c.id"), "ASC"
    elif sort == "newest":
        order_cols, direction = ("coalesce(p.since, 0)", "c.id"), "DESC"
    else:
        order_cols, direction = ("coalesce(p.since, 0)", "c.id"), "ASC"
    if after is not None:
        op = ">" if direction == "ASC" else "<"
        where += f" AND ({order_cols[0]}, {order_cols[1]}) {op} (?, ?)"
        args.extend(after)
    sql = (
        f"SELECT {order_cols[0]}, c.id, trim(c.first_name || ' ' || c.last_name), c.email,"
        " p.since"
        " FROM journey_positions p JOIN contacts c ON c.id = p.contact_id"
        f" WHERE {where} ORDER BY {order_cols[0]} {direction}, {order_cols[1]} {direction}"
        " LIMIT ?"
    )
    args.append(limit)
    return [
        ((k, cid), StageContact(cid, name or "", address or "", since))
        for k, cid, name, address, since in store.conn.execute(sql, args)
    ]


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

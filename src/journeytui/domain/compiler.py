"""Compiling a journey once into plain closures over a per-contact state list.

The engine's hot loop sees only tuples and lists: an event row is
``(contact_id, at, src, id, kind, email_id, link_id, list_id, value)`` with ``src``

* 0 for a delivered send (kind ``"send"``);
* 1 for a contact activity (open, click, confirm, form, visit);
* 2 for a subscription change (kind ``"unsubscribe"``, ``"resubscribe"`` or
  ``"spam"``; ``list_id`` None = all lists), with or without consent; its ``value``
  is the id of the contact activity that recorded it (consented contacts), else None.

A contact's state is a list: ``[stage, since, last_at, last_src, last_id, cut,
sends, clicks, slot…]`` where stage is the stage index (-1: not entered), since the
time the current stage was entered, ``last_*`` the key of the last event processed
(for incremental advances), ``cut`` whether the last cascade stopped at a stage
already visited (then every transition is tried at the next event), ``sends``
``[n, Σ at]`` of the delivered sends processed (so an advance notices a send
whose status or time changed since), ``clicks`` this contact's share of the
per-stage click counters ``[[stage, email, clicks, moved], …]`` (so a replay can take
it back), and one slot per distinct leaf:

* most leaves: the time of the latest matching event (or None);
* ``unsubscribed``: the time of the unsubscribe in force (None once resubscribed);
* ``clicks_at_least``: the times of the latest K clicks;
* ``no_click_in_last``: ``[[email_id, …], [clicked, …], verdict]``: the last N
  distinct campaigns received (oldest first), whether each was clicked, and the
  verdict taken at the last send.

Each condition becomes ``f(state, t, final) -> bool``.  ``final`` is true for the
check at evaluation time (no event).  Leaves are written as Python expressions, and a
condition's ``all``/``any``/``not`` as one function of their source (``compile``), so
that trying a transition is one call, not one per leaf and group; the updates of one
event kind are one function the same way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from journeytui.domain.conditions import (
    Clicked,
    ClickedSpec,
    has_not,
    iter_leaves,
    node_key,
    spec_of,
    url_matches,
)
from journeytui.domain.journey_model import Journey

DAY = 86_400
STAGE, SINCE, LAST_AT, LAST_SRC, LAST_ID, CUT, SENDS, CLICKS, BASE = range(9)

Row = tuple[Any, ...]
Pred = Callable[[list[Any], int, bool], bool]
Updater = Callable[[list[Any], Row], None]


@dataclass
class Compiled:
    journey: Journey
    stage_names: list[str]
    nslots: int
    updaters: dict[str, Updater]  # per event kind: what it updates (one call)
    entry: Pred
    entry_kinds: frozenset[str] | None
    # per stage: (pred, to_stage, transition number (1-based), kinds or None = always)
    out: list[list[tuple[Pred, int, int, frozenset[str] | None]]]
    # per stage and event kind: the transitions worth trying at such an event
    by_kind: list[dict[str, tuple[tuple[Pred, int, int], ...]]]
    slot_init: list[Callable[[], Any] | None]  # None: the slot starts as None
    # see _Builder.clocks
    clocks: tuple[tuple[int, int | None, bool, bool], ...] = ()

    def __post_init__(self) -> None:
        self._template: list[Any] = [-1, None, None, None, None, 0, None, None]
        self._template += [None] * len(self.slot_init)
        self._fresh = [(BASE + k, f) for k, f in enumerate(self.slot_init) if f is not None]

    def recheck_at(self, st: list[Any], now: int) -> int | None:
        """The earliest time t >= *now* such that the check at a later evaluation time
        than t may decide otherwise than the one at *now* for state *st* (a window
        closes, or an event later than *now* falls before it); None: never.  A window
        leaf ``v >= t - w`` holds at *now* and not later iff now <= v + w < later; a
        ``since_stage`` leaf compares v with the time of a move at the check itself
        (``v > now``), which differs iff now <= v - 1 < later."""
        best: int | None = None
        for i, w, since_stage, is_list in self.clocks:
            v = st[i]
            if is_list:
                if not v:
                    continue
                vs = v
            elif v is None:
                continue
            else:
                vs = (v,)
            for x in vs:
                for p in ((x + w) if w is not None else None, (x - 1) if since_stage else None):
                    if p is not None and p >= now and (best is None or p < best):
                        best = p
        return best

    def new_state(self) -> list[Any]:
        st = self._template.copy()
        st[SENDS] = [0, 0]
        st[CLICKS] = []
        for k, f in self._fresh:
            st[k] = f()
        return st


class _Ctx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.emails = dict(conn.execute("SELECT name, id FROM emails").fetchall())
        self.lists = dict(conn.execute("SELECT name, id FROM lists").fetchall())
        self._links: list[tuple[int, int, str]] | None = None

    def email_id(self, name: str | None) -> int | None:
        if name is None:
            return None
        return self.emails.get(name, -1)  # a vanished email matches nothing

    def list_id(self, name: str | None) -> int | None:
        if name is None:
            return None
        return self.lists.get(name, -1)

    def links(self) -> list[tuple[int, int, str]]:
        if self._links is None:
            self._links = self.conn.execute("SELECT id, email_id, url FROM links").fetchall()
        return self._links


def _source_fn(header: str, body: str, names: dict[str, Any]) -> Any:
    """A function made from Python source: ``def _f(header):`` and *body*, the
    *names* it uses beside the builtins."""
    scope = dict(names)
    exec(compile(f"def _f({header}):\n{body}", "<journey condition>", "exec"), scope)
    return scope.pop("_f")  # (not left in its own globals: no reference cycle)


def _equals(col: int, value: int | None, none_too: bool = False) -> str | None:
    """The test "the row's column *col* is *value*" as an expression over ``row``;
    None (no test) when *value* is None, unless *none_too* (then ``== None``)."""
    if value is None and not none_too:
        return None
    return f"row[{col}] == {int(value) if value is not None else None}"


class _Builder:
    def __init__(self, ctx: _Ctx, journey: Journey | None = None) -> None:
        self.ctx = ctx
        self.journey = journey
        self.slots: dict[Any, tuple[int, Pred]] = {}
        self.updaters: dict[str, list[Updater]] = {}
        self.slot_init: list[Callable[[], Any] | None] = []
        self.facts: dict[tuple[Any, ...], int] = {}
        # (slot, window in seconds or None, since_stage, slot holds a list of times):
        # the leaves whose truth at the check at evaluation time depends on that time.
        self.clocks: set[tuple[int, int | None, bool, bool]] = set()
        # The predicates and updaters made from Python source (by id), with that source
        # and the names it uses: a condition built from them, or the updaters of one
        # event kind, become one function with their source inlined (no call per leaf).
        self.pred_src: dict[int, tuple[Pred, str, dict[str, Any]]] = {}
        self.upd_src: dict[int, tuple[Updater, str, dict[str, Any]]] = {}

    def _pred(self, expr: str, names: dict[str, Any] | None = None) -> Pred:
        """The predicate ``lambda st, t, fin: expr`` (*expr* may use *names*)."""
        names = names or {}
        fn: Pred = _source_fn("st, t, fin", f"    return {expr}\n", names)
        self.pred_src[id(fn)] = (fn, expr, names)
        return fn

    def _inline(self, f: Pred, names: dict[str, Any]) -> str:
        """An expression for ``f(st, t, fin)``: its source when it was made from
        source, else a call (the names either needs go into *names*)."""
        known = self.pred_src.get(id(f))
        if known is not None and known[0] is f:
            names.update(known[2])
            return f"({known[1]})"
        name = f"_p{id(f)}"
        names[name] = f
        return f"{name}(st, t, fin)"

    def _all(self, fs: list[Pred]) -> Pred:
        if len(fs) == 1:
            return fs[0]
        names: dict[str, Any] = {}
        return self._pred(" and ".join(self._inline(f, names) for f in fs), names)

    def _any(self, fs: list[Pred]) -> Pred:
        if len(fs) == 1:
            return fs[0]
        names: dict[str, Any] = {}
        return self._pred(" or ".join(self._inline(f, names) for f in fs), names)

    def _not(self, f: Pred) -> Pred:
        names: dict[str, Any] = {}
        return self._pred(f"not {self._inline(f, names)}", names)

    def _latest(self, i: int, within: int | None, since_stage: bool = False) -> Pred:
        """The leaf "the latest event of slot *i*'s fact happened (within the last
        *within* days) (strictly after entering the current stage: the event that
        moved the contact does not count)"."""
        expr = f"st[{i}] is not None"
        if since_stage:
            expr += f" and st[{i}] > (st[{SINCE}] or 0)"
        if within is not None:
            expr += f" and st[{i}] >= t - {within * DAY}"
        return self._pred(expr)

    def _updater(self, stmt: str, names: dict[str, Any] | None = None) -> Updater:
        """The updater ``def (st, row): stmt`` (*stmt* may use *names*)."""
        names = names or {}
        fn: Updater = _source_fn("st, row", f"    {stmt}\n", names)
        self.upd_src[id(fn)] = (fn, stmt, names)
        return fn

    def one_updater(self, fs: list[Updater]) -> Updater:
        """The updaters of one event kind as one function, in order."""
        if len(fs) == 1:
            return fs[0]
        names: dict[str, Any] = {}
        body = []
        for f in fs:
            known = self.upd_src.get(id(f))
            if known is not None and known[0] is f:
                names.update(known[2])
                body.append(f"    {known[1]}\n")
            else:
                names[f"_u{id(f)}"] = f
                body.append(f"    _u{id(f)}(st, row)\n")
        fn: Updater = _source_fn("st, row", "".join(body), names)
        return fn

    def _slot(self, init: Callable[[], Any] | None) -> int:
        self.slot_init.append(init)
        return BASE + len(self.slot_init) - 1

    def _on(self, kind: str, fn: Updater) -> None:
        self.updaters.setdefault(kind, []).append(fn)

    def _latest_leaf(
        self, kind: str, match: str | None, fact: tuple[Any, ...], value: Any = None,
    ) -> int:
        """The slot holding the time of the latest event of *fact* (shared by leaves
        that differ only in their window): *match* is the test of an event row of
        *kind* (an expression over ``row``, where ``{v}`` stands for *value*), None:
        every such event."""
        if fact in self.facts:
            return self.facts[fact]
        i = self.facts[fact] = self._slot(None)
        if match is None:
            self._on(kind, self._updater(f"st[{i}] = row[1]"))
        else:
            name = f"_v{i}"  # (the updaters of a kind share one function's names)
            self._on(kind, self._updater(f"if {match.format(v=name)}: st[{i}] = row[1]",
                                         {name: value}))
        return i

    def compile(self, node: Any) -> Pred:
        key = node_key(node)
        if key == "all":
            return self._all([self.compile(p) for p in spec_of(node)])
        if key == "any":
            return self._any([self.compile(p) for p in spec_of(node)])
        if key == "not":
            return self._not(self.compile(spec_of(node)))
        cache_key = (key, spec_of(node))
        if cache_key in self.slots:
            return self.slots[cache_key][1]
        i, pred = self._leaf(key, spec_of(node))
        self.slots[cache_key] = (i, pred)
        spec = spec_of(node)
        days = getattr(spec, "within_days", None)
        since_stage = bool(getattr(spec, "since_stage", False))
        if days is not None or since_stage:
            self.clocks.add((i, None if days is None else days * DAY, since_stage,
                             key == "clicks_at_least"))
        return pred

    def _leaf(self, key: str, s: Any) -> tuple[int, Pred]:
        ctx = self.ctx
        if key == "clicked":
            email = ctx.email_id(s.email)
            if s.url is not None:
                ok = frozenset(
                    lid for lid, eid, url in ctx.links()
                    if (email is None or eid == email) and url_matches(s.url, url, s.match)
                )
                i = self._latest_leaf("click", "row[6] in {v}", (key, s.email, s.url, s.match),
                                      ok)
            else:
                i = self._latest_leaf("click", _equals(5, email), (key, s.email, s.url, s.match))
            return i, self._latest(i, s.within_days, s.since_stage)
        if key == "opened":
            i = self._latest_leaf("open", _equals(5, ctx.email_id(s.email)), (key, s.email))
            return i, self._latest(i, s.within_days, s.since_stage)
        if key == "reported_spam":
            i = self._latest_leaf("spam", _equals(5, ctx.email_id(s.email)), (key, s.email))
            return i, self._latest(i, None)
        if key == "confirmed":
            i = self._latest_leaf("confirm", _equals(7, ctx.list_id(s.list)), (key, s.list))
            return i, self._latest(i, None)
        if key == "submitted_form":
            form = s.form
            i = self._latest_leaf("form", None if form is None else "row[8] == {v}",
                                  (key, s.form), form)
            return i, self._latest(i, s.within_days, s.since_stage)
        if key == "visited":
            cache: dict[str, bool] = {}
            pattern, how = s.url, s.match

            def visited(row: Row) -> bool:
                v = row[8] or ""
                r = cache.get(v)
                if r is None:
                    r = cache[v] = url_matches(pattern, v, how)
                return r

            i = self._latest_leaf("visit", "{v}(row)", (key, s.url, s.match), visited)
            return i, self._latest(i, s.within_days, s.since_stage)
        if key == "unsubscribed":
            return self._unsubscribed(ctx.list_id(s.list))
        if key == "clicks_at_least":
            return self._clicks_at_least(s.count, s.within_days, s.since_stage)
        if key == "no_click_in_last":
            return self._no_click(s.campaigns)
        if key == "in_segment":
            return self._in_segment(s.segment)
        raise AssertionError(key)  # pragma: no cover

    def _in_segment(self, name: str) -> tuple[int, Pred]:
        """In one of the journey's own segments at the check: in its stage, since at
        most / at least so many days, and (if it says so) having clicked a link."""
        j = self.journey
        seg = j.segment(name) if j is not None else None
        if j is None or seg is None:  # (journey_model refuses it before)
            return SINCE, self._pred("False")
        k = j.stage_names.index(seg.stage)
        preds: list[Pred] = [self._pred(f"st[{STAGE}] == {k}")]
        if seg.in_stage_days is not None:
            m = seg.in_stage_days * DAY
            preds.append(self._pred(f"st[{SINCE}] is not None and st[{SINCE}] <= t - {m}"))
            # (turns true at since + m: a later check decides otherwise iff it is at
            # or after that, i.e. after since + m − 1)
            self.clocks.add((SINCE, m - 1, False, False))
        if seg.entered_within_days is not None:
            n = seg.entered_within_days * DAY
            preds.append(self._pred(f"st[{SINCE}] is not None and st[{SINCE}] >= t - {n}"))
            self.clocks.add((SINCE, n, False, False))
        if seg.clicked is not None:
            preds.append(self.compile(Clicked(clicked=ClickedSpec(url=seg.clicked))))
        return SINCE, self._all(preds)

    def _unsub_state(self, lst: int | None) -> int:
        """The slot holding when the contact unsubscribed from *lst* (None: from all
        lists), or None while subscribed: an unsubscribe sets it, a resubscribe to the
        same list (or to all) clears it."""
        fact = ("unsub", lst)
        if fact in self.facts:
            return self.facts[fact]
        i = self.facts[fact] = self._slot(None)
        self._on("unsubscribe", self._updater(f"if {_equals(7, lst, True)}: st[{i}] = row[1]"))
        self._on("resubscribe", self._updater(f"if {_equals(7, lst, True)}: st[{i}] = None"))
        return i

    def _unsubscribed(self, lst: int | None) -> tuple[int, Pred]:
        # Unsubscribed from all beats every list (a resubscribe to one list leaves it).
        a = self._unsub_state(None)
        if lst is None:
            return a, self._pred(f"st[{a}] is not None")
        i = self._unsub_state(lst)
        return i, self._pred(f"st[{a}] is not None or st[{i}] is not None")

    def _clicks_at_least(self, k: int, days: int, since_stage: bool) -> tuple[int, Pred]:
        i = self._slot(list)
        w = days * DAY

        def upd(st: list[Any], row: Row) -> None:
            times = st[i]
            times.append(row[1])
            if len(times) > k:
                del times[0]

        self._on("click", upd)
        expr = f"len(st[{i}]) >= {k} and st[{i}][0] >= t - {w}"
        if since_stage:
            expr += f" and st[{i}][0] > (st[{SINCE}] or 0)"
        return i, self._pred(expr)

    def _no_click(self, n: int) -> tuple[int, Pred]:
        # slot: [emails, clicked, verdict] — the last N distinct campaigns received
        # (oldest first), whether each was clicked, and the verdict of the last send.
        i = self._slot(lambda: [[], [], False])

        def at_send(st: list[Any], row: Row) -> None:
            # The verdict covers the N campaigns received before this one (they have
            # had their chance); then this campaign joins the window.
            emails, clicked, _ = slot = st[i]
            slot[2] = len(emails) >= n and True not in clicked
            email = row[5]
            if email in emails:  # sent again: moves to the newest place
                k = emails.index(email)
                del emails[k]
                emails.append(email)
                clicked.append(clicked.pop(k))
            else:
                emails.append(email)
                clicked.append(False)
                if len(emails) > n:
                    del emails[0]
                    del clicked[0]

        def on_click(st: list[Any], row: Row) -> None:
            emails, clicked, _ = slot = st[i]
            slot[2] = False
            email = row[5]
            if email in emails:
                clicked[emails.index(email)] = True

        self._on("send", at_send)
        self._on("click", on_click)

        # at the check at evaluation time: over the N latest campaigns received
        return i, self._pred(
            f"(len(st[{i}][0]) >= {n} and True not in st[{i}][1]) if fin else bool(st[{i}][2])")


LEAF_KINDS = {
    "clicked": {"click"},
    "opened": {"open"},
    "reported_spam": {"spam"},
    "confirmed": {"confirm"},
    "submitted_form": {"form"},
    "visited": {"visit"},
    "unsubscribed": {"unsubscribe", "resubscribe"},
    "clicks_at_least": {"click"},
    "no_click_in_last": {"send", "click"},
    "in_segment": set(),  # time in a stage grows: may turn true at any event
}


def relevant_kinds(node: Any) -> frozenset[str] | None:
    """Event kinds at which *node* can turn true; None = it can at any event.

    Without ``not``, a leaf's slot changes only at events of its kinds, and between
    them time only makes a fact false (``within_days``, a K-clicks window) and
    ``since_stage`` changes only with a move.  So a condition that was false after
    the last event cannot be true at an event of another kind: the engine skips it
    there (the same result as trying it), unless the last cascade was cut.
    """
    if has_not(node):
        return None
    kinds: set[str] = set()
    for leaf in iter_leaves(node):
        if node_key(leaf) == "in_segment":
            return None
        kinds |= LEAF_KINDS[node_key(leaf)]
    return frozenset(kinds)


EVENT_KINDS = ("send", "open", "click", "unsubscribe", "resubscribe", "spam", "confirm",
               "form", "visit")
# Kinds of events that are not (always) contact activities: they change a contact's
# state without being a point at which the contact can enter the journey.
NOT_ALWAYS_ACTIVITY = frozenset({"send", "unsubscribe", "resubscribe", "spam"})


def _by_kind(
    ts: list[tuple[Pred, int, int, frozenset[str] | None]],
) -> dict[str, tuple[tuple[Pred, int, int], ...]]:
    out = {}
    for kind in EVENT_KINDS:
        cands = tuple((p, to, n) for p, to, n, k in ts if k is None or kind in k)
        if cands:
            out[kind] = cands
    return out


def compile_journey(j: Journey, conn: sqlite3.Connection) -> Compiled:
    ctx = _Ctx(conn)
    b = _Builder(ctx, j)
    names = j.stage_names
    index = {n: k for k, n in enumerate(names)}
    entry = b.compile(j.entry)
    order = sorted(range(len(j.transitions)), key=lambda k: (j.transitions[k].priority, k))
    out: list[list[tuple[Pred, int, int, frozenset[str] | None]]] = [[] for _ in names]
    compiled_when = {k: b.compile(j.transitions[k].when) for k in order}
    for k in order:
        t = j.transitions[k]
        to = index[t.to]
        kinds = relevant_kinds(t.when)
        froms = (
            [k for k, s in enumerate(j.stages) if not s.exit]
            if t.from_ is None else [index[t.from_]]
        )
        for f in froms:
            if f != to:
                out[f].append((compiled_when[k], to, k + 1, kinds))
    # The entry is tried at activities only; when a non-activity event (a send, a
    # subscription change without consent) can turn it true, try it at every activity.
    entry_kinds = relevant_kinds(j.entry)
    if entry_kinds is not None and entry_kinds & NOT_ALWAYS_ACTIVITY:
        entry_kinds = None
    return Compiled(
        journey=j,
        stage_names=names,
        nslots=len(b.slot_init),
        updaters={k: b.one_updater(v) for k, v in b.updaters.items()},
        by_kind=[_by_kind(ts) for ts in out],
        entry=entry,
        entry_kinds=entry_kinds,
        out=out,
        slot_init=b.slot_init,
        clocks=tuple(sorted(b.clocks, key=repr)),
    )

"""Reading a journey's insights from the store: its stored moves, the send log, the
clicks and the email statistics, swept once in time order."""

from __future__ import annotations

import bisect
import json
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from journeytui.domain.funnel import DAY
from journeytui.domain.insights import limits
from journeytui.domain.insights.findings import (
    KINDS,
    ClickFinding,
    DormantFinding,
    Insights,
    StallFinding,
    UnsubFinding,
)
from journeytui.domain.insights.limits import DEFAULT_DAYS
from journeytui.domain.journey_model import Journey
from journeytui.domain.stats import email_stats
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.evaluation_time import resolved_sql
from journeytui.textsafe import safe_text

_INF = 1 << 62


@dataclass
class _Ctx:
    journey: Journey
    jid: int
    now: int
    days: int
    level: dict[int, int]  # main-line stage index -> level (0 = first)
    stall_stages: list[int]  # main-line stages but the goal
    exit_stages: list[int]
    emails: list[tuple[int, str, int, int | None]]  # (id, name, send_at, list_id), by time
    stage_names: list[str]


def _context(store: Store, name: str, days: int) -> _Ctx:
    from journeytui.domain.journeys import get_journey

    if days < 1:
        raise UserError(f"--days {days}: must be at least 1")
    j, _ = get_journey(store, name)
    conn = store.conn
    jid, = conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()
    prog = conn.execute("SELECT evaluated_at FROM journey_progress WHERE journey_id = ?",
                        (jid,)).fetchone()
    if prog is None:
        raise UserError(
            f"journey '{safe_text(name)}' has not been evaluated yet; run "
            f"`journeytui evaluate \"{safe_text(name)}\"`")
    main = [i for i, s in enumerate(j.stages) if not s.exit]
    emails = [(int(i), n, int(t), lst) for i, n, t, lst in conn.execute(
        "SELECT id, name, send_at, list_id FROM emails WHERE status = 'sent'"
        " AND send_at IS NOT NULL ORDER BY send_at, id")]
    return _Ctx(j, int(jid), int(prog[0]), days, {idx: k for k, idx in enumerate(main)},
                main[:-1], [i for i, s in enumerate(j.stages) if s.exit], emails,
                j.stage_names)


def _id_sets(rows: Iterable[tuple[int, str]]) -> dict[int, set[int]]:
    return {int(e): set(json.loads(ids)) for e, ids in rows}


@dataclass
class _Want:
    """The one finding whose contacts are wanted: (time, contact) pairs collected."""

    kind: str
    email: int
    stage: int = -1
    link: int = -1
    found: list[tuple[int, int]] = field(default_factory=list)


_ID = re.compile(r"^(stall|click|dormant)-E(\d+)(?:-L(\d+))?-S(\d+)$|^unsub-E(\d+)$")


def parse_finding_id(finding_id: str) -> _Want:
    m = _ID.match(finding_id.strip())
    if m is None:
        raise UserError(
            f"finding '{safe_text(finding_id)}': not a finding id; ids look like "
            "stall-E12-S0, click-E12-L40-S1, unsub-E27 or dormant-E27-S4 "
            "(`journeytui insights JOURNEY` lists them)")
    if m.group(5):
        return _Want("unsubscribes", int(m.group(5)))
    kind = {"stall": "stall", "click": "clicks", "dormant": "dormant"}[m.group(1)]
    if (kind == "clicks") != (m.group(3) is not None):
        raise UserError(f"finding '{safe_text(finding_id)}': not a finding id")
    return _Want(kind, int(m.group(2)), int(m.group(4)),
                 int(m.group(3)) if m.group(3) else -1)


def _analyse(store: Store, ctx: _Ctx, want: _Want | None = None) -> Insights:
    conn = store.conn
    j, now, days = ctx.journey, ctx.now, ctx.days
    span = days * DAY
    index = {n: i for i, n in enumerate(ctx.stage_names)}
    level = ctx.level
    stall_set = set(ctx.stall_stages)
    exit_set = set(ctx.exit_stages)
    n_stages = len(ctx.stage_names)

    # Who was sent what: every send (the baseline leaves them out) and delivered sends.
    sent_any = _id_sets(conn.execute(
        "SELECT email_id, json_group_array(contact_id) FROM sends INDEXED BY sends_email"
        " WHERE contact_id IS NOT NULL GROUP BY email_id"))
    # Contacts with a send of E on record but none delivered (bounced or dropped).
    undelivered: dict[int, set[int]] = {}
    twice: list[tuple[int, int]] = []
    for e, c, n in conn.execute(
        "SELECT s.email_id, s.contact_id, (SELECT count(*) FROM sends d INDEXED BY"
        " sends_email WHERE d.email_id = s.email_id AND d.contact_id = s.contact_id)"
        " FROM sends s WHERE s.status != 'delivered' AND s.contact_id IS NOT NULL"
    ):
        if n == 1:
            undelivered.setdefault(e, set()).add(c)
        else:
            twice.append((e, c))
    for e, c in twice:
        if conn.execute("SELECT 1 FROM sends WHERE email_id = ? AND contact_id = ?"
                        " AND status = 'delivered'", (e, c)).fetchone() is None:
            undelivered.setdefault(e, set()).add(c)
    delivered = {e: (ids - undelivered[e] if e in undelivered else ids)
                 for e, ids in sent_any.items()}
    email_at = {e: t for e, _n, t, _l in ctx.emails}
    emails = list(ctx.emails)
    times = [t for _e, _n, t, _l in emails]

    # Stays: one per move (the stage entered, when); the sweep below walks moves,
    # clicks and the emails' send times in time order.
    stay_stage: list[int] = []
    stay_start: list[int] = []
    stay_fwd: list[int] = []  # time the stay ended by a move to a later main-line stage
    stay_back: list[int] = []  # time the stay ended by a move to a main-line stage
    fwd_moves: list[tuple[int, int, int, int]] = []  # (contact, stage, stay start, at)
    cur: dict[int, int] = {}
    members: list[set[int]] = [set() for _ in range(n_stages)]
    # per (email, stage): (in the stage and delivered, in the stage and not sent)
    exposure: dict[tuple[int, int], tuple[int, int]] = {}
    recipients: dict[tuple[int, int], int] = {}
    click_by: dict[tuple[int, int, int], dict[int, tuple[int, int]]] = {}
    dorm_by: dict[tuple[int, int], dict[int, tuple[int, int]]] = {}
    want_exposed: dict[int, int] = {}

    at_sql = resolved_sql("at", "?")  # (provisional moves: at the evaluation time)
    moves = conn.execute(
        f"SELECT contact_id, to_stage, {at_sql} AS t FROM journey_moves WHERE journey_id = ?"
        " ORDER BY t, provisional, id", (now, ctx.jid)).fetchall()
    clicks = conn.execute(
        "SELECT contact_id, email_id, link_id, at FROM activities"
        " WHERE kind = 'click' AND bot = 0 AND email_id IS NOT NULL AND link_id IS NOT NULL"
        " ORDER BY at, id").fetchall()

    def checkpoint(e: int, t: int) -> None:
        got = delivered.get(e, set())
        if t + span <= now:
            anyone = sent_any.get(e, set())
            for k in ctx.stall_stages:
                m = members[k]
                inside = m & got
                exposure[(e, k)] = (len(inside), len(m - anyone))
                if want is not None and want.kind == "stall" and want.email == e \
                        and want.stage == k:
                    want_exposed.update((c, stay_start[cur[c]]) for c in inside)
        for x in ctx.exit_stages:
            recipients[(e, x)] = len(members[x] & got)

    def click(cid: int, e: int, link: int, t: int) -> None:
        stay = cur.get(cid)
        if stay is None:
            return
        s = stay_stage[stay]
        if s in stall_set:
            if t + span <= now:
                d = click_by.setdefault((e, link, s), {})
                if cid not in d:
                    d[cid] = (t, stay)
        elif s in exit_set:
            sent = email_at.get(e)
            if sent is not None and stay_start[stay] <= sent and cid in delivered.get(e, ()):
                d = dorm_by.setdefault((e, s), {})
                if cid not in d:
                    d[cid] = (t, stay)

    ei = ci = 0
    n_e, n_c = len(emails), len(clicks)
    next_click = clicks[0][3] if n_c else _INF
    next_email = emails[0][2] if n_e else _INF
    level_get = level.get
    cur_get = cur.get
    for cid, to_name, at in moves:
        # Clicks see the stage before moves at their second; send times see after.
        if next_click <= at:
            while ci < n_c and clicks[ci][3] <= at:
                click(*clicks[ci])
                ci += 1
            next_click = clicks[ci][3] if ci < n_c else _INF
        if next_email < at:
            while ei < n_e and emails[ei][2] < at:
                checkpoint(emails[ei][0], emails[ei][2])
                ei += 1
            next_email = emails[ei][2] if ei < n_e else _INF
        to = index.get(to_name)
        if to is None:
            raise UserError(
                f"journey '{safe_text(j.name)}': stored results do not match its stages; "
                f"run `journeytui evaluate \"{safe_text(j.name)}\"`")
        prev = cur_get(cid)
        if prev is not None:
            s0 = stay_stage[prev]
            members[s0].discard(cid)
            lt = level_get(to)
            if lt is not None:
                stay_back[prev] = at
                l0 = level_get(s0)
                if l0 is not None and lt > l0:
                    stay_fwd[prev] = at
                    if s0 in stall_set:
                        fwd_moves.append((cid, s0, stay_start[prev], at))
        cur[cid] = len(stay_stage)
        stay_stage.append(to)
        stay_start.append(at)
        stay_fwd.append(_INF)
        stay_back.append(_INF)
        members[to].add(cid)
    while ci < n_c:
        click(*clicks[ci])
        ci += 1
    while ei < n_e:
        checkpoint(emails[ei][0], emails[ei][2])
        ei += 1

    # Who moved on within D days of each send time: stays in k that contained the send
    # time t (start <= t < end) and ended forward by t + D.
    moved_on: dict[tuple[int, int], set[int]] = {}
    for cid, k, start, end in fwd_moves:
        lo = bisect.bisect_left(times, max(start, end - span))
        hi = bisect.bisect_left(times, end)
        for i in range(lo, hi):
            e = emails[i][0]
            if (e, k) in exposure:
                moved_on.setdefault((e, k), set()).add(cid)

    names = {e: n for e, n, _t, _l in ctx.emails}
    out = Insights(j.name, now, days)
    left = dict.fromkeys(KINDS, 0)

    for (e, k), (n_in, n_base) in exposure.items():
        if n_in == 0:
            continue
        got = delivered.get(e, set())
        anyone = sent_any.get(e, set())
        mv = moved_on.get((e, k), set())
        if n_in < limits.MIN_COUNT or n_base < limits.MIN_COUNT:
            left["stall"] += 1
            continue
        moved_in = len(mv & got)
        moved_base = len(mv - anyone)
        out.stall.append(StallFinding(
            f"stall-E{e}-S{k}", names[e], ctx.stage_names[k], email_at[e],
            n_in, n_in - moved_in, n_base, n_base - moved_base, days))
        if want is not None and want.kind == "stall" and want.email == e and want.stage == k:
            want.found = [(t, c) for c, t in want_exposed.items() if c not in mv]
    out.stall.sort(key=lambda f: (-f.difference, -f.sent, f.id))

    urls = dict(conn.execute("SELECT id, url FROM links").fetchall()) if click_by else {}
    for (e, link, k), d in click_by.items():
        not_moved = [(t, c) for c, (t, stay) in d.items() if stay_fwd[stay] > t + span]
        if len(d) < limits.MIN_COUNT:
            left["clicks"] += 1
            continue
        out.clicks.append(ClickFinding(
            f"click-E{e}-L{link}-S{k}", names.get(e, f"#{e}"), urls.get(link, "?"),
            ctx.stage_names[k], len(d), len(not_moved), days))
        if want is not None and want.kind == "clicks" and (want.email, want.link,
                                                           want.stage) == (e, link, k):
            want.found = not_moved
    out.clicks.sort(key=lambda f: (-(f.share or 0), -f.not_moved, f.id))

    for (e, x), d in dorm_by.items():
        n_rec = recipients.get((e, x), 0)
        if n_rec < limits.MIN_COUNT or len(d) < limits.MIN_EVENTS:
            left["dormant"] += 1
            continue
        back = sum(1 for t, stay in d.values() if stay_back[stay] <= t + span)
        out.dormant.append(DormantFinding(
            f"dormant-E{e}-S{x}", names.get(e, f"#{e}"), ctx.stage_names[x], email_at[e],
            n_rec, len(d), back, days))
        if want is not None and want.kind == "dormant" and (want.email, want.stage) == (e, x):
            want.found = [(t, c) for c, (t, _s) in d.items()]
    out.dormant.sort(key=lambda f: (-f.reengaged, -(f.share or 0), f.id))

    # Unsubscribe spikes: the lists of the emails the journey's contacts were sent.
    lists_seen = {lst for e, _n, _t, lst in ctx.emails
                  if lst is not None and not cur.keys().isdisjoint(delivered.get(e, ()))}
    _unsubscribes(store, lists_seen, out, left)
    out.left_out = left
    return out


def _unsubscribes(store: Store, lists_seen: set[int], out: Insights,
                  left: dict[str, int]) -> None:
    conn = store.conn
    list_of = dict(conn.execute("SELECT id, list_id FROM emails").fetchall())
    list_names = dict(conn.execute("SELECT id, name FROM lists").fetchall())
    listed = dict(conn.execute(
        "SELECT email_id, count(DISTINCT contact_id) FROM activities"
        " WHERE kind = 'unsubscribe' AND email_id IS NOT NULL GROUP BY email_id").fetchall())
    by_list: dict[int, list[Any]] = {}
    for s in email_stats(store):
        lst = list_of.get(s.id)
        if s.status == "sent" and lst in lists_seen and s.delivered > 0:
            by_list.setdefault(lst, []).append(s)
    for lst, items in by_list.items():
        for s in items:
            others = [o.unsubscribed / o.delivered for o in items if o.id != s.id]
            if s.delivered < limits.MIN_COUNT or len(others) < 2:
                left["unsubscribes"] += 1
                continue
            out.unsubscribes.append(UnsubFinding(
                f"unsub-E{s.id}", s.name, list_names.get(lst, "?"), s.send_at, s.delivered,
                s.unsubscribed, statistics.median(others), len(others),
                int(listed.get(s.id, 0))))
    out.unsubscribes.sort(key=lambda f: (not f.flagged, -(f.times_median or 0),
                                         -(f.rate or 0), f.id))


def insights(store: Store, name: str, *, days: int = DEFAULT_DAYS) -> Insights:
    """The four patterns of journey *name*, judged over *days* days."""
    return _analyse(store, _context(store, name, days))

"""The funnel of a saved journey, read from its stored results: from the kept tally
(:func:`funnel`) or from every stored move (:func:`full_funnel`); and a draft's
funnel (:func:`preview`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from journeytui.domain.funnel.report import (
    DAY,
    DEFAULT_STALL_DAYS,
    FunnelData,
    _report,
    compute,
)
from journeytui.domain.funnel.tally import OPEN_FROM, OPEN_STEP, load_tally
from journeytui.domain.in_stage import check_stall_days
from journeytui.domain.journey_model import Journey, JourneyError
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.evaluation_time import resolved
from journeytui.textsafe import safe_text


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
    now = int(prog[0])
    try:
        positions = {
            cid: (index[stage], resolved(since, now))
            for cid, stage, since in conn.execute(
                "SELECT contact_id, stage, since FROM journey_positions"
                " WHERE journey_id = ? AND stage IS NOT NULL", (jid,)
            )
        }
        moves = [
            (cid, index[f] if f is not None else -1, index[t], num or 0,
             resolved(at, now), email)
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
    """The funnel of the saved journey *name* as last evaluated: from its kept tally
    (a few indexed reads, whatever the store's size), or computed from every stored
    move when the tally is not current."""
    from journeytui.domain.journeys import get_journey

    check_stall_days(stall_days)
    j, _ = get_journey(store, name)
    conn = store.conn
    jid, = conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()
    tally = load_tally(conn, jid, j)
    if tally is None:
        return compute(stored_data(store, name), stall_days=stall_days)
    now = int(conn.execute(
        "SELECT evaluated_at FROM journey_progress WHERE journey_id = ?", (jid,)).fetchone()[0])
    medians: list[Any] = []
    for k in range(len(tally.reached)):
        n = tally.reached[k + 1] if k + 1 < len(tally.reached) else 0
        if n <= 0:
            medians.append(None)
            continue
        # the median of the n durations: the middle one, or the mean of the middle two
        # (those that end at the evaluation time, when there are any, read as now
        # minus their start: the index gives both kinds in order, SQLite merges them)
        args = {"j": jid, "k": k, "open_from": OPEN_FROM, "open": OPEN_STEP, "now": now,
                "skip": (n - 1) // 2}
        sql = ("SELECT seconds FROM journey_funnel_steps WHERE journey_id = :j AND level = :k"
               " AND seconds < :open_from")
        if conn.execute(
                "SELECT EXISTS (SELECT 1 FROM journey_funnel_steps WHERE journey_id = :j"
                " AND level = :k AND seconds >= :open_from)", args).fetchone()[0]:
            sql += (" UNION ALL SELECT seconds - :open + :now FROM journey_funnel_steps"
                    " WHERE journey_id = :j AND level = :k AND seconds >= :open_from")
        mid = [r[0] for r in conn.execute(sql + " ORDER BY 1 LIMIT 2 OFFSET :skip", args)]
        medians.append(mid[0] if n % 2 else (mid[0] + mid[1]) / 2)
    limit = now - stall_days * DAY
    stalled: Counter[int] = Counter()
    main = [i for i, s in enumerate(j.stages) if not s.exit]
    for idx in main[:-1]:
        stalled[idx] = int(conn.execute(
            "SELECT count(*) FROM journey_positions WHERE journey_id = ? AND stage = ?"
            " AND since < ?", (jid, j.stages[idx].name, limit)).fetchone()[0])
    index = {n: i for i, n in enumerate(j.stage_names)}
    clicks = {
        (index[stage], email): [n, moved]
        for stage, email, n, moved in conn.execute(
            "SELECT stage, email_id, clicks, moved FROM journey_click_stats"
            " WHERE journey_id = ?", (jid,))
    }
    return _report(j, now, stall_days, tally, medians, stalled, clicks, _email_names(store))


def full_funnel(store: Store, name: str, *, stall_days: int = DEFAULT_STALL_DAYS
                ) -> dict[str, Any]:
    """The funnel computed from every stored move (what the kept tally must equal)."""
    return compute(stored_data(store, name), stall_days=stall_days)


def preview(store: Store, j: Journey, **options: Any) -> dict[str, Any]:
    """The funnel *j* would give, without writing (``journeytui.domain.preview``)."""
    from journeytui.domain.preview import preview as exact_preview

    return exact_preview(store, j, **options)

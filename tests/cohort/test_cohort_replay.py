"""The as-of and cohort funnels against a replay cut at that time, on the 200-contact
demo store (both demo journeys: inactivity exits, time windows, "since the stage").

The cut store holds only the events up to T and is evaluated just after T: its
non-provisional moves are what a replay of the events up to T makes; the moves
stored in the full store at or before T must be exactly those, and so must every
funnel cut from them."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from journeytui.domain.cohort import Slice, slice_funnel
from journeytui.domain.engine import evaluate_all
from journeytui.store import Store

DAY = 86_400
KEYS = ("stages", "exits", "entry", "transitions", "in_journey", "evaluated_at")


def _moves(store: Store, t: int) -> Counter[tuple[object, ...]]:
    return Counter(store.conn.execute(
        "SELECT j.name, contact_id, from_stage, to_stage, transition, at, email_id"
        " FROM journey_moves m JOIN journeys j ON j.id = m.journey_id"
        " WHERE at <= ? AND provisional = 0", (t,)).fetchall())


def test_cut_equals_replay(small_demo_db: Path, tmp_path: Path) -> None:
    full = Store.open(small_demo_db)
    evaluate_all(full)  # (the fixture may have been evaluated by an older engine)
    lo, hi = full.conn.execute("SELECT min(at), max(at) FROM activities").fetchone()
    names = [r[0] for r in full.conn.execute("SELECT name FROM journeys ORDER BY name")]
    assert names == ["Lead nurturing", "Webinar"]
    for k, t in enumerate((lo + (hi - lo) // 3, lo + (hi - lo) * 2 // 3)):
        cut_path = tmp_path / f"cut{k}.db"
        shutil.copy(small_demo_db, cut_path)
        cut = Store.open(cut_path)
        with cut.transaction() as conn:
            for table in ("activities", "sends", "subscription_changes"):
                conn.execute(f"DELETE FROM {table} WHERE at > ?", (t,))
        evaluate_all(cut, now=t + 1)
        assert _moves(full, t) == _moves(cut, t)
        assert sum(_moves(full, t).values()) > 50  # the cut has something to compare
        cohort = (t - 60 * DAY, t - 20 * DAY)
        for name in names:
            for sl in (Slice(as_of=t), Slice(t, *cohort), Slice(t, *cohort, 14)):
                a = slice_funnel(full, name, sl)
                b = slice_funnel(cut, name, sl)
                for key in KEYS:
                    assert a[key] == b[key], (name, sl, key)
            assert slice_funnel(full, name, Slice(as_of=t))["in_journey"] > 0

"""The adapter over the domain's funnel that the editor's preview shows (the draft's
edits are tested on their own in tests/editor)."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.domain.funnel import funnel
from journeytui.domain.journeys import get_journey
from journeytui.store import Store
from journeytui.tui.journey_data import (
    preview_figures,
    stage_contacts,
    stored_figures,
)


@pytest.mark.parametrize("name", ["Lead nurturing", "Webinar"])
def test_figures_are_the_domain_funnel(demo_db: Path, name: str) -> None:
    store = Store.open(demo_db)
    try:
        f = stored_figures(store, name, 21)
        raw = funnel(store, name, stall_days=21)
        j, _ = get_journey(store, name)
        p = preview_figures(store, j, 21)
        jid = store.conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()[0]
        in_stage = {
            s.name: stage_contacts(store, jid, s.name, before=None, sort="name", after=None,
                                   limit=100_000)
            for s in f.stages
        }
    finally:
        store.close()
    assert [(s.name, s.reached, s.current, s.stalled, s.drop_off) for s in f.main] == [
        (r["stage"], r["reached"], r["current"], r["stalled"], r["drop_off"])
        for r in raw["stages"]
    ]
    assert [(s.name, s.reached, s.current) for s in f.exits] == [
        (r["stage"], r["reached"], r["current"]) for r in raw["exits"]
    ]
    assert [t.moved for t in f.transitions] == [t["moved"] for t in raw["transitions"]]
    assert (p.main, p.exits) == (f.main, f.exits)  # an unchanged draft previews the same
    for s in f.stages:
        assert len(in_stage[s.name]) == s.current
        names = [c.name.casefold() for _, c in in_stage[s.name]]
        assert names == sorted(names)

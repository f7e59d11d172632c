"""The editor's draft operations (plain Python) and the adapter over the domain's
funnel: each edit gives the tree a marketer expects, errors name the part."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.domain.funnel import funnel
from journeytui.domain.journeys import get_journey
from journeytui.store import Store
from journeytui.tui.journey_data import (
    preview_figures,
    stage_contacts,
    store_choices,
    stored_figures,
)
from journeytui.tui.widgets import condition_draft as d
from journeytui.tui.widgets.condition_draft import CachedNames

A = {"clicked": {"url": "pricing"}}
B = {"opened": {}}
C = {"unsubscribed": {}}


def test_add_to_empty_then_lone_leaf_gets_a_group() -> None:
    root, path = d.add(None, (), A)
    assert root == A and path == ()
    root, path = d.add(root, path, B)
    assert root == {"all": [A, B]} and path == (1,)
    root, path = d.add(root, (0,), C)  # after the first part, in the same group
    assert root == {"all": [A, C, B]} and path == (1,)
    root, path = d.add(root, (), C)  # on the group: as its last part
    assert root == {"all": [A, C, B, C]} and path == (3,)


def test_group_not_delete_move_kind() -> None:
    root, path = d.add_group(None, (), "any")
    assert root == {"any": [{"clicked": {}}]} and path == (0,)
    root, path = d.add(root, path, B)
    root, path = d.wrap_not(root, path)
    assert root == {"any": [{"clicked": {}}, {"not": B}]} and path == (1,)
    assert d.wrap_not(root, path)[0] == {"any": [{"clicked": {}}, B]}  # unwrap
    root2, path2 = d.move(root, (1,), -1)
    assert root2 == {"any": [{"not": B}, {"clicked": {}}]} and path2 == (0,)
    assert d.move(root2, (0,), -1) == (root2, (0,))  # already first
    root3, path3 = d.delete(root, (1, 0))  # the part inside the not: the not goes too
    assert root3 == {"any": [{"clicked": {}}]} and path3 == (0,)
    assert d.set_kind(root, (), "all") == {"all": root["any"]}
    changed = d.set_kind({"clicked": {"email": "X", "url": "u", "within_days": 5}}, (),
                         "opened")
    assert changed == {"opened": {"email": "X", "within_days": 5}}
    assert d.delete(A, ()) == (None, ())
    assert root == {"any": [{"clicked": {}}, {"not": B}]}  # the argument is untouched


def test_fields_from_typed_text() -> None:
    leaf = {"no_click_in_last": {"campaigns": 3}}
    assert d.set_field(leaf, (), "campaigns", " 5 ") == {"no_click_in_last": {"campaigns": 5}}
    assert d.set_field(leaf, (), "campaigns", "five") == {
        "no_click_in_last": {"campaigns": "five"}}
    clicked = d.set_field({"clicked": {"email": "X"}}, (), "email", "")
    assert clicked == {"clicked": {}}
    assert d.set_field(clicked, (), "since_stage", "yes") == {"clicked": {"since_stage": True}}
    assert d.field_text({"clicked": {"since_stage": True}}, "since_stage") == "yes"


def test_errors_name_the_part(demo_db: Path) -> None:
    store = Store.open(demo_db)
    try:
        names = CachedNames(store_choices(store))
    finally:
        store.close()
    root = {"any": [
        {"clicked": {"email": "Spring product teaser", "url": "products/"}},
        {"clicked": {"email": "Spring product teasr"}},
        {"all": []},
        {"no_click_in_last": {"campaigns": 0}},
        {"submitted_form": {"form": "Webinar registration"}},
    ]}
    errors = d.node_errors(root, names)
    assert set(errors) == {(1,), (2,), (3,)}
    assert "does not exist" in errors[(1,)] and "Spring product teaser" in errors[(1,)]
    assert "empty 'all' group" in errors[(2,)]
    assert "campaigns" in errors[(3,)]
    assert d.node_errors(None, names) == {(): "no condition yet: add a part (a) or a group (g)"}
    assert "'Spring product teaser'" in d.render_draft(root)


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

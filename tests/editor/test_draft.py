"""The edits of one condition tree: each gives the tree a marketer expects, never
changes its argument, and the mistakes name the part."""

from __future__ import annotations

from journeytui.editor import CachedNames
from journeytui.editor import draft as d

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
    assert d.set_field({"visited": {"url": "x"}}, (), "url", "") == {"visited": {"url": ""}}


def test_errors_name_the_part(names: CachedNames) -> None:
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
    assert d.render_draft(None) == "(no condition yet)"
    assert d.render_draft({"all": []}) == "(all of nothing)"

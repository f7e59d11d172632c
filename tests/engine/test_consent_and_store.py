"""Consent end to end, saving with versions and conflicts, files that do not validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run, stage, two_stage
from jbuilder import DAY, T0, Builder

from journeytui.demo.journeys import install_demo_journeys
from journeytui.domain.engine import evaluate
from journeytui.domain.journey_model import JourneyError, parse_journey
from journeytui.domain.journeys import (
    ConflictError,
    JourneyNotFound,
    delete_journey,
    export_journey,
    get_journey,
    list_journeys,
    list_versions,
    load_file,
    restore_version,
    save_journey,
)
from journeytui.errors import UserError
from journeytui.store import Store

SPRING = "Spring product teaser"
PRICING_URL = "https://www.example.com/pricing"


def test_clicks_without_consent_never_move_anyone(store: Store, b: Builder) -> None:
    ann = b.contact("ann")
    bob = b.contact("bob", consent=False)
    for who in ("ann", "bob"):
        b("send", who, T0, SPRING)
        b("open", who, T0 + 100, SPRING)
        b("click", who, T0 + 700, SPRING, PRICING_URL)
        b("form", who, T0 + 800, "Contact sales")
    r = run(store, two_stage({"clicked": {"url": "pricing"}}))
    assert stage(r, ann.id) == "B"
    assert bob.id not in r.positions  # bob is not in any journey at all
    # The email's statistics did count bob's click (anonymously).
    clicked = store.conn.execute(
        "SELECT clicked, anonymous_clicks FROM email_stats WHERE email_id = ?",
        (b.emails[SPRING],)).fetchone()
    assert clicked == (2, 1)


def test_revoked_consent_keeps_earlier_activity_only(store: Store, b: Builder) -> None:
    ann = b.contact("ann")
    b("open", "ann", T0, SPRING)
    with store.transaction():
        b.contacts["ann"] = b.r.set_consent(ann, False, T0 + 50)
    b("click", "ann", T0 + 700, SPRING, PRICING_URL)  # after revoking: not a contact activity
    r = run(store, two_stage({"clicked": {}}))
    assert stage(r, ann.id) == "A"


def test_unsubscribe_without_consent_moves_at_its_own_time(store: Store, b: Builder) -> None:
    ann = b.contact("ann")
    b("open", "ann", T0, SPRING)
    with store.transaction():
        b.contacts["ann"] = b.r.set_consent(ann, False, T0 + 50)
    b("unsub_all", "ann", T0 + 100, SPRING)  # acts on the contact; no activity row
    r = run(store, two_stage({"unsubscribed": {}}), now=T0 + DAY)
    assert stage(r, ann.id) == "B"
    # A move at the unsubscribe's time, not provisional, naming no activity and no
    # email (without consent the store does not keep which email it came through).
    assert r.moves[-1][1:] == (0, 1, 1, T0 + 100, None, None, None, 0)
    assert r.positions[ann.id] == (1, T0 + 100)
    # Later evaluation times do not move it ("since" stays).
    assert run(store, two_stage({"unsubscribed": {}}), now=T0 + 9 * DAY).positions[ann.id] == (
        1, T0 + 100)


def _jfile(tmp_path: Path, raw: dict) -> Path:
    p = tmp_path / "j.json"
    p.write_text(json.dumps(raw), encoding="utf-8")
    return p


SIMPLE = {
    "name": "Simple", "goal": "g",
    "stages": [{"name": "A"}, {"name": "B"}],
    "transitions": [{"from": "A", "to": "B", "when": {"clicked": {"email": SPRING}}}],
}


def test_save_versions_conflict_restore_delete(store: Store, b: Builder, tmp_path: Path) -> None:
    ann = b.contact("ann")
    b("send", "ann", T0, SPRING)
    b("click", "ann", T0 + 700, SPRING, PRICING_URL)
    j = parse_journey(SIMPLE)
    assert save_journey(store, j, expected_version=0) == 1
    assert save_journey(store, j) == 1  # identical: nothing new
    pos = "SELECT stage FROM journey_positions WHERE contact_id = ?"
    assert store.conn.execute(pos, (ann.id,)).fetchone()[0] == "B"
    changed = parse_journey(dict(SIMPLE, transitions=[
        {"from": "A", "to": "B", "when": {"submitted_form": {"form": "Contact sales"}}}]))
    assert save_journey(store, changed, expected_version=1) == 2
    assert store.conn.execute(pos, (ann.id,)).fetchone()[0] == "A"  # re-evaluated
    with pytest.raises(ConflictError, match="version 2, you started from version 1"):
        save_journey(store, j, expected_version=1)
    assert get_journey(store, "Simple")[1] == 2
    assert [v.version for v in list_versions(store, "Simple")] == [1, 2]
    assert restore_version(store, "Simple", 1, expected_version=2) == 3
    assert store.conn.execute(pos, (ann.id,)).fetchone()[0] == "B"
    assert json.loads(export_journey(store, "Simple")) == json.loads(j.to_json())
    delete_journey(store, "Simple")
    assert store.count("journey_moves") == 0 and store.count("journey_versions") == 0
    with pytest.raises(JourneyNotFound, match="no journey named 'Simple'"):
        get_journey(store, "Simple")


def test_export_load_round_trip(store: Store, b: Builder, tmp_path: Path) -> None:
    install_demo_journeys(store)
    for info in list_journeys(store):
        text = export_journey(store, info.name)
        again = parse_journey(json.loads(text))
        assert again.to_json() == text
        p = tmp_path / "x.json"
        p.write_text(text.replace(info.name, info.name + " copy", 1), encoding="utf-8")
        j, version = load_file(store, p)
        assert version == 1 and j.name == info.name + " copy"
    assert len(list_journeys(store)) == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"transitions": [{"from": "A", "to": "B", "when": {"any": [
            {"opened": {}}, {"clicked": {"email": "Sprng teaser"}}]}}]},
         "transition 1 (A → B), condition any[2].clicked: email 'Sprng teaser' does not exist"),
        ({"transitions": [{"from": "A", "to": "B", "when": {"clicked": {
            "email": "Spring product tease"}}}]}, "did you mean 'Spring product teaser'"),
        ({"transitions": [{"from": "A", "to": "B", "when": {"unsubscribed": {"list": "Nope"}}}]},
         "list 'Nope' does not exist"),
        ({"transitions": [{"from": "A", "to": "B", "when": {"submitted_form": {"form": "Nope"}}}]},
         "form 'Nope' has no submissions"),
        ({"transitions": [{"from": "A", "to": "B", "when": {"clicked": {
            "email": SPRING, "url": "whitepaper"}}}]},
         "no tracked link in 'Spring product teaser' contains 'whitepaper'"),
        ({"transitions": [{"from": "A", "to": "B", "when": {"no_click_in_last": {
            "campaigns": 0}}}]}, "no_click_in_last.campaigns: Input should be greater"),
        ({"transitions": [{"from": "A", "to": "B", "when": {"clicks_at_least": {
            "count": 0, "within_days": 3}}}]}, "clicks_at_least.count"),
        ({"transitions": [{"from": "A", "to": "B", "when": {"clicks_at_least": {
            "count": 2, "within_days": 0}}}]}, "clicks_at_least.within_days"),
        ({"transitions": [{"from": "A", "to": "B", "when": {"all": []}}]},
         "transition 1 (A → B), condition all: List should have at least 1 item"),
        ({"transitions": [{"from": "A", "to": "B", "when": {"nope": {}}}]},
         "exactly one key"),
        ({"transitions": [{"from": "A", "to": "A", "when": {"opened": {}}}]},
         "goes from a stage to itself"),
        ({"transitions": [{"from": "A", "to": "Z", "when": {"opened": {}}}]},
         "to-stage 'Z' is not a stage"),
        ({"transitions": [{"from": "Q", "to": "B", "when": {"opened": {}}}]},
         "from-stage 'Q' is not a stage"),
        ({"stages": [{"name": "A"}, {"name": "a"}]}, "stage 2: the name 'a' is already used"),
        ({"stages": [{"name": "A", "exit": True}, {"name": "B"}]}, "cannot be an exit stage"),
        ({"stages": []}, "stages: List should have at least 1 item"),
    ],
)
def test_bad_files_change_nothing(
    store: Store, b: Builder, tmp_path: Path, change: dict, message: str
) -> None:
    save_journey(store, parse_journey(SIMPLE))
    before = export_journey(store, "Simple")
    raw = dict(SIMPLE, **change)
    with pytest.raises(UserError) as err:
        load_file(store, _jfile(tmp_path, raw))
    assert message in str(err.value)
    assert str(tmp_path / "j.json") in str(err.value)  # names the file
    assert export_journey(store, "Simple") == before
    assert get_journey(store, "Simple")[1] == 1


def test_not_json_names_line_and_column(store: Store, tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('{"name": "x",\n  "stages": [}', encoding="utf-8")
    with pytest.raises(JourneyError, match=r"line 2, column"):
        load_file(store, p)


def test_evaluate_unknown_journey(store: Store) -> None:
    with pytest.raises(JourneyNotFound, match="no journeys yet"):
        evaluate(store, "Nope")


def test_forgetting_a_contact_erases_its_journey_history(store: Store, b: Builder) -> None:
    from journeytui.domain.contacts import forget_contact
    from journeytui.domain.engine import advance

    ann, bob = b.contact("ann"), b.contact("bob")
    for who in ("ann", "bob"):
        b("send", who, T0, SPRING)
        b("click", who, T0 + 700, SPRING, PRICING_URL)
    save_journey(store, parse_journey(SIMPLE))
    forget_contact(store, "ann@example.com")
    for table in ("journey_positions", "journey_moves"):
        owners = {r[0] for r in store.conn.execute(f"SELECT contact_id FROM {table}")}
        assert ann.id not in owners and bob.id in owners, table
    advance(store, "Simple")  # still fine afterwards
    assert {r[0] for r in store.conn.execute("SELECT contact_id FROM journey_positions")} == {
        bob.id, b.r.contact("forms@example.com").id}


def test_contact_stages_and_moves(store: Store, b: Builder) -> None:
    from journeytui.domain.journeys import contact_moves, contact_stages

    ann, bob = b.contact("ann"), b.contact("bob")
    b("send", "ann", T0, SPRING)
    b("click", "ann", T0 + 700, SPRING, PRICING_URL)
    b("send", "bob", T0, SPRING)
    install_demo_journeys(store)
    save_journey(store, parse_journey(SIMPLE))
    stages = contact_stages(store, ann.id)
    assert [(s.journey, s.stage, s.since, s.exit) for s in stages] == [
        ("Lead nurturing", "Interested", T0 + 700, False), ("Simple", "B", T0 + 700, False)]
    moves = contact_moves(store, ann.id)
    assert [(m.journey, m.from_stage, m.to_stage, m.email) for m in moves
            if m.journey == "Lead nurturing"] == [
        ("Lead nurturing", None, "Browsing", SPRING),
        ("Lead nurturing", "Browsing", "Interested", SPRING)]
    assert contact_stages(store, bob.id) == []  # a send alone is not a journey


def test_rename_keeps_the_history_and_refuses_a_taken_name(store: Store, b: Builder) -> None:
    b.contact("ann")
    b("open", "ann", T0, SPRING)
    save_journey(store, parse_journey(SIMPLE))
    save_journey(store, parse_journey(dict(SIMPLE, name="Other")))
    renamed = parse_journey(dict(SIMPLE, name="Renamed"))
    assert save_journey(store, renamed, original_name="Simple", expected_version=1) == 2
    assert [v.version for v in list_versions(store, "Renamed")] == [1, 2]
    with pytest.raises(JourneyNotFound):
        get_journey(store, "Simple")
    clash = parse_journey(dict(SIMPLE, name="Other"))
    with pytest.raises(UserError, match="'Other' already exists; nothing was saved"):
        save_journey(store, clash, original_name="Renamed")
    assert get_journey(store, "Renamed")[1] == 2


def test_new_journey_with_a_taken_name_is_a_conflict(store: Store, b: Builder) -> None:
    save_journey(store, parse_journey(SIMPLE), expected_version=0)
    with pytest.raises(ConflictError, match="'Simple' already exists"):
        save_journey(store, parse_journey(SIMPLE), expected_version=0)
    delete_journey(store, "Simple")
    with pytest.raises(ConflictError, match="was deleted since you opened it"):
        save_journey(store, parse_journey(SIMPLE), expected_version=1)

"""Issue 11: figures that follow their definitions in every output (minimal examples,
expected figures worked out by hand)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import run, stage, two_stage
from jbuilder import DAY, T0, Builder

from journeytui.cli import main
from journeytui.domain.conditions import render, url_matches
from journeytui.domain.funnel import contacts_csv, funnel, stage_contacts
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import save_journey
from journeytui.store import Store

SPRING = "Spring product teaser"
NEWSLETTER_JAN = "Newsletter — January 2026"

# A → B (goal), X an exit; ann stays in A, bob reaches B, cara leaves through X.
EXIT_JOURNEY = {
    "name": "E", "goal": "test",
    "stages": [{"name": "A"}, {"name": "B"}, {"name": "X", "exit": True}],
    "transitions": [
        {"from": None, "to": "X", "priority": 1, "when": {"submitted_form": {"form": "Contact sales"}}},
        {"from": "A", "to": "B", "when": {"clicked": {}}},
    ],
}


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def exits_store(store: Store, b: Builder) -> Store:
    for n in ("ann", "bob", "cara"):
        b.contact(n)
        b("open", n, T0, SPRING)  # all enter A at T0
    b("click", "bob", T0 + DAY, SPRING, "https://www.example.com/pricing")  # B at T0 + 1 day
    b("form", "cara", T0 + DAY, "Contact sales")  # X at T0 + 1 day
    # Evaluated 40 days later: everybody has been in their stage for 39 or 40 days.
    save_journey(store, parse_journey(EXIT_JOURNEY), now=T0 + 40 * DAY)
    return store


def test_nobody_is_stalled_in_the_goal_or_an_exit(
    exits_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    store = exits_store
    f = funnel(store, "E", stall_days=30)
    # Only ann (A, 40 days) is stalled; bob is in the goal, cara in the exit.
    assert [(s["stage"], s["current"], s["stalled"]) for s in f["stages"]] == [
        ("A", 1, 1), ("B", 1, None)]
    assert f["exits"] == [{"stage": "X", "reached": 1, "current": 1, "stalled": None}]
    data = _json(capsys, ["funnel", "E", "--json", "--db", str(store.path)])
    assert data["exits"][0]["stalled"] is None
    # The stage lists and their CSV say the same.
    for s, expected in (("A", True), ("B", False), ("X", False)):
        rows = stage_contacts(store, "E", s, stall_days=30)
        assert [r.stalled for r in rows] == [expected], s
        cells = list(csv.reader(io.StringIO(contacts_csv(rows))))
        assert cells[1][-1] == ("yes" if expected else "no")
    assert stage_contacts(store, "E", "X", stall_days=30, stalled_only=True) == []
    assert stage_contacts(store, "E", "B", stall_days=30, stalled_only=True) == []


def test_stage_contacts_json_times_are_iso(
    exits_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _json(capsys, ["funnel", "E", "--stage", "X", "--contacts", "--json",
                          "--db", str(exits_store.path)])
    assert data == [{"email": "cara@example.com", "first_name": "cara", "last_name": "",
                     "stage": "X", "since": "2026-01-06T08:00:00Z", "days_in_stage": 39.0,
                     "stalled": False}]


def test_activities_json_names_the_list_of_an_unsubscribe(
    store: Store, b: Builder, capsys: pytest.CaptureFixture[str]
) -> None:
    ann = b.contact("ann")
    b("send", "ann", T0, NEWSLETTER_JAN)
    with store.transaction():
        b.r.unsubscribe(ann, T0 + 100, email_id=b.emails[NEWSLETTER_JAN],
                        list_id=b.lists["Newsletter"])
    acts = _json(capsys, ["activities", NEWSLETTER_JAN, "--json", "--db", str(store.path)])
    card = _json(capsys, ["contact", "ann@example.com", "--json", "--db", str(store.path)])
    assert [(a["activity"], a["value"]) for a in acts["activities"]] == [
        ("unsubscribe", "Newsletter")]
    assert [(a["activity"], a["value"]) for a in card[0]["activities"]] == [
        ("unsubscribe", "Newsletter")]


@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        ("example.com/products/", "https://www.example.com/productsheet", False),
        ("example.com/products/", "https://www.example.com/products", True),
        ("example.com/products/", "https://www.example.com/products/", True),
        ("example.com/products/", "https://www.example.com/products/tracker", True),
        ("example.com/products/", "https://www.example.com/products?utm=x", True),
        ("example.com/products", "https://www.example.com/productsheet", True),
        ("EXAMPLE.com/", "http://www.example.com", True),
        ("example.com/", "https://www.example.community/x", False),
    ],
)
def test_trailing_slash_in_a_contains_pattern_is_a_path_boundary(
    pattern: str, url: str, expected: bool
) -> None:
    assert url_matches(pattern, url, "contains") is expected


def test_trailing_slash_boundary_in_the_engine(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    with store.transaction():
        b.r.ensure_link(b.emails[SPRING], "https://www.example.com/productsheet")
    b("open", "ann", T0, SPRING)
    b("open", "bob", T0, SPRING)
    b("click", "ann", T0 + 600, SPRING, "https://www.example.com/productsheet")
    b("click", "bob", T0 + 600, SPRING, "https://www.example.com/products/planner")
    r = run(store, two_stage({"clicked": {"url": "example.com/products/"}}))
    assert (stage(r, ann.id), stage(r, bob.id)) == ("A", "B")
    r = run(store, two_stage({"visited": {"url": "example.com/products/"}}))
    b("visit", "ann", T0 + 700, "https://www.example.com/productsheet")
    b("visit", "bob", T0 + 700, "https://www.example.com/products")
    r = run(store, two_stage({"visited": {"url": "example.com/products/"}}))
    assert (stage(r, ann.id), stage(r, bob.id)) == ("A", "B")


def test_no_click_reading_says_received() -> None:
    from journeytui.domain.conditions import parse_condition

    assert render(parse_condition({"no_click_in_last": {"campaigns": 3}})) == (
        "no click in the last 3 campaigns received")

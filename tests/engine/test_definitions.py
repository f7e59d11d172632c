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


# -- item 1: unsubscribe conditions read the subscription state at each moment --------
N1, N2, N3, N4 = (f"Newsletter — {m} 2026" for m in ("January", "February", "March", "April"))
UNSUB_JOURNEY = {
    "name": "U",
    "stages": [{"name": "A"}, {"name": "B"}, {"name": "Gone", "exit": True}],
    "transitions": [
        {"from": None, "to": "Gone", "priority": 1,
         "when": {"unsubscribed": {"list": "Newsletter"}}},
        {"from": "Gone", "to": "A", "when": {"not": {"unsubscribed": {"list": "Newsletter"}}}},
        {"from": "A", "to": "B", "when": {"clicked": {}}},
    ],
}
BLOG = "https://www.example.com/blog/one"


def test_a_resubscribe_ends_unsubscribed(store: Store, b: Builder) -> None:
    from conftest import moves_of

    ann, bob = b.contact("ann"), b.contact("bob")
    # ann: in A, unsubscribes from Newsletter (→ Gone), resubscribes (→ A), clicks (→ B).
    b("open", "ann", T0, N1)
    b("unsub", "ann", T0 + 100, "Newsletter")
    b("resub", "ann", T0 + 200, "Newsletter")
    b("click", "ann", T0 + 300, N1, BLOG)
    # bob unsubscribes and resubscribes before his first open: he enters A and stays
    # subscribed, then his click takes him to B.
    b("unsub", "bob", T0 + 100, "Newsletter")
    b("resub", "bob", T0 + 200, "Newsletter")
    b("open", "bob", T0 + 300, N1)
    b("click", "bob", T0 + 400, N1, BLOG)
    r = run(store, UNSUB_JOURNEY, now=T0 + DAY)
    assert moves_of(r, ann.id) == [(None, "A", T0, False), ("A", "Gone", T0 + 100, False),
                                   ("Gone", "A", T0 + 200, False), ("A", "B", T0 + 300, False)]
    assert moves_of(r, bob.id) == [(None, "A", T0 + 300, False), ("A", "B", T0 + 400, False)]


def test_unsubscribed_from_all_beats_a_resubscribe_to_one_list(store: Store, b: Builder) -> None:
    from conftest import moves_of

    ann = b.contact("ann")
    b("open", "ann", T0, N1)
    b("unsub_all", "ann", T0 + 100)
    b("resub", "ann", T0 + 200, "Newsletter")
    b("click", "ann", T0 + 300, N1, BLOG)
    r = run(store, UNSUB_JOURNEY, now=T0 + DAY)
    assert moves_of(r, ann.id) == [(None, "A", T0, False), ("A", "Gone", T0 + 100, False)]


def test_a_change_without_consent_moves_at_its_time_and_stays_there(
    store: Store, b: Builder
) -> None:
    from journeytui.domain.engine import advance, evaluate

    ann = b.contact("ann")
    b("open", "ann", T0, N1)
    save_journey(store, parse_journey(UNSUB_JOURNEY))
    b("consent", "ann", T0 + 50, False)
    b("unsub", "ann", T0 + 100, "Newsletter")  # no activity: consent was revoked
    b("send", "ann", T0 + 2 * DAY, N2)  # later imports: the evaluation time moves on
    assert not advance(store, "U").full
    pos = "SELECT stage, since FROM journey_positions WHERE contact_id = ?"
    assert store.conn.execute(pos, (ann.id,)).fetchone() == ("Gone", T0 + 100)
    b("send", "ann", T0 + 9 * DAY, N3)
    advance(store, "U")
    assert store.conn.execute(pos, (ann.id,)).fetchone() == ("Gone", T0 + 100)
    move = ("SELECT from_stage, to_stage, at, activity_id, email_id, provisional"
            " FROM journey_moves WHERE contact_id = ? AND to_stage = 'Gone'")
    assert store.conn.execute(move, (ann.id,)).fetchall() == [("A", "Gone", T0 + 100, None,
                                                                None, 0)]
    # A resubscribe without consent brings ann back at its own time.
    b("resub", "ann", T0 + 10 * DAY, "Newsletter")
    advance(store, "U")
    assert store.conn.execute(pos, (ann.id,)).fetchone() == ("A", T0 + 10 * DAY)
    incremental = store.conn.execute(
        "SELECT from_stage, to_stage, at, provisional FROM journey_moves ORDER BY id").fetchall()
    evaluate(store, "U")
    assert store.conn.execute(
        "SELECT from_stage, to_stage, at, provisional FROM journey_moves ORDER BY id"
    ).fetchall() == incremental == [(None, "A", T0, 0), ("A", "Gone", T0 + 100, 0),
                                    ("Gone", "A", T0 + 10 * DAY, 0)]


def test_a_spam_report_without_consent_moves_at_its_time(store: Store, b: Builder) -> None:
    from conftest import moves_of

    ann = b.contact("ann")
    b("open", "ann", T0, N1)
    b("consent", "ann", T0 + 50, False)
    b("spam", "ann", T0 + 100, N1)
    j = two_stage({"reported_spam": {}})
    r = run(store, j, now=T0 + DAY)
    assert moves_of(r, ann.id) == [(None, "A", T0, False), ("A", "B", T0 + 100, False)]
    # Which email it was is not kept without consent: "reported 'X' as spam" is false.
    r = run(store, two_stage({"reported_spam": {"email": N1}}), now=T0 + DAY)
    assert stage(r, ann.id) == "A"


def test_a_consented_unsubscribe_is_an_activity_that_can_enter(store: Store, b: Builder) -> None:
    ann, bob = b.contact("ann"), b.contact("bob")
    b("open", "bob", T0, N1)  # bob has an activity, so his changes are read
    b("consent", "bob", T0 + 10, False)
    b("unsub", "ann", T0 + 100, "Newsletter")
    b("unsub", "bob", T0 + 100, "Newsletter")
    j = two_stage({"clicked": {}}, entry={"unsubscribed": {"list": "Newsletter"}})
    r = run(store, j, now=T0 + DAY)
    first = next(m for m in r.moves if m[0] == ann.id)
    assert first[1:6] == (-1, 0, 0, T0 + 100, store.conn.execute(
        "SELECT id FROM activities WHERE contact_id = ? AND kind = 'unsubscribe'",
        (ann.id,)).fetchone()[0])
    # Without consent the change is no activity: bob does not enter at it.
    assert stage(r, bob.id) is None


# -- item 6: the cascade tries every transition, whatever the event's kind ------------
def test_after_a_cut_cascade_the_next_event_tries_every_transition(
    store: Store, b: Builder
) -> None:
    from conftest import moves_of

    ann = b.contact("ann")
    b("open", "ann", T0, N1)  # enters A
    b("click", "ann", T0 + 100, N1, BLOG)  # A → B; B → A holds (opened) but is cut
    b("form", "ann", T0 + 200, "Whitepaper download")  # B → A now; A → B is cut
    j = {
        "name": "Loop", "stages": [{"name": "A"}, {"name": "B"}],
        "transitions": [
            {"from": "A", "to": "B", "when": {"clicked": {}}},
            {"from": "B", "to": "A", "when": {"opened": {}}},
        ],
    }
    r = run(store, j, now=T0 + DAY)
    assert moves_of(r, ann.id) == [
        (None, "A", T0, False), ("A", "B", T0 + 100, False), ("B", "A", T0 + 200, False),
        ("A", "B", T0 + DAY, True),  # the check at evaluation time: a new check point
    ]
    assert stage(r, ann.id) == "B"


# -- item 7: a bounced or dropped send is not a campaign received ----------------------
def test_no_click_counts_only_delivered_sends(store: Store, b: Builder) -> None:
    from conftest import moves_of

    ann, bob = b.contact("ann"), b.contact("bob")
    for who in ("ann", "bob"):
        b("send", who, T0, N1)
        b("open", who, T0 + 100, N1)  # entry
        b("send", who, T0 + 10 * DAY, N2)
        with store.transaction():
            b.r.send(b.emails[N3], b.contacts[who], T0 + 20 * DAY, dropped=True)
        b("send", who, T0 + 30 * DAY, N4)
    b("bounce", "ann", T0 + 10 * DAY + 60, N2)  # ann did not receive N2 either
    now = T0 + 40 * DAY
    r = run(store, two_stage({"no_click_in_last": {"campaigns": 2}}), now=now)
    # bob received N1, N2, N4: at the N4 send, N1 and N2 had their chance unclicked.
    bob_move = next(m for m in r.moves if m[0] == bob.id and m[2] == 1)
    assert (bob_move[4], bob_move[7], bob_move[8]) == (T0 + 30 * DAY, b.emails[N4], 0)
    # ann received N1 and N4 only: at the N4 send only one campaign had its chance;
    # at evaluation time N1 and N4 are unclicked.
    assert moves_of(r, ann.id) == [(None, "A", T0 + 100, False), ("A", "B", now, True)]

"""Follow-up segments on small hand-built stores; every member worked out by hand.

Journey "S": A → B on a pricing click, any main-line stage → X (exit) on an
unsubscribe from all.  Segments: "Stuck A" (in A at least 7 days, clicked a blog
link), "Fresh B" (entered B at most 10 days before), "All X" (in X).  The last event
is at NOW = T0+40d (c's open), so every evaluation is as of NOW.

* a: opens at T0 (A), clicks a blog link at T0+1d: 40 days in A, clicked → Stuck A;
* b: opens at T0+35d (A), clicks a blog link at T0+36d: 5 days in A → not;
* c: opens at T0 and at NOW (A), no blog click → not;
* d: clicks pricing at T0+32d (A, then B at once): in B 8 days → Fresh B;
* e: clicks pricing at T0+5d: in B 35 days → not;
* g: clicks pricing at T0+30d: in B exactly 10 days → Fresh B (the bound is included);
* f: opens at T0, unsubscribes from all at T0+2d → X: All X (left out of exports).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from jbuilder import DAY, T0, Builder, new_store

from journeytui.cli import main
from journeytui.domain import segments
from journeytui.domain.engine import advance_all, evaluate_all
from journeytui.domain.journey_model import JourneyError, parse_journey
from journeytui.domain.journeys import save_journey
from journeytui.errors import UserError
from journeytui.store import Store
from tests.blank_store import blank_store

PRICING = "https://www.example.com/pricing"
BLOG = "https://www.example.com/blog/one"
JAN = "Newsletter — January 2026"
NOW = T0 + 40 * DAY
SPLIT = T0 + 20 * DAY  # the incremental store gets the events after this later
REAL = Path("/work/shared/realworld/contacts")

JOURNEY = {
    "name": "S",
    "stages": [{"name": "A"}, {"name": "B"}, {"name": "X", "exit": True}],
    "transitions": [
        {"from": None, "to": "X", "priority": 1, "when": {"unsubscribed": {}}},
        {"from": "A", "to": "B", "when": {"clicked": {"url": "example.com/pricing"}}},
    ],
    "segments": [
        {"name": "Stuck A", "stage": "A", "in_stage_days": 7, "clicked": "example.com/blog"},
        {"name": "Fresh B", "stage": "B", "entered_within_days": 10},
        {"name": "All X", "stage": "X", "description": "Unsubscribed"},
    ],
}
EVENTS = [
    ("open", "a", T0, JAN), ("click", "a", T0 + DAY, JAN, BLOG),
    ("open", "c", T0, JAN), ("open", "f", T0, JAN), ("unsub_all", "f", T0 + 2 * DAY),
    ("click", "e", T0 + 5 * DAY, "Pricing update", PRICING),
    ("click", "g", T0 + 30 * DAY, "Pricing update", PRICING),
    ("click", "d", T0 + 32 * DAY, "Pricing update", PRICING),
    ("open", "b", T0 + 35 * DAY, JAN), ("click", "b", T0 + 36 * DAY, JAN, BLOG),
    ("open", "c", NOW, JAN),
]
EXPECTED = {"Stuck A": {"a"}, "Fresh B": {"d", "g"}, "All X": {"f"}}


def _builder(path: Path) -> Builder:
    b = Builder(new_store(path)).catalog()
    for n in "abcdefg":
        b.contact(n)
    return b


def _play(b: Builder, events: list[tuple[object, ...]]) -> None:
    for action, who, at, *rest in events:
        b(str(action), str(who), int(at), *rest)  # type: ignore[call-overload]


def full(path: Path) -> Store:
    b = _builder(path)
    _play(b, EVENTS)
    save_journey(b.store, parse_journey(JOURNEY))
    return b.store


def _who(store: Store, name: str) -> set[str]:
    _, _, _, rows = segments.members(store, name)
    return {r.email.split("@")[0] for r in rows}


def test_members_after_evaluation(tmp_path: Path) -> None:
    store = full(tmp_path)
    for name, who in EXPECTED.items():
        assert _who(store, name) == who, name
    info = {i.segment.name: i for i in segments.list_segments(store)}
    assert {k: i.members for k, i in info.items()} == {"Stuck A": 1, "Fresh B": 2, "All X": 1}
    _, seg, at, rows = segments.members(store, "Fresh B")
    assert at == NOW and seg.stage == "B"
    # longest in the stage first: g (since T0+30d, 10.0 days), d (T0+32d, 8.0 days)
    assert [(r.email, r.days_in_stage) for r in rows] == [("g@example.com", 10.0),
                                                          ("d@example.com", 8.0)]


def test_members_after_an_incremental_import_equal_a_full_evaluation(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "inc").mkdir()
    whole = full(tmp_path / "full")
    b = _builder(tmp_path / "inc")
    _play(b, [e for e in EVENTS if int(e[2]) <= SPLIT])  # type: ignore[call-overload]
    save_journey(b.store, parse_journey(JOURNEY))
    # as of T0+5d (e's click, the latest event then): a in A 5 days → not yet stuck
    assert _who(b.store, "Stuck A") == set()
    _play(b, [e for e in EVENTS if int(e[2]) > SPLIT])  # type: ignore[call-overload]
    reports = advance_all(b.store)
    assert not reports[0].full
    for name, who in EXPECTED.items():
        assert _who(b.store, name) == _who(whole, name) == who, name


def test_members_after_a_sendgrid_import_equal_a_full_evaluation(tmp_path: Path) -> None:
    """The same, the later events arriving as a SendGrid webhook file (the import
    advances every journey)."""
    import json

    from journeytui.importers.sendgrid import import_sendgrid

    (tmp_path / "full").mkdir()
    (tmp_path / "inc").mkdir()
    whole = full(tmp_path / "full")
    b = _builder(tmp_path / "inc")
    _play(b, [e for e in EVENTS if int(e[2]) <= SPLIT])  # type: ignore[call-overload]
    save_journey(b.store, parse_journey(JOURNEY))
    later = [e for e in EVENTS if int(e[2]) > SPLIT]
    assert {e[0] for e in later} == {"open", "click"}
    events = [
        {"email": f"{who}@example.com", "timestamp": at, "event": kind,
         "sg_event_id": f"e{k}", "category": email, **({"url": rest[0]} if rest else {})}
        for k, (kind, who, at, email, *rest) in enumerate(later)
    ]
    (tmp_path / "ev.json").write_text(json.dumps(events), encoding="utf-8")
    import_sendgrid(b.store, [tmp_path / "ev.json"])
    for name, who in EXPECTED.items():
        assert _who(b.store, name) == _who(whole, name) == who, name


def test_export_layouts(tmp_path: Path) -> None:
    store = full(tmp_path)
    _, _, _, rows = segments.members(store, "All X")
    lines, kept, left = segments.export_lines(rows, "sendgrid")
    assert (kept, left) == (0, 1)  # f unsubscribed from all: left out
    assert "".join(lines) == "email,first_name,last_name\n"
    _, _, _, rows = segments.members(store, "Fresh B")
    lines, kept, left = segments.export_lines(rows, "mailchimp")
    assert "".join(lines) == ("Email Address,First Name,Last Name\n"
                              "g@example.com,g,\nd@example.com,d,\n")
    with pytest.raises(UserError, match="sendgrid, mailchimp"):
        segments.export_lines(rows, "hubspot")


def test_layouts_are_the_real_upload_headers() -> None:
    # Mailchimp's own exports start with its three default merge fields' column names;
    # SendGrid's upload takes its reserved fields by name (its docs' example: "email").
    with (REAL / "mailchimp_export_with_tags.csv").open(encoding="utf-8") as f:
        assert tuple(next(csv.reader(f))[:3]) == segments.LAYOUTS["mailchimp"]
    with (REAL / "sendgrid_mc_contacts_export.csv").open(encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert tuple(h.lower() for h in header[:3]) == segments.LAYOUTS["sendgrid"]
    with (REAL / "sendgrid_docs_example_upload.csv").open(encoding="utf-8") as f:
        assert next(csv.reader(f))[0] == segments.LAYOUTS["sendgrid"][0]


def test_an_export_reads_back_with_the_provider_preset(tmp_path: Path) -> None:
    from journeytui.importers.contacts_csv import import_contacts

    store = full(tmp_path)
    db = str(store.path)
    store.close()
    for fmt in ("sendgrid", "mailchimp"):
        out = tmp_path / f"{fmt}.csv"
        assert main(["--db", db, "segment", "export", "Fresh B", str(out),
                     "--format", fmt]) == 0
        (tmp_path / fmt).mkdir()
        other = blank_store(tmp_path / fmt / "o.db", token_key=b"k" * 16)
        report = import_contacts(other, out, preset=fmt, consent=False)
        assert report.added.get("new_contacts") == 2, report
        assert sorted(r[0] for r in other.conn.execute("SELECT email FROM contacts")) == [
            "d@example.com", "g@example.com"]
        other.close()


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = full(tmp_path)
    db = str(store.path)
    store.close()
    assert main(["--db", db, "segment", "list"]) == 0
    out = capsys.readouterr().out
    assert "Stuck A" in out and "in 'A' for at least 7 days" in out
    assert main(["--db", db, "segment", "show", "Fresh B", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["members"] == 2 and data["as_of"] == "2026-02-14T08:00:00Z"  # T0 + 40 d
    assert data["contacts"][0]["in_stage_since"] == "2026-02-04T08:00:00Z"  # g, T0 + 30 d
    assert main(["--db", db, "segment", "show", "Nope"]) == 2
    assert "no segment named 'Nope'; segments: 'All X', 'Fresh B', 'Stuck A'" in \
        capsys.readouterr().err
    assert main(["--db", db, "segment", "export", "All X", db, "--format", "sendgrid"]) == 2
    assert "is the store" in capsys.readouterr().err
    out_file = tmp_path / "x.csv"
    assert main(["--db", db, "segment", "export", "All X", str(out_file),
                 "--format", "sendgrid"]) == 0
    assert "1 unsubscribed from all lists left out" in capsys.readouterr().out


# -- the condition "in segment" -------------------------------------------------------
COND = {
    "name": "C",
    "stages": [{"name": "A"}, {"name": "N"}],
    "transitions": [{"from": "A", "to": "N", "when": {"in_segment": {"segment": "Stuck"}}}],
    "segments": [{"name": "Stuck", "stage": "A", "in_stage_days": 7,
                  "clicked": "example.com/blog"}],
}


def _moves(store: Store) -> list[tuple[str, int, int]]:
    # (a provisional move's time is stored as "at the evaluation time")
    return [(r[0].split("@")[0], r[1], r[2]) for r in store.conn.execute(
        "SELECT c.email, CASE WHEN m.provisional THEN p.evaluated_at ELSE m.at END,"
        " m.provisional FROM journey_moves m JOIN contacts c ON c.id = m.contact_id"
        " JOIN journey_progress p ON p.journey_id = m.journey_id"
        " WHERE m.to_stage = 'N' ORDER BY c.email")]


def test_in_segment_condition(tmp_path: Path) -> None:
    """a: enters A at T0, blog click at T0+1d, opens at T0+3d (3 days in A: no) and at
    T0+9d (9 days, clicked: moves to N then).  c: enters at T0, blog click at T0+2d, no
    more events: the check at the evaluation time (NOW) moves it (provisional).  b:
    enters at T0+35d, blog click at T0+36d: 5 days at NOW, stays."""
    b = _builder(tmp_path)
    _play(b, [("open", "a", T0, JAN), ("click", "a", T0 + DAY, JAN, BLOG),
              ("open", "a", T0 + 3 * DAY, JAN), ("open", "a", T0 + 9 * DAY, JAN),
              ("open", "c", T0, JAN), ("click", "c", T0 + 2 * DAY, JAN, BLOG),
              ("open", "b", T0 + 35 * DAY, JAN), ("click", "b", T0 + 36 * DAY, JAN, BLOG),
              ("open", "e", NOW, JAN)])
    save_journey(b.store, parse_journey(COND))
    assert _moves(b.store) == [("a", T0 + 9 * DAY, 0), ("c", NOW, 1)]


def test_in_segment_incremental_recheck(tmp_path: Path) -> None:
    """Evaluated at T0+36d (b 1 day in A); then an event of someone else at T0+44d: b has
    been in A 9 days and clicked: the advance must recheck b (as a full replay does)."""
    (tmp_path / "i").mkdir()
    (tmp_path / "f").mkdir()
    stores = []
    for sub in ("i", "f"):
        b = _builder(tmp_path / sub)
        _play(b, [("open", "b", T0 + 35 * DAY, JAN), ("click", "b", T0 + 36 * DAY, JAN, BLOG)])
        save_journey(b.store, parse_journey(COND))
        assert _moves(b.store) == []
        _play(b, [("open", "e", T0 + 44 * DAY, JAN)])
        stores.append(b.store)
    advance_all(stores[0])
    evaluate_all(stores[1])
    assert _moves(stores[0]) == _moves(stores[1]) == [("b", T0 + 44 * DAY, 1)]


def _bad(change: dict[str, object]) -> str:
    raw = {**COND, **change}
    with pytest.raises(JourneyError) as err:
        parse_journey(raw, source="c.json")
    return str(err.value)


def test_in_segment_validation() -> None:
    msg = _bad({"transitions": [{"from": "A", "to": "N",
                                 "when": {"in_segment": {"segment": "Stuk"}}}]})
    assert msg == ("c.json: transition 1 (A → N): condition in_segment: this journey has "
                   "no segment 'Stuk' (its segments: 'Stuck')")
    later = _bad({"segments": [{"name": "Stuck", "stage": "N"}]})
    assert later == ("c.json: transition 1 (A → N): condition in_segment 'Stuck' can never "
                     "hold: it holds contacts in 'N' (a later stage), and this transition is "
                     "tried only while in 'A'")
    entry = _bad({"entry": {"in_segment": {"segment": "Stuck"}}})
    assert "entry: condition in_segment 'Stuck' can never hold: a contact entering" in entry
    assert "stage 'Z' is not a stage of this journey" in _bad(
        {"segments": [{"name": "Stuck", "stage": "Z"}]})
    assert "the name is already used by segment 1" in _bad(
        {"segments": [{"name": "Stuck", "stage": "A"}, {"name": "stuck", "stage": "A"}]})
    assert "nobody can be in it" in _bad(
        {"segments": [{"name": "Stuck", "stage": "A", "in_stage_days": 8,
                       "entered_within_days": 7}]})
    assert "segment 1, in_stage_days" in _bad(
        {"segments": [{"name": "Stuck", "stage": "A", "in_stage_days": 0}]})
    assert "segment 1, name: Value error, must not contain control characters" in _bad(
        {"segments": [{"name": "Stuck\x1b[31m", "stage": "A"}]})


def test_definitions_without_segments_read_back_unchanged() -> None:
    j = parse_journey({k: v for k, v in COND.items() if k != "segments"} | {
        "transitions": []})
    assert "segments" not in j.to_json_dict()
    j2 = parse_journey(COND)
    assert j2.to_json_dict()["segments"] == COND["segments"]
    assert parse_journey(j2.to_json_dict()) == j2


# -- the app ------------------------------------------------------------------------------
async def test_pane_lists_segments_and_their_members(
    tmp_path: Path, app_factory: Callable[..., object], settle: Callable[..., object],
) -> None:
    from journeytui.tui.panes.insights import InsightsPane

    store = full(tmp_path)
    db = store.path
    store.close()
    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[operator]
        await pilot.press("6")
        await settle(pilot)  # type: ignore[operator]
        pane = app.query_one(InsightsPane)  # type: ignore[attr-defined]
        assert [g.segment.name for g in pane.segs] == ["Stuck A", "Fresh B", "All X"]
        assert [g.members for g in pane.segs] == [1, 2, 1]
        await pilot.press("end", "up")  # the last row is "All X"; one up: "Fresh B"
        assert pane.highlighted is pane.segs[1]
        await pilot.press("enter")
        await settle(pilot)  # type: ignore[operator]
        assert pane.contacts.has_focus and "segment Fresh B" in pane.contacts.border_title
        job = pane.export_job()
        assert job is not None and job.headers == ["email", "first_name", "last_name"]
        with Store.open(db, readonly=True) as s:
            assert list(job.rows(s)) == [["g@example.com", "g", ""],
                                         ["d@example.com", "d", ""]]
        await pilot.press("m")  # the Mailchimp layout: the same rows, its header
        job = pane.export_job()
        assert job is not None and job.headers == ["Email Address", "First Name", "Last Name"]
        await pilot.press("enter")  # opens g
        await settle(pilot)  # type: ignore[operator]
        assert app.main.current == "contacts"  # type: ignore[attr-defined]

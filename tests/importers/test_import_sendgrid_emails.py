"""Which email a SendGrid event belongs to, and how new emails are created."""

from __future__ import annotations

from typing import Any

import pytest

from journeytui.errors import UserError
from journeytui.importers.sendgrid import NO_EMAIL, import_sendgrid
from journeytui.store import Recorder


def _import_one(kit: Any, default: str | None = None, **fields: Any) -> str | None:
    """Import one processed event with *fields*; the name of the email it went to."""
    event = kit.ev("processed", campaign=None, **fields)
    import_sendgrid(kit.store, [kit.ndjson([event], f"e{event['sg_event_id']}.ndjson")],
                    default_email=default)
    return kit.one(
        "SELECT e.name FROM sends s JOIN emails e ON e.id = s.email_id"
        " ORDER BY s.id DESC LIMIT 1"
    )


@pytest.fixture
def known(kit: Any) -> Any:
    with kit.store.transaction():
        r = Recorder(kit.store)
        r.ensure_email("Autumn", campaign_id="c-9", send_at=kit.T0 - 86400)
        r.ensure_email("Teaser", send_at=kit.T0 - 86400)
    return kit


def test_campaign_name_comes_first(known: Any) -> None:
    got = _import_one(known, default="Fallback", marketing_campaign_name="Teaser",
                      marketing_campaign_id="c-9", category=["Other"])
    assert got == "Teaser"


def test_an_unknown_name_with_a_known_campaign_id_is_that_campaign_renamed(known: Any) -> None:
    assert _import_one(known, marketing_campaign_name="Autumn v2",
                       marketing_campaign_id="c-9") == "Autumn"
    assert known.one("SELECT count(*) FROM emails") == 2


def test_a_new_name_creates_the_email_with_its_campaign_id(known: Any) -> None:
    assert _import_one(known, marketing_campaign_name="Winter",
                       marketing_campaign_id=4711) == "Winter"
    assert known.one("SELECT campaign_id, status FROM emails WHERE name = 'Winter'") == (
        "4711", "sent",
    )
    # later events that carry only the id find it
    assert _import_one(known, marketing_campaign_id=4711) == "Winter"


def test_a_known_email_learns_its_campaign_id(known: Any) -> None:
    assert _import_one(known, marketing_campaign_name="Teaser", marketing_campaign_id=55) == (
        "Teaser"
    )
    assert known.one("SELECT campaign_id FROM emails WHERE name = 'Teaser'") == "55"
    assert _import_one(known, marketing_campaign_id=55) == "Teaser"
    # an id that another email already has is left alone
    assert _import_one(known, marketing_campaign_name="Teaser", marketing_campaign_id="c-9") == (
        "Teaser"
    )
    assert known.all("SELECT name, campaign_id FROM emails ORDER BY name") == [
        ("Autumn", "c-9"),
        ("Teaser", "55"),
    ]


def test_campaign_id_matches_emails_campaign_id(known: Any) -> None:
    assert _import_one(known, marketing_campaign_id="c-9", category="Teaser") == "Autumn"


def test_unknown_campaign_id_creates_an_email_named_by_it(known: Any) -> None:
    assert _import_one(known, marketing_campaign_id="c-77", category="Teaser") == "c-77"
    assert known.one("SELECT campaign_id FROM emails WHERE name = 'c-77'") == "c-77"


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Teaser", "Teaser"),
        (["Teaser", "Autumn"], "Teaser / Autumn"),  # tags: all of them name the email
        (["Teaser"], "Teaser"),
        (["", "Autumn"], "Autumn"),
        ("  Teaser  ", "Teaser"),
        ([], "Fallback"),
        ("", "Fallback"),
        (None, "Fallback"),
    ],
)
def test_category_rule_then_default(known: Any, category: Any, expected: str) -> None:
    fields = {} if category is None else {"category": category}
    assert _import_one(known, default="Fallback", **fields) == expected


def test_no_email_at_all_is_skipped_and_can_be_imported_later(kit: Any) -> None:
    events = [kit.ev("processed", campaign=None), kit.ev("open", campaign=None, at=kit.T0 + 60)]
    for e in events:
        del e["sg_message_id"]  # nothing at all to find the email by
    path = kit.ndjson(events)
    before = kit.dump()
    report = import_sendgrid(kit.store, [path])
    assert report.skipped[NO_EMAIL].count == 2
    assert report.skipped[NO_EMAIL].locations == [f"{path}:1", f"{path}:2"]
    assert kit.dump() == before  # not even remembered as seen
    report = import_sendgrid(kit.store, [path], default_email="Launch")
    assert not report.skipped
    assert (kit.stats("Launch")["sent"], kit.stats("Launch")["opens_total"]) == (1, 1)


def test_events_of_an_unnamed_message_wait_for_the_import_that_names_it(kit: Any) -> None:
    t = kit.T0
    waiting = [kit.ev("open", campaign=None, at=t + 60, sg_message_id="m9.filter1"),
               kit.ev("bounce", "bob@example.com", campaign=None, at=t + 5, type="blocked",
                      sg_message_id="m9.filter2")]
    report = import_sendgrid(kit.store, [kit.ndjson(waiting, "first.ndjson")])
    assert report.skipped == {}
    assert report.added["parked"] == 2
    assert kit.one("SELECT count(*) FROM parked_events") == 2
    assert kit.one("SELECT count(*) FROM emails") == 0
    # the same file again: still waiting, once each
    import_sendgrid(kit.store, [kit.ndjson(waiting, "first.ndjson")])
    assert kit.one("SELECT count(*) FROM parked_events") == 2
    naming = [kit.ev("processed", at=t, sg_message_id="m9.filter1"),
              kit.ev("processed", "bob@example.com", at=t, sg_message_id="m9.filter2")]
    report = import_sendgrid(kit.store, [kit.ndjson(naming, "second.ndjson")])
    assert report.added["unparked"] == 2
    assert kit.one("SELECT count(*) FROM parked_events") == 0
    s = kit.stats()
    # ann: sent, opened; bob: sent, blocked (soft bounce)
    assert (s["sent"], s["bounced_soft"], s["opened"]) == (2, 1, 1)


def test_new_email_is_sent_at_its_earliest_event(kit: Any) -> None:
    t = kit.T0
    events = [
        kit.ev("open", "a@example.com", t + 500),
        kit.ev("processed", "a@example.com", t + 10),
        kit.ev("processed", "b@example.com", t),
    ]
    report = import_sendgrid(kit.store, [kit.ndjson(events)])
    assert kit.one("SELECT status, send_at FROM emails WHERE name = 'Spring sale'") == ("sent", t)
    assert "Created email 'Spring sale' (status sent)." in report.notes


@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_a_draft_or_scheduled_email_with_events_is_marked_sent(kit: Any, status: str) -> None:
    with kit.store.transaction():
        Recorder(kit.store).ensure_email("Spring sale", status=status, send_at=None)
    report = import_sendgrid(kit.store, [kit.ndjson([kit.ev("processed")])])
    assert kit.one("SELECT status, send_at FROM emails") == ("sent", kit.T0)
    assert kit.stats()["sent"] == 1
    assert f"Email 'Spring sale' was {status}; it is now marked sent." in report.notes


def test_events_of_several_emails_in_one_file(kit: Any) -> None:
    t = kit.T0
    events = [
        kit.ev("processed", "a@example.com", t, campaign="One"),
        kit.ev("processed", "a@example.com", t, campaign="Two"),
        kit.ev("processed", "b@example.com", t, campaign="Two"),
        kit.ev("click", "b@example.com", t + 99, campaign="Two", url="https://x.example/"),
    ]
    report = import_sendgrid(kit.store, [kit.ndjson(events)])
    assert (kit.stats("One")["sent"], kit.stats("Two")["sent"]) == (1, 2)
    assert (kit.stats("One")["clicks_total"], kit.stats("Two")["clicks_total"]) == (0, 1)
    assert report.added["new_emails"] == 2
    assert report.added["new_contacts"] == 2


def test_empty_default_email_is_refused(kit: Any) -> None:
    with pytest.raises(UserError, match="--email"):
        import_sendgrid(kit.store, [kit.ndjson([kit.ev("processed")])], default_email="  ")


def test_a_sent_email_without_a_time_gets_its_earliest_event_time(kit: Any) -> None:
    with kit.store.transaction():
        r = Recorder(kit.store)
        r.ensure_email("Spring sale", send_at=None)
        r.ensure_email("Other", send_at=kit.T0 - 5)
    events = [
        kit.ev("processed", at=kit.T0 + 50),
        kit.ev("processed", "b@example.com", at=kit.T0 + 20),
        kit.ev("processed", at=kit.T0 + 10, campaign="Other"),
    ]
    report = import_sendgrid(kit.store, [kit.ndjson(events)])
    assert kit.all("SELECT name, send_at FROM emails ORDER BY name") == [
        ("Other", kit.T0 - 5),
        ("Spring sale", kit.T0 + 20),
    ]
    assert report.added["new_emails"] == 0

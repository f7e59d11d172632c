"""Every real SendGrid payload in data/realworld/ (sources: data/realworld/SOURCES.md)
imports with an outcome decided event by event.  The expected figures were worked out
by hand from PRODUCT.md §3 and the README's import rules; the comments say why.

Rules these outcomes rest on (README "Imports" / "What the numbers mean"):
a send is a message (sg_message_id up to its first '.', per recipient), its status the
strongest outcome on record (dropped > bounced hard > bounced soft > delivered); a drop
is not in Sent; Delivered = Sent − hard − soft; an open, click, unsubscribe or spam
report with no send of that email on record proves a delivered send; a click less than
10 s after delivery is a suspected bot click; events are deduplicated by sg_event_id
*and* event type; a category list of several names the email by all of them joined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from journeytui.domain.stats import email_stats
from journeytui.importers.sendgrid import DUPLICATE, NO_EMAIL, import_sendgrid

DATA = Path(__file__).parent / "data" / "realworld"
NOW = 1_767_600_000  # the imports "run" in January 2026
MS = "field 'timestamp' looks like milliseconds; expected unix seconds"
NOT_ADDRESS = "field 'email' is not an email address"


def _import(kit: Any, name: str, **kw: Any) -> Any:
    return import_sendgrid(kit.store, [DATA / name], now=NOW, **kw)


def _figures(kit: Any) -> dict[str, tuple[int, ...]]:
    """email -> (sent, delivered, hard, soft, dropped, opened, clicked, bot clicks,
    unsubscribed, spam reports)."""
    return {
        s.name: (s.sent, s.delivered, s.bounced_hard, s.bounced_soft, s.dropped, s.opened,
                 s.clicked, s.bot_clicks, s.unsubscribed, s.spam_reports)
        for s in email_stats(kit.store)
    }


def _skipped(report: Any) -> dict[str, int]:
    return {reason: s.count for reason, s in report.skipped.items()}


def _no_rate_above_one(kit: Any) -> None:
    for s in email_stats(kit.store):
        for r in (s.delivery_rate, s.open_rate, s.click_rate, s.click_to_open,
                  s.unsubscribe_rate, s.spam_rate):
            assert r is None or 0 <= r <= 1, (s.name, r)


def test_anymail_fixtures(kit: Any) -> None:
    report = _import(kit, "anymail_sendgrid_fixtures.json")
    assert report.records == 10
    assert _figures(kit) == {
        # recipient@: processed (categories tag1, tag2) + delivered + open, all of
        # message wrfRRvF7Q0GgwUo2CvDmEA: one send, delivered, opened
        "tag1 / tag2": (1, 1, 0, 0, 0, 1, 0, 0, 0, 0),
        # example@: dropped for "Bounced Address" (a suppression): not sent
        "cat facts": (0, 0, 0, 0, 1, 0, 0, 0, 0, 0),
    }
    assert _skipped(report) == {
        NOT_ADDRESS: 1,  # invalid@invalid
        DUPLICATE: 1,  # the delivered event sent twice (same sg_event_id and type)
    }
    # no campaign, no category, message not named: the Unsubscribed Address drop, the
    # bounce of noreply@, the deferral and the click of two other messages wait for an
    # import that names their messages
    assert report.added["parked"] == 4
    assert kit.one("SELECT reason FROM sends WHERE status = 'dropped'") == "Bounced Address"
    assert kit.one("SELECT delivered_at FROM sends WHERE status = 'delivered'") == 1461095250
    _no_rate_above_one(kit)


def test_discourse_blocked_bounce_without_status(kit: Any) -> None:
    report = _import(kit, "discourse_umbraco_blocked_no_status.json")
    # transactional mail: nothing names an email; it waits (it has a message id)
    assert _skipped(report) == {}
    assert report.added["parked"] == 1
    assert kit.one("SELECT count(*) FROM emails") == 0
    report = _import(kit, "discourse_umbraco_blocked_no_status.json",
                     default_email="Forum notifications")
    # with --email: one message, blocked = soft bounce, delivery rate 0 of 1
    assert _figures(kit) == {"Forum notifications": (1, 0, 0, 1, 0, 0, 0, 0, 0, 0)}
    assert kit.one("SELECT status, reason, bounce_class, smtp_status FROM sends") == (
        "bounced_soft",
        ("unable to get mx info: failed to get IPs from PTR record: lookup <nil>: "
         "unrecognized address"),
        "Unclassified",
        None,
    )


def test_fanout_single_send_deferrals(kit: Any) -> None:
    report = _import(kit, "fanout_singlesend_deferred.json")
    assert report.skipped == {}
    # two deferrals of one message (different sg_event_ids): one send, not bounced, so
    # it counts as delivered (Delivered = Sent − bounced)
    assert _figures(kit) == {"Untitled Single Send": (1, 1, 0, 0, 0, 0, 0, 0, 0, 0)}
    assert kit.one("SELECT campaign_id FROM emails") == "fc59bd25-5cb1-11ec-a05d-f2509ce774e9"
    assert kit.one("SELECT reason, proofs FROM sends") == ("unable to get mx info: ...", 4)


def test_sendgrid_python_signed_drop(kit: Any) -> None:
    report = _import(kit, "sendgrid_python_signed_dropped.json")
    assert (_skipped(report), report.added["parked"]) == ({}, 1)
    _import(kit, "sendgrid_python_signed_dropped.json", default_email="Launch")
    # a drop is not a send: Sent 0, dropped 1, no delivery rate, no warning
    assert _figures(kit) == {"Launch": (0, 0, 0, 0, 1, 0, 0, 0, 0, 0)}
    assert email_stats(kit.store, "Launch")[0].warnings == []


def _every_type_of_one_message(kit: Any, report: Any, address: str) -> None:
    """SendGrid's "one of each" examples: every type for one message at one second."""
    # processed, deferred, delivered, bounce and dropped of one message: the strongest
    # outcome, dropped, decides it: not a send (Sent 0, dropped 1).  The open counts
    # (opened 1; no rate: Delivered is 0).  The click came 0 s after delivery: a
    # suspected bot click.  unsubscribe + group_unsubscribe: one recipient
    # unsubscribed; one spam report.
    assert _figures(kit) == {"cat facts": (0, 0, 0, 0, 1, 1, 0, 1, 1, 1)}
    assert kit.one(
        "SELECT unsubscribed_all, spam_reported_at FROM contacts WHERE email = ?", address
    ) == (1, 1513299569)
    _no_rate_above_one(kit)


def test_sgdocs2021_all_event_types(kit: Any) -> None:
    report = _import(kit, "sgdocs2021_all_event_types.json")
    assert report.records == 11
    # every event reuses the placeholder sg_event_id "sg_event_id", each with its own
    # type: none is a duplicate
    assert report.skipped == {}
    _every_type_of_one_message(kit, report, "example@test.com")
    # group_unsubscribe then group_resubscribe (file order, same second): subscribed
    assert kit.one("SELECT status FROM subscriptions") == "subscribed"


def test_sgdocs2021_one_body_per_event_type(kit: Any) -> None:
    report = _import(kit, "sgdocs2021_one_body_per_event_type.json")
    assert report.records == 12
    # the bounce and the blocked example share one sg_event_id and type: the second is
    # a duplicate
    assert _skipped(report) == {DUPLICATE: 1}
    _every_type_of_one_message(kit, report, "example@test.com")
    assert kit.one("SELECT status FROM subscriptions") == "subscribed"
    assert kit.one("SELECT count(*) FROM sends") == 1


def test_twilio_docs2024_all_event_types(kit: Any) -> None:
    report = _import(kit, "twilio_docs2024_all_event_types.json")
    assert report.records == 12
    assert report.ignored == {"account_status_change (not about an email)": 1}
    # the spam report has no category: the message join puts it on "cat facts"
    assert report.skipped == {}
    _every_type_of_one_message(kit, report, "example@test.com")
    assert kit.one("SELECT bounce_class FROM sends") is None  # the drop's reason decides
    assert kit.one("SELECT reason FROM sends") == "Bounced Address"


def test_twilio_docs_current_examples(kit: Any) -> None:
    report = _import(kit, "twilio_docs_current_one_body_per_example.json")
    assert report.records == 14
    assert report.ignored == {"account_status_change (not about an email)": 1}
    assert _skipped(report) == {
        DUPLICATE: 1,  # the blocked example reuses the bounce's sg_event_id and type
        MS: 1,  # the Single Send open printed in milliseconds
    }
    assert _figures(kit) == {
        # alex@: bounce, delivered, deferral (its message id has a leading space: the
        # same message), dropped, processed: dropped decides; the open counts; the spam
        # report has no category (message join); unsubscribe + group unsubscribe: 1
        "cat facts": (0, 0, 0, 0, 1, 1, 0, 0, 1, 1),
        # email@: a click with categories category1, category2 and no send on record:
        # a delivered send is inferred (Sent 1, click rate 100 %)
        "category1 / category2": (1, 1, 0, 0, 0, 0, 1, 0, 0, 0),
    }
    assert report.added["inferred"] == 1
    # group_resubscribe, then group_unsubscribe (file order, same second): unsubscribed
    assert kit.one("SELECT status FROM subscriptions") == "unsubscribed"
    _no_rate_above_one(kit)


def test_sgdocs2021_fields_categories_args_marketing(kit: Any) -> None:
    report = _import(kit, "sgdocs2021_fields_categories_args_marketing.json")
    assert report.records == 14
    assert _skipped(report) == {
        # "Processed" (capitalised, digit-string timestamp): names no email, no message
        NO_EMAIL: 1,
        "missing field 'event'": 1,  # {"userid": "1123"}
        MS: 1,  # the Single Send open printed in milliseconds
        DUPLICATE: 1,  # jane's "olduser" open, twice, without sg_event_id: same content
    }
    assert _figures(kit) == {
        # opens with no send on record: a send is inferred for each
        "newuser": (1, 1, 0, 0, 0, 1, 0, 0, 0, 0),
        "olduser": (1, 1, 0, 0, 0, 1, 0, 0, 0, 0),
        "newuser / transactional": (1, 1, 0, 0, 0, 1, 0, 0, 0, 0),
        # email@ processed it; two clicks carry its message id (sendgrid_internal_...):
        # john.doe's (no send: inferred) and email@'s (its categories lose to the
        # message join; its click is 2009, before the processed: one send all the same)
        "campaign name": (2, 2, 0, 0, 0, 0, 2, 0, 0, 0),
        # A/B test: version B's processed and a delivered: one email, two sends
        "unique args ab": (2, 2, 0, 0, 0, 0, 0, 0, 0, 0),
        # the legacy newsletter unsubscribe: through the email, so a send is inferred
        "Tests / Newsletter": (1, 1, 0, 0, 0, 0, 0, 0, 1, 0),
    }
    # john.doe's processed of message 14c583da911: no email named yet, it waits
    assert report.added["parked"] == 1
    assert report.added["inferred"] == 6  # john ×3, jane, nick, email@ (its 2009 click)
    assert kit.one("SELECT campaign_id FROM emails WHERE name = 'unique args ab'") == "23314"
    _no_rate_above_one(kit)


def test_every_file_twice_changes_nothing(kit: Any) -> None:
    from tests.importers.conftest import dump

    files = sorted(DATA.glob("*.json"))
    import_sendgrid(kit.store, files, now=NOW, default_email="Other mail")
    before = dump(kit.store)
    import_sendgrid(kit.store, files, now=NOW, default_email="Other mail")
    assert dump(kit.store) == before
    _no_rate_above_one(kit)

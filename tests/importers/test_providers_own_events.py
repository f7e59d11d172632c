"""explain speaks the provider's own words: an event imported from Mailgun, Postmark,
SES, Mandrill or Brevo shows the provider's event type in the Event column (what a
support agent sees on the provider's dashboard), a SendGrid event its SendGrid type;
and an import reports the contacts it created.  Files: the real payloads
(data/realworld/, copies of /work/shared/realworld/); every figure below was counted by
hand in the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.domain.batches import remove_batch
from journeytui.domain.provenance import sendgrid_kind, shown_kind, source_kind
from journeytui.importers.providers import import_events
from journeytui.importers.sendgrid import import_parsed_events, import_sendgrid

DATA = Path(__file__).parent / "data" / "realworld"
NOW = 1_767_600_000


def _event_column(out: str) -> list[str]:
    """The Event cells of explain's table (the column under the 'Event' heading)."""
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if "Event" in line and "Time (UTC)" in line)
    start = lines[head].index("Event")
    width = len(lines[head + 1][start:].split(" ")[0])  # the dashes under 'Event'
    return sorted(line[start:start + width].strip() for line in lines[head + 2:] if line)


@pytest.mark.parametrize(("name", "email", "figure", "expected"), [
    # "Testing": delivered (line 1) and failed, severity temporary (line 3)
    ("anymail_mailgun_webhook_bodies.json", "Testing", "sent",
     ["Mailgun delivered", "Mailgun failed"]),
    # welcome-email: the SubscriptionChange of line 6 (SuppressSending, ManualSuppression)
    ("anymail_postmark_webhook_bodies.json", "welcome-email", "unsubscribed",
     ["Postmark SubscriptionChange (ManualSuppression)"]),
    # welcome-email: the Click of line 4
    ("anymail_postmark_webhook_bodies.json", "welcome-email", "clicked", ["Postmark Click"]),
    # "Hello": the Bounce notification of line 1
    ("anymail_ses_sns_notifications.json", "Hello", "bounced", ["SES Bounce"]),
    # tag1 / tag2: send (line 1) and hard_bounce (line 2); line 5 repeats line 1
    ("anymail_mandrill_events.json", "tag1 / tag2", "sent",
     ["Mandrill hard_bounce", "Mandrill send"]),
    # header-tag: the spam event of line 6
    ("anymail_brevo_webhook_bodies.json", "header-tag", "spam", ["Brevo spam"]),
])
def test_explain_shows_the_providers_own_event_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, email: str, figure: str,
    expected: list[str],
) -> None:
    db = tmp_path / "s.db"
    assert main(["import", "events", str(DATA / name), "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["explain", email, "--figure", figure, "--db", str(db)]) == 0
    assert _event_column(capsys.readouterr().out) == expected


def test_postmark_delivery_not_processed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # welcome-email's sends: the Delivery of line 2, and the sends inferred from the
    # Open (line 3) and Click (line 4) of other messages: 1 + 2 rows, none 'delivered'
    db = tmp_path / "s.db"
    assert main(["import", "events", str(DATA / "anymail_postmark_webhook_bodies.json"),
                 "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["explain", "welcome-email", "--figure", "sent", "--db", str(db)]) == 0
    assert _event_column(capsys.readouterr().out) == [
        "Postmark Delivery", "inferred", "inferred"]


def test_sendgrid_events_keep_sendgrid_names(kit: Any) -> None:
    import_parsed_events(kit.store, [(kit.ev("processed"), ("a.json", 1)),
                                     (kit.ev("delivered"), ("a.json", 2))], now=NOW)
    assert sorted(r[0] for r in kit.store.conn.execute("SELECT kind FROM event_sources")) \
        == ["delivered", "processed"]


def test_a_sendgrid_file_cannot_name_its_events_as_another_providers(
        kit: Any, tmp_path: Path) -> None:
    # the key the provider mappers use for their own event name, written into a
    # SendGrid file by its sender: explain must still say 'processed'
    f = tmp_path / "forged.json"
    f.write_text(json.dumps([{
        "event": "processed", "email": "ann@example.com", "timestamp": NOW - 60,
        "sg_event_id": "f1", "sg_message_id": "m1.x", "category": "Forged",
        "_journeytui_provider_event": "Postmark Delivery"}]))
    import_sendgrid(kit.store, [f], now=NOW)
    assert [r[0] for r in kit.store.conn.execute("SELECT kind FROM event_sources")] \
        == ["processed"]


def test_the_stored_kind_keeps_sendgrids_type_for_batch_removal() -> None:
    stored = source_kind("delivered", "Postmark Delivery")
    assert sendgrid_kind(stored) == "delivered"
    assert shown_kind(stored) == "Postmark Delivery"
    assert sendgrid_kind("bounce") == shown_kind("bounce") == "bounce"


def test_removing_a_later_batch_keeps_a_provider_bounce(kit: Any, tmp_path: Path) -> None:
    # batch 1: the Postmark file; line 1 is a HardBounce of message 2706ee8a-… to
    # bounce@example.com ("Postmark event test"): the send is bounced_hard.
    # batch 2: a Delivery of that message (a bounce outranks it: still bounced_hard).
    # Removing batch 2 re-reads the send from batch 1's own Bounce: bounced_hard, not a
    # send known only by inference (which would read as delivered).
    import_events(kit.store, [DATA / "anymail_postmark_webhook_bodies.json"], now=NOW)
    status = "SELECT status FROM sends WHERE message_id LIKE 'postmark:2706ee8a%'"
    assert kit.store.conn.execute(status).fetchone()[0] == "bounced_hard"
    delivery = tmp_path / "delivery.json"
    delivery.write_text(
        '{"RecordType": "Delivery", "Subject": "Postmark event test",'
        ' "MessageID": "2706ee8a-737c-4285-b032-ccd317af53ed",'
        ' "Recipient": "bounce@example.com", "DeliveredAt": "2016-04-27T16:28:40-04:00"}\n')
    report = import_events(kit.store, [delivery], now=NOW)
    assert report.batch_id
    remove_batch(kit.store, report.batch_id)
    assert kit.store.conn.execute(status).fetchone()[0] == "bounced_hard"


def test_new_contacts_are_the_ones_the_import_created(kit: Any) -> None:
    # first import: ann and bob (2 new); second: bob (known), cat twice, dan: 2 new
    first = import_parsed_events(kit.store, [
        (kit.ev("delivered", "ann@example.com"), ("a.json", 1)),
        (kit.ev("delivered", "bob@example.com"), ("a.json", 2)),
    ], now=NOW)
    assert first.added["new_contacts"] == 2
    second = import_parsed_events(kit.store, [
        (kit.ev("open", "bob@example.com"), ("b.json", 1)),
        (kit.ev("delivered", "cat@example.com"), ("b.json", 2)),
        (kit.ev("open", "cat@example.com"), ("b.json", 3)),
        (kit.ev("delivered", "dan@example.com"), ("b.json", 4)),
    ], now=NOW)
    assert second.added["new_contacts"] == 2
    assert kit.store.count("contacts") == 4  # ann, bob, cat, dan


def test_a_waiting_event_keeps_the_providers_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an Open naming no email (no Tag, no Subject) waits for its message; a later
    # Delivery of that message names it ("Welcome"): the Open is applied then, and
    # explain still calls it a Postmark Open
    db = tmp_path / "s.db"
    opened = tmp_path / "open.json"
    opened.write_text('{"RecordType": "Open", "MessageID": "m-1", "FirstOpen": true,'
                      ' "Recipient": "ann@example.com",'
                      ' "ReceivedAt": "2024-05-01T10:05:00Z"}\n')
    delivered = tmp_path / "delivery.json"
    delivered.write_text('{"RecordType": "Delivery", "MessageID": "m-1", "Tag": "Welcome",'
                         ' "Recipient": "ann@example.com",'
                         ' "DeliveredAt": "2024-05-01T10:00:00Z"}\n')
    assert main(["import", "events", str(opened), "--db", str(db)]) == 0
    assert main(["import", "events", str(delivered), "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["explain", "Welcome", "--figure", "opened", "--db", str(db)]) == 0
    assert _event_column(capsys.readouterr().out) == ["Postmark Open"]

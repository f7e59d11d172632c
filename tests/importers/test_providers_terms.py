"""Every skip reason a user sees for a Mailgun, Postmark, SES, Mandrill or Brevo file
names that provider's own fields and event types, and the user's file and line —
never SendGrid's fields nor a private spool.  The real payloads (data/realworld/) with
one record broken on purpose: the reason and the line are written here by hand."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from journeytui.domain.stats import email_stats
from journeytui.errors import UserError
from journeytui.importers.providers import brevo, import_events, mailgun, postmark, ses
from journeytui.importers.providers._read import NAMES

DATA = Path(__file__).parent / "data" / "realworld"
NOW = 1_767_600_000
MAILGUN = DATA / "anymail_mailgun_webhook_bodies.json"
POSTMARK = DATA / "anymail_postmark_webhook_bodies.json"
SES = DATA / "anymail_ses_sns_notifications.json"
MANDRILL = DATA / "anymail_mandrill_events.json"
BREVO = DATA / "anymail_brevo_webhook_bodies.json"

# words of SendGrid's vocabulary that a user of another provider never wrote
SENDGRID_WORDS = ("sg_", "field 'event'", "field 'timestamp'", "field 'email'",
                  "field 'url'", "category", "singlesend", "marketing_campaign", "mc_auto",
                  "mapped-events", "journeytui-events-")


def _broken(tmp: Path, source: Path, line: int, change: Callable[[Any], None]) -> Path:
    """A copy of *source* whose body on *line* was changed by *change*."""
    lines = source.read_text().splitlines()
    body = json.loads(lines[line - 1])
    change(body)
    lines[line - 1] = json.dumps(body)
    out = tmp / source.name
    out.write_text("\n".join(lines) + "\n")
    return out


def _skips(report: Any) -> dict[str, list[str]]:
    return {reason: s.locations for reason, s in report.skipped.items()}


def _in_own_terms(report: Any) -> None:
    text = "\n".join(report.lines())
    for word in SENDGRID_WORDS:
        assert word not in text, word


def _ses_message(line: int, change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    def edit(body: Any) -> None:
        message = json.loads(body["Message"])
        change(message)
        body["Message"] = json.dumps(message)
    return edit


def test_mailgun_record_without_recipient_url_or_time(kit: Any, tmp_path: Path) -> None:
    path = _broken(tmp_path, MAILGUN, 7, lambda b: b["event-data"].pop("recipient"))
    path = _broken(tmp_path, path, 8, lambda b: b["event-data"].pop("url"))
    path = _broken(tmp_path, path, 2, lambda b: b["event-data"].update(timestamp="soon"))
    report = import_events(kit.store, [path], now=NOW)
    assert _skips(report) == {
        # line 7 (opened) has no To header either
        "Mailgun 'opened': no recipient address in 'event-data.recipient' or "
        "'message.headers.to'": [f"{path}:7"],
        "Mailgun 'clicked': no link in 'event-data.url'": [f"{path}:8"],
        "Mailgun 'failed': no time in 'event-data.timestamp'": [f"{path}:2"],
    }
    _in_own_terms(report)


def test_postmark_record_with_a_bad_time_link_or_address(kit: Any, tmp_path: Path) -> None:
    path = _broken(tmp_path, POSTMARK, 2, lambda b: b.update(DeliveredAt="yesterday"))
    path = _broken(tmp_path, path, 4, lambda b: b.pop("OriginalLink"))
    path = _broken(tmp_path, path, 3, lambda b: b.update(Recipient="not-an-address"))
    report = import_events(kit.store, [path], now=NOW)
    assert _skips(report) == {
        "Postmark Delivery: no time in 'DeliveredAt'": [f"{path}:2"],
        "Postmark Open: 'Recipient' is not an email address (not-an-address)": [f"{path}:3"],
        "Postmark Click: no link in 'OriginalLink'": [f"{path}:4"],
        # the real file's own quirk: a Bounce of Type Unsubscribe without Email
        "Postmark Bounce (Unsubscribe): no recipient address in 'Email'": [f"{path}:9"],
    }
    _in_own_terms(report)


def test_ses_event_without_link_time_or_recipients(kit: Any, tmp_path: Path) -> None:
    path = _broken(tmp_path, SES, 8, _ses_message(8, lambda m: m["click"].pop("link")))

    def no_time(body: Any) -> None:
        body.pop("Timestamp")
        _ses_message(7, lambda m: m["open"].pop("timestamp"))(body)

    path = _broken(tmp_path, path, 7, no_time)
    path = _broken(tmp_path, path, 4, _ses_message(4, lambda m: (
        m["delivery"].update(recipients=[]), m["mail"].update(destination=[]))))
    report = import_events(kit.store, [path], now=NOW, default_email="SES test")
    assert _skips(report) == {
        "SES Delivery without recipients in 'delivery.recipients'": [f"{path}:4"],
        "SES Open: no time in 'open.timestamp', 'mail.timestamp' or 'Timestamp'":
            [f"{path}:7"],
        "SES Click: no link in 'click.link'": [f"{path}:8"],
    }
    _in_own_terms(report)


def test_mandrill_event_in_an_array_of_several_names_its_index(
    kit: Any, tmp_path: Path
) -> None:
    # a webhook POST carries several events: the second (a click) lost its address
    lines = MANDRILL.read_text().splitlines()
    send, click = json.loads(lines[0])[0], json.loads(lines[2])[0]
    click["msg"].pop("email")
    path = tmp_path / "mandrill.json"
    path.write_text(lines[3] + "\n" + json.dumps([send, click]) + "\n")
    report = import_events(kit.store, [path], now=NOW)
    assert _skips(report) == {
        "Mandrill 'click': no recipient address in 'msg.email'": [f"{path}:2 [index 1]"]}
    _in_own_terms(report)


def test_brevo_event_without_link_or_with_a_bad_address(kit: Any, tmp_path: Path) -> None:
    path = _broken(tmp_path, BREVO, 15, lambda b: b.pop("link"))
    path = _broken(tmp_path, path, 2, lambda b: b.update(email="x"))
    report = import_events(kit.store, [path], now=NOW)
    no_time = "no time in 'ts_event', 'ts' or 'ts_epoch'"
    assert _skips(report) == {
        "Brevo 'delivered': 'email' is not an email address (x)": [f"{path}:2"],
        brevo.TERMS.duplicate: [f"{path}:12"],  # unique_opened repeats opened
        f"Brevo 'proxy_open': {no_time}": [f"{path}:13"],
        f"Brevo 'unique_proxy_open': {no_time}": [f"{path}:14"],
        "Brevo 'click': no link in 'link'": [f"{path}:15"],
    }
    _in_own_terms(report)


@pytest.mark.parametrize(("path", "terms"), [(MAILGUN, mailgun.TERMS),
                                             (POSTMARK, postmark.TERMS), (SES, ses.TERMS)])
def test_importing_again_says_duplicate_in_the_providers_terms(
    kit: Any, path: Path, terms: Any
) -> None:
    first = import_events(kit.store, [path], now=NOW, default_email="All")
    again = import_events(kit.store, [path], now=NOW, default_email="All")
    applied = sum(first.added[k] for k in ("sent", "delivered", "bounced_hard", "dropped",
                                           "opens", "clicks", "spam_reports",
                                           "unsubscribes_all", "unsubscribes_list",
                                           "resubscribes", "processed")) > 0
    assert applied
    assert terms.duplicate in again.skipped
    assert again.added["sent"] == 0
    _in_own_terms(again)


def test_no_email_is_said_in_each_providers_terms_in_one_import(
    kit: Any, tmp_path: Path
) -> None:
    # a Mailgun click and a Brevo click that name no email and have no message id: each
    # is said in its provider's terms, at its own file
    mg = tmp_path / "mg.json"
    mg.write_text('{"event-data": {"event": "clicked", "timestamp": 1700000000, '
                  '"recipient": "a@example.com", "url": "https://example.com/"}}\n')
    bv = tmp_path / "bv.json"
    bv.write_text('{"event": "click", "email": "b@example.com", "ts_event": 1700000000, '
                  '"link": "https://example.com/"}\n')
    report = import_events(kit.store, [mg, bv], now=NOW)
    assert _skips(report) == {mailgun.TERMS.no_email: [f"{mg}:1"],
                              brevo.TERMS.no_email: [f"{bv}:1"]}
    notes = "\n".join(report.notes)
    assert f"{mg}: recognised as {NAMES['mailgun']}" in notes
    assert ("Mailgun: 1 event names no email itself; its events name one by a campaign in "
            "'campaigns', else 'tags', else the subject in 'message.headers'.") in notes
    assert "Brevo: 1 event names no email itself; its events name one by 'campaign name'" \
        in notes


def test_more_skips_than_listed_name_every_provider_of_the_import(
    kit: Any, tmp_path: Path
) -> None:
    # six Mailgun clicks naming no email (only five locations are kept) and a Brevo one:
    # the provider of the unlisted ones is not known, so the reason names both
    mg = tmp_path / "mg.json"
    mg.write_text("".join(
        '{"event-data": {"event": "clicked", "timestamp": 1700000000, '
        f'"recipient": "a{i}@example.com", "url": "https://example.com/"}}}}\n'
        for i in range(6)))
    bv = tmp_path / "bv.json"
    bv.write_text('{"event": "click", "email": "b@example.com", "ts_event": 1700000000, '
                  '"link": "https://example.com/"}\n')
    report = import_events(kit.store, [mg, bv], now=NOW)
    reason = f"{brevo.TERMS.no_email} / {mailgun.TERMS.no_email}"
    assert list(report.skipped) == [reason]
    assert report.skipped[reason].count == 7


@pytest.mark.parametrize(("line", "said"), [
    ("5", "a JSON number"), ('"text"', "a JSON string"), ("null", "JSON null"),
    ("[1, 2]", "a JSON array")])
def test_a_body_that_is_not_an_object_refuses_the_file(
    kit: Any, tmp_path: Path, line: str, said: str
) -> None:
    path = tmp_path / "postmark.json"
    path.write_text(POSTMARK.read_text() + line + "\n")
    with pytest.raises(UserError) as exc:
        import_events(kit.store, [path], now=NOW)
    # the real file has 9 lines: the added one is line 10
    assert str(exc.value) == (f"{path}: line 10: {said} is not a {NAMES['postmark']} "
                              "webhook body (a JSON object). Nothing was imported.")
    assert kit.store.count("contacts") == 0


@pytest.mark.parametrize(("path", "body", "reason"), [
    (POSTMARK, {"MessageID": "x"}, "Postmark record without 'RecordType'"),
    (BREVO, {"email": "a@example.com", "message-id": "x"}, "Brevo event without 'event'"),
    (SES, {"Type": "Notification", "MessageId": "n", "Message": json.dumps({"mail": {}})},
     "SES event without 'eventType' or 'notificationType'"),
])
def test_an_object_of_no_known_kind_is_skipped_in_the_providers_terms(
    kit: Any, tmp_path: Path, path: Path, body: dict[str, Any], reason: str
) -> None:
    copy = tmp_path / path.name
    lines = path.read_text().splitlines()
    copy.write_text("\n".join([*lines, json.dumps(body)]) + "\n")
    report = import_events(kit.store, [copy], now=NOW)
    assert report.skipped[reason].locations == [f"{copy}:{len(lines) + 1}"]


def test_ses_recipients_that_are_not_a_list_are_no_recipients(kit: Any, tmp_path: Path) -> None:
    # line 4 (Delivery): 'delivery.recipients' a number, 'mail.destination' a string
    path = _broken(tmp_path, SES, 4, _ses_message(4, lambda m: (
        m["delivery"].update(recipients=1.5), m["mail"].update(destination="jane@x.com"))))
    report = import_events(kit.store, [path], now=NOW, default_email="SES test")
    assert _skips(report) == {
        "SES Delivery without recipients in 'delivery.recipients'": [f"{path}:4"]}


def test_ses_bounce_of_a_suppressed_address_is_a_drop(kit: Any, tmp_path: Path) -> None:
    # line 1: jane's Permanent bounce, subtype OnAccountSuppressionList: SES never sent
    # it (a drop, not in Sent); the email "Hello" has no other event
    path = _broken(tmp_path, SES, 1, _ses_message(1, lambda m: m["bounce"].update(
        bounceSubType="OnAccountSuppressionList")))
    import_events(kit.store, [path], now=NOW)
    (s,) = [s for s in email_stats(kit.store) if s.name == "Hello"]
    assert (s.sent, s.bounced_hard, s.dropped) == (0, 0, 1)
    assert kit.one("SELECT reason FROM sends") == (
        "OnAccountSuppressionList: smtp; 550 5.1.1 <jane@example.com>... User unknown")


def test_ses_open_of_a_message_to_several_recipients_is_skipped(
    kit: Any, tmp_path: Path
) -> None:
    # line 7: the Open of a message sent to two addresses: SES does not say whose
    path = _broken(tmp_path, SES, 7, _ses_message(7, lambda m: m["mail"].update(
        destination=["recipient@example.com", "other@example.com"])))
    report = import_events(kit.store, [path], now=NOW, default_email="SES test")
    assert _skips(report) == {
        "SES Open of a message to several recipients ('mail.destination'): SES does not "
        "say which one": [f"{path}:7"]}

"""Mailgun, Postmark, Amazon SES, Mandrill and Brevo payloads (data/realworld/, see
PROVIDERS_SOURCES.md) import with the provider recognised from the file, into figures
worked out BY HAND from PRODUCT.md §3 and the README's import rules (the comments say
why); a file of another provider is refused, naming what it looks like; importing again
changes nothing.

Rules used: a send is a message per recipient, its status the strongest outcome
(dropped > hard > soft > delivered), a drop is not in Sent; Delivered = Sent − hard −
soft; an open, click, unsubscribe or spam report with no send of that message on record
proves a delivered send; a click less than 10 s after delivery (or the send's time) is a
suspected bot click; an event naming no email joins another event of its message (its
campaign, else its tags/subject), else waits (with a message id) or is skipped; an
unsubscribe or spam report naming no email acts on the contact only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.domain.stats import email_stats
from journeytui.errors import UserError
from journeytui.importers.providers import brevo, import_events, mailgun, mandrill

DATA = Path(__file__).parent / "data" / "realworld"
NOW = 1_767_600_000
MAILGUN = DATA / "anymail_mailgun_webhook_bodies.json"
POSTMARK = DATA / "anymail_postmark_webhook_bodies.json"
SES = DATA / "anymail_ses_sns_notifications.json"
MANDRILL = DATA / "anymail_mandrill_events.json"
BREVO = DATA / "anymail_brevo_webhook_bodies.json"

BREVO_NO_TIME = "no time in 'ts_event', 'ts' or 'ts_epoch'"


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


def _contact(kit: Any, address: str) -> tuple[int, int]:
    """(unsubscribed from all, has reported spam) of a contact."""
    row = kit.store.conn.execute(
        "SELECT unsubscribed_all, spam_reported_at IS NOT NULL FROM contacts WHERE email = ?",
        (address,),
    ).fetchone()
    return (int(row[0]), int(row[1]))


def _again_changes_nothing(kit: Any, path: Path, **kw: Any) -> None:
    before = _figures(kit), kit.store.count("contacts"), kit.store.count("sends")
    again = import_events(kit.store, [path], now=NOW, **kw)
    assert (_figures(kit), kit.store.count("contacts"), kit.store.count("sends")) == before
    assert again.added.get("sent", 0) == 0 and again.added.get("opens", 0) == 0


def test_mailgun(kit: Any) -> None:
    report = import_events(kit.store, [MAILGUN], now=NOW)
    assert any("recognised as Mailgun" in n for n in report.notes)
    assert _figures(kit) == {
        # delivered to recipient@example.com and a temporary failure (→ soft bounce) to
        # undeliverable@nomx…, both with the subject "Testing" (two messages)
        "Testing": (2, 1, 0, 1, 0, 0, 0, 0, 0, 0),
        # rejected (→ dropped; the address from the To header): not sent
        "Test Subject": (0, 0, 0, 0, 1, 0, 0, 0, 0, 0),
        # complained: a spam report through the email proves a delivered send
        "We are not spammer": (1, 1, 0, 0, 0, 0, 0, 0, 0, 1),
        # opened with tags ["welcome", "variation-A"]: named by both tags; inferred send
        "welcome / variation-A": (1, 1, 0, 0, 0, 1, 0, 0, 0, 0),
    }
    # the permanent failure names no email (no subject, no tags) and its message no
    # other event names: it waits; the click has neither message nor name: skipped
    assert report.added["parked"] == 1
    assert _skipped(report) == {mailgun.TERMS.no_email: 1}
    assert report.skipped[mailgun.TERMS.no_email].locations == [f"{MAILGUN}:8"]
    # the unsubscribe names no email: it acts on the contact only
    assert report.added["no_email"] == 1
    assert _contact(kit, "recipient@example.com") == (1, 1)
    _again_changes_nothing(kit, MAILGUN)


def test_postmark(kit: Any) -> None:
    report = import_events(kit.store, [POSTMARK], now=NOW)
    assert _figures(kit) == {
        # Delivery (Tag welcome-email) to recipient@; Open and Click of another message
        # f4830d10 (the Click's Tag names it): an inferred delivered send, 1 opener, 1
        # clicker (no delivery time known, so not a bot click); SubscriptionChange
        # ManualSuppression of john@ (Tag welcome-email): unsubscribe, inferred send
        "welcome-email": (3, 3, 0, 0, 0, 1, 1, 0, 1, 0),
        # HardBounce of bounce@ (Subject); the SpamComplaint of the same message (ID is
        # the same, the type differs) joins it: spam@ gets an inferred send
        "Postmark event test": (2, 1, 1, 0, 0, 0, 0, 0, 0, 1),
    }
    # a suppression after a hard bounce is ignored by design (the Bounce is the event);
    # the bounce-unsubscribe variant (line 9) has neither address nor time
    assert sum(report.ignored.values()) == 1
    assert _skipped(report) == {"Postmark Bounce (Unsubscribe): no recipient address in "
                                "'Email'": 1}
    # john unsubscribed from the stream "outbound" and was reactivated (same second,
    # later line): subscribed again, never unsubscribed from all
    assert _contact(kit, "john@example.com") == (0, 0)
    assert kit.store.conn.execute(
        "SELECT l.name, s.status FROM subscriptions s JOIN lists l ON l.id = s.list_id"
        " JOIN contacts c ON c.id = s.contact_id WHERE c.email = 'john@example.com'"
    ).fetchall() == [("Postmark stream: outbound", "subscribed")]
    assert _contact(kit, "spam@example.com") == (0, 1)
    _again_changes_nothing(kit, POSTMARK)


def test_ses_without_email_option(kit: Any) -> None:
    report = import_events(kit.store, [SES], now=NOW)
    # only the first Bounce has a Subject ("Hello"): jane hard-bounced
    assert _figures(kit) == {"Hello": (1, 0, 1, 0, 0, 0, 0, 0, 0, 0)}
    # second Bounce (jane, richard), Delivery (jane), Send, Reject, Open, Click
    # (recipient@) name no email: 2 + 1 + 4 wait for their message's email
    assert report.added["parked"] == 7
    # the Complaint acts on richard only; the Rendering Failure sent nothing
    assert report.added["no_email"] == 1
    assert _contact(kit, "richard@example.com") == (0, 1)
    assert report.ignored == {"SES Rendering Failure (no message was sent)": 1}
    _again_changes_nothing(kit, SES)


def test_ses_with_email_option(kit: Any) -> None:
    import_events(kit.store, [SES], now=NOW, default_email="SES test")
    assert _figures(kit) == {
        "Hello": (1, 0, 1, 0, 0, 0, 0, 0, 0, 0),
        # sends: jane and richard (message 2) hard-bounced; jane (Delivery) delivered;
        # richard's complaint proves a delivered send; recipient@ was sent (Send) and
        # rejected (Reject → dropped: not in Sent), yet opened and clicked (the
        # provider says so: counted)
        "SES test": (4, 2, 2, 0, 1, 1, 1, 0, 0, 1),
    }


def test_mandrill(kit: Any) -> None:
    report = import_events(kit.store, [MANDRILL], now=NOW)
    assert _figures(kit) == {
        # send to recipient@ (tags tag1, tag2); hard_bounce of bounce@ on the same
        # message (its tags come through the message); the click came the very second
        # of the send: a suspected bot click
        "tag1 / tag2": (2, 1, 1, 0, 0, 0, 0, 1, 0, 0),
    }
    assert report.ignored == {"Mandrill sync (not about an email)": 1}
    # the last line repeats the first send: same _id, ts and type
    assert _skipped(report) == {mandrill.TERMS.duplicate: 1}
    assert report.skipped[mandrill.TERMS.duplicate].locations == [f"{MANDRILL}:5"]
    _again_changes_nothing(kit, MANDRILL)


def test_brevo(kit: Any) -> None:
    report = import_events(kit.store, [BREVO], now=NOW)
    assert _figures(kit) == {
        # request (≈ processed) of recipient@ with tags tag1, tag2
        "tag1 / tag2": (1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
        # message 201803011158…, named by the hard_bounce's tag: not-a-user@ hard,
        # recipient@no-mx soft, notauser@ deferred (→ delivered), recipient@ delivered
        # then blocked / invalid_email (→ dropped: not sent) yet opened (opened and
        # unique_opened of one second are one open), clicked the same second as its
        # delivery (bot click), unsubscribed and reported spam
        "header-tag": (3, 1, 1, 1, 1, 1, 0, 1, 1, 1),
        # complaint then error (→ dropped) of example@domain.com, same second: the
        # complaint's inferred send is then dropped
        "transac_messages": (0, 0, 0, 0, 1, 0, 0, 0, 0, 1),
    }
    # the two proxy opens carry no ts_event, ts or ts_epoch (only 'date', whose time
    # zone is not said, and 's_epoch'): skipped; unique_opened repeats opened
    assert _skipped(report) == {f"Brevo 'proxy_open': {BREVO_NO_TIME}": 1,
                                f"Brevo 'unique_proxy_open': {BREVO_NO_TIME}": 1,
                                brevo.TERMS.duplicate: 1}
    assert report.skipped[f"Brevo 'proxy_open': {BREVO_NO_TIME}"].locations == [f"{BREVO}:13"]
    assert report.skipped[brevo.TERMS.duplicate].locations == [f"{BREVO}:12"]
    _again_changes_nothing(kit, BREVO)


def test_brevo_proxy_open_is_a_machine_open(kit: Any, tmp_path: Path) -> None:
    path = tmp_path / "brevo.json"
    path.write_text(
        '{"event": "proxy_open", "email": "a@example.com", "ts_event": 1700000000, '
        '"message-id": "<m1@x.example>", "subject": "Hi"}\n'
        '{"event": "opened", "email": "b@example.com", "ts_event": 1700000000, '
        '"message-id": "<m2@x.example>", "subject": "Hi"}\n'
    )
    import_events(kit.store, [path], now=NOW)
    (s,) = email_stats(kit.store)
    assert (s.opened, s.machine_opens) == (1, 1)


def test_ids_of_providers_never_collide(kit: Any, tmp_path: Path) -> None:
    # the same id string in Mailgun and Postmark events: two events, not a duplicate
    mg = tmp_path / "mg.json"
    mg.write_text('{"event-data": {"event": "delivered", "id": "901542550", "timestamp": '
                  '1700000000, "recipient": "a@example.com", "message": {"headers": '
                  '{"message-id": "x.1@example", "subject": "Same"}}}}\n')
    pm = tmp_path / "pm.json"
    pm.write_text('{"RecordType": "Bounce", "ID": 901542550, "Type": "HardBounce", '
                  '"MessageID": "x.1@example", "Email": "b@example.com", '
                  '"BouncedAt": "2023-11-14T22:13:20Z", "Subject": "Same"}\n')
    report = import_events(kit.store, [mg, pm], now=NOW)
    assert not report.skipped
    assert _figures(kit) == {"Same": (2, 1, 1, 0, 0, 0, 0, 0, 0, 0)}


@pytest.mark.parametrize(
    ("path", "given", "looks"),
    [(POSTMARK, "mailgun", "Postmark"), (MAILGUN, "ses", "Mailgun"),
     (SES, "brevo", "Amazon SES"), (BREVO, "sendgrid", "Brevo"),
     (DATA / "anymail_sendgrid_fixtures.json", "mandrill", "SendGrid")],
)
def test_a_file_of_another_provider_is_refused(
    kit: Any, path: Path, given: str, looks: str
) -> None:
    with pytest.raises(UserError, match=f"looks like {looks}") as exc:
        import_events(kit.store, [path], given, now=NOW)
    assert str(path) in str(exc.value)
    assert kit.store.count("contacts") == 0


@pytest.mark.parametrize(("path", "looks"),
                         [(POSTMARK, "Postmark"), (MAILGUN, "Mailgun"), (SES, "Amazon SES")])
def test_import_sendgrid_refuses_other_providers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: Path, looks: str
) -> None:
    db = tmp_path / "s.db"
    assert main(["import", "sendgrid", str(path), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"looks like {looks}" in err and "--provider" in err
    assert not db.exists()


def test_cli_auto_says_what_it_chose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    assert main(["import", "events", str(MANDRILL), str(BREVO), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"{MANDRILL}: recognised as Mandrill" in out
    assert f"{BREVO}: recognised as Brevo" in out


def test_cli_dry_run_leaves_the_store_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    assert main(["import", "events", str(MANDRILL), "--db", str(db)]) == 0
    before = db.read_bytes()
    assert main(["import", "events", str(BREVO), "--dry-run", "--json", "--db", str(db)]) == 0
    assert db.read_bytes() == before


def test_not_json_names_file_and_line(kit: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"RecordType": "Delivery"}\n{not json\n')
    with pytest.raises(UserError, match=r"bad.json: line 2: not JSON"):
        import_events(kit.store, [path], now=NOW)


@pytest.mark.parametrize("text", ["[1]", "[[1], 2]", '"text"', "[]", "{", "1\n2\n"])
def test_odd_json_never_breaks_the_sniffing(kit: Any, tmp_path: Path, text: str) -> None:
    from journeytui.importers.providers import sniff_path

    path = tmp_path / "odd.json"
    path.write_text(text)
    assert sniff_path(path) is None
    try:
        import_events(kit.store, [path], now=NOW)
    except UserError:
        pass


def test_mailgun_failed_for_a_suppressed_address_is_a_drop(kit: Any, tmp_path: Path) -> None:
    # Mailgun's 'failed' with reason suppress-bounce was never sent (the address is on
    # its suppression list): dropped, not in Sent; a 'failed' bounce is a hard bounce
    path = tmp_path / "mg.json"
    path.write_text("".join(
        '{"event-data": {"event": "failed", "severity": "permanent", '
        f'"reason": "{why}", "id": "{why}", "timestamp": 1700000000, '
        f'"recipient": "{who}@example.com", "delivery-status": {{"message": "{text}"}}, '
        '"message": {"headers": {"message-id": "m1@x", "subject": "S"}}}}\n'
        for why, who, text in (("suppress-bounce", "a", "Not delivering to previously "
                                "bounced address"), ("bounce", "b", "5.1.1 no such user"))))
    import_events(kit.store, [path], now=NOW)
    # sent 1 (b), hard 1 (b), dropped 1 (a)
    assert _figures(kit) == {"S": (1, 0, 1, 0, 1, 0, 0, 0, 0, 0)}
    assert kit.one("SELECT s.reason FROM sends s JOIN contacts c ON c.id = s.contact_id"
                   " WHERE c.email = 'a@example.com'") == (
        "suppress-bounce: Not delivering to previously bounced address")


def test_the_read_count_and_the_body_note_add_up(kit: Any) -> None:
    # The Postmark file holds 9 bodies, one per line: Bounce (HardBounce), Delivery,
    # Open, Click, SpamComplaint, three SubscriptionChange, and a Bounce (Unsubscribe)
    # naming no address.  The SubscriptionChange suppressing after the HardBounce is
    # ignored (the bounce is the event), the address-less bounce is skipped, and the
    # other 7 map onto one SendGrid event each: 7 + 1 + 1 = 9 read, as many as bodies.
    report = import_events(kit.store, [POSTMARK], now=NOW)
    assert report.records == 9
    assert sum(report.ignored.values()) == 1 and report.skipped_total == 1
    assert ("9 webhook bodies of Postmark: 7 events mapped onto SendGrid's event types "
            "(README: Other providers); 1 skipped and 1 ignored, listed below.") in report.notes


def test_events_kept_aside_are_counted_in_words_that_agree(kit: Any) -> None:
    # Mailgun's file: line 2 (failed) names no email (no campaign, tag or subject) but
    # has a message id nothing names: kept aside; line 6 (unsubscribed) acts on the
    # contact only, line 8 has no message id (skipped) — 1.  SES's file: the second
    # Bounce (2 bounced recipients: 2 events), the Delivery (1) and the Send, Reject,
    # Open and Click of one message (4) name no email and no other event names their
    # messages; the Complaint acts on the contact only — 2 + 1 + 4 = 7.
    one = import_events(kit.store, [MAILGUN], now=NOW)
    assert any(n.startswith("1 event names no email and belongs to a message no import "
                            "has named yet: kept aside") for n in one.notes), one.notes
    seven = import_events(kit.store, [SES], now=NOW)
    assert any(n.startswith("7 events name no email and belong to messages no import "
                            "has named yet: kept aside") for n in seven.notes), seven.notes

"""Issue 10 (and 11.3, 11.9, 9.3, 9.7, 9.8): real SendGrid shapes land on the right
email with the right figures.  Every expected figure is worked out by hand from
PRODUCT.md §3 in the comments next to it."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.domain.stats import email_stats
from journeytui.errors import UserError
from journeytui.importers.sendgrid import DUPLICATE, FUTURE, NO_EMAIL, import_sendgrid

T = 1_767_600_000  # 2026-01-05 08:00 UTC
NOW = T + 30 * 86_400  # the imports below "run" a month later


def ev(event: str, email: str = "ann@example.com", at: int = T, **fields: Any) -> dict[str, Any]:
    """One event with no attribution fields unless given (fields win)."""
    ev.n += 1  # type: ignore[attr-defined]
    out: dict[str, Any] = {
        "email": email, "timestamp": at, "event": event, "sg_event_id": f"e{ev.n}",  # type: ignore[attr-defined]
    }
    out.update(fields)
    return out


ev.n = 0  # type: ignore[attr-defined]


def run(kit: Any, events: list[dict[str, Any]], name: str = "e.ndjson", **kw: Any) -> Any:
    return import_sendgrid(kit.store, [kit.ndjson(events, name)], now=NOW, **kw)


def figures(kit: Any, email: str) -> dict[str, Any]:
    s = email_stats(kit.store, email)[0]
    return {
        "sent": s.sent, "delivered": s.delivered, "bounced_hard": s.bounced_hard,
        "bounced_soft": s.bounced_soft, "dropped": s.dropped, "opened": s.opened,
        "clicked": s.clicked, "bot_clicks": s.bot_clicks, "unsubscribed": s.unsubscribed,
        "spam_reports": s.spam_reports,
    }


def emails(kit: Any) -> list[str]:
    return [r[0] for r in kit.all("SELECT name FROM emails ORDER BY name")]


SS = {"singlesend_id": "fc59bd25-5cb1", "singlesend_name": "Spring Single Send",
      "mc_stats": "singlesend", "category": []}


# -- (1) attribution --------------------------------------------------------------------
def test_single_send_events_are_attributed(kit: Any) -> None:
    run(kit, [
        ev("processed", **SS, sg_message_id="m1.filter1"),
        ev("delivered", at=T + 2, **SS, sg_message_id="m1.filter1"),
        ev("open", at=T + 600, **SS, sg_message_id="m1.filter1"),
    ])
    assert emails(kit) == ["Spring Single Send"]
    assert kit.one("SELECT campaign_id FROM emails") == "fc59bd25-5cb1"
    # one message: sent 1, delivered 1, opened 1 -> open rate 100 %
    assert figures(kit, "Spring Single Send") | {} == {
        "sent": 1, "delivered": 1, "bounced_hard": 0, "bounced_soft": 0, "dropped": 0,
        "opened": 1, "clicked": 0, "bot_clicks": 0, "unsubscribed": 0, "spam_reports": 0,
    }


def test_a_single_send_id_without_a_name_finds_the_email_named_before(kit: Any) -> None:
    run(kit, [ev("processed", **SS, sg_message_id="m1.f")])
    run(kit, [ev("processed", "bob@example.com", singlesend_id="fc59bd25-5cb1",
                 sg_message_id="m2.f")], "b.ndjson")
    assert emails(kit) == ["Spring Single Send"]
    assert figures(kit, "Spring Single Send")["sent"] == 2


def test_automation_steps_are_emails_of_their_own(kit: Any) -> None:
    auto = {"mc_auto_id": "a-1", "mc_auto_name": "Welcome series"}
    run(kit, [
        ev("processed", **auto, mc_auto_step_id="s-1", sg_message_id="m1.f"),
        ev("processed", "bob@example.com", **auto, mc_auto_step_id="s-2", sg_message_id="m2.f"),
        ev("processed", "cara@example.com", **auto, sg_message_id="m3.f"),  # no step given
    ])
    assert emails(kit) == [
        "Welcome series", "Welcome series · step s-1", "Welcome series · step s-2"
    ]
    assert kit.all("SELECT name, campaign_id FROM emails ORDER BY name") == [
        ("Welcome series", "a-1"),
        ("Welcome series · step s-1", "a-1:s-1"),
        ("Welcome series · step s-2", "a-1:s-2"),
    ]


def test_single_send_beats_automation_beats_legacy_campaign(kit: Any) -> None:
    run(kit, [
        ev("processed", singlesend_name="S", mc_auto_name="A", marketing_campaign_name="L",
           category="C"),
        ev("processed", "bob@example.com", mc_auto_name="A", marketing_campaign_name="L",
           category="C"),
        ev("processed", "cara@example.com", marketing_campaign_name="L", category="C"),
        ev("processed", "dan@example.com", category="C"),
    ])
    assert emails(kit) == ["A", "C", "L", "S"]


def test_message_join_within_one_import(kit: Any) -> None:
    # the open and the bounce carry only the message id of a processed that named the
    # Single Send (the part after the first '.' differs: it is per recipient)
    run(kit, [
        ev("processed", **SS, sg_message_id="abc.filter01.1.0"),
        ev("open", at=T + 900, sg_message_id="abc.filter01.1.0"),
        ev("processed", "bob@example.com", **SS, sg_message_id="abc.filter02.7.0"),
        ev("bounce", "bob@example.com", at=T + 5, type="bounce", sg_message_id="abc.filter02.7.0"),
    ])
    assert emails(kit) == ["Spring Single Send"]
    # sent 2 (ann, bob), bob bounced hard: delivered 1; ann opened
    f = figures(kit, "Spring Single Send")
    assert (f["sent"], f["delivered"], f["bounced_hard"], f["opened"]) == (2, 1, 1, 1)


def test_message_join_to_an_earlier_import(kit: Any) -> None:
    run(kit, [ev("processed", **SS, sg_message_id="abc.filter01.1.0")], "one.ndjson")
    report = run(kit, [
        ev("click", at=T + 900, url="https://example.com/a", sg_message_id="abc.filter01.1.0"),
        ev("spamreport", at=T + 1000, sg_message_id="abc.x"),
    ], "two.ndjson")
    assert report.skipped == {}
    f = figures(kit, "Spring Single Send")
    # still one send (the click's message is on record), one clicker, one spam report
    assert (f["sent"], f["clicked"], f["spam_reports"]) == (1, 1, 1)
    assert report.added["inferred"] == 0


def test_the_events_own_campaign_beats_the_message_join(kit: Any) -> None:
    run(kit, [
        ev("processed", **SS, sg_message_id="abc.f"),
        ev("open", at=T + 60, marketing_campaign_name="Other", sg_message_id="abc.f"),
    ])
    assert emails(kit) == ["Other", "Spring Single Send"]


def test_message_join_comes_before_the_category_rule(kit: Any) -> None:
    run(kit, [
        ev("processed", **SS, sg_message_id="abc.f"),
        ev("open", at=T + 60, category=["newsletter"], sg_message_id="abc.f"),
    ])
    assert emails(kit) == ["Spring Single Send"]


def test_tag_style_categories_keep_emails_apart(kit: Any) -> None:
    run(kit, [
        ev("processed", category=["newsletter", "week-1"]),
        ev("processed", "bob@example.com", category=["newsletter", "week-2"]),
        ev("processed", "cara@example.com", category="newsletter"),
        ev("processed", "dan@example.com", category=["newsletter"]),
    ])
    assert emails(kit) == ["newsletter", "newsletter / week-1", "newsletter / week-2"]
    assert figures(kit, "newsletter")["sent"] == 2  # cara and dan


def test_no_attribution_at_all_uses_email_option_else_waits_or_skips(kit: Any) -> None:
    report = run(kit, [ev("processed", sg_message_id="zzz.f"), ev("open", at=T + 9)])
    assert report.added["parked"] == 1  # a message id: it may be named later
    assert report.skipped[NO_EMAIL].count == 1  # nothing at all: skipped
    run(kit, [ev("processed", sg_message_id="zzz.f")], "again.ndjson", default_email="Launch")
    assert emails(kit) == ["Launch"]
    assert kit.one("SELECT count(*) FROM parked_events") == 0


# -- (2) a send is a message ------------------------------------------------------------
def test_bounce_before_processed_in_the_same_second_is_one_send(kit: Any) -> None:
    run(kit, [
        ev("bounce", at=T, type="bounce", reason="550 no such user", **SS, sg_message_id="m.f"),
        ev("processed", at=T, **SS, sg_message_id="m.f"),
    ])
    f = figures(kit, "Spring Single Send")
    # one message: sent 1, bounced hard 1, delivered 0 (delivery rate 0 %: a true one)
    assert (f["sent"], f["bounced_hard"], f["delivered"]) == (1, 1, 0)


@pytest.mark.parametrize("first", ["processed", "bounce"])
def test_one_message_across_two_imports_in_either_order_is_one_send(kit: Any, first: str) -> None:
    proc = ev("processed", **SS, sg_message_id="m.f")
    bounce = ev("bounce", at=T + 5, type="blocked", **SS, sg_message_id="m.f")
    a, b = (proc, bounce) if first == "processed" else (bounce, proc)
    run(kit, [a], "a.ndjson")
    run(kit, [b], "b.ndjson")
    f = figures(kit, "Spring Single Send")
    assert (f["sent"], f["bounced_soft"], f["delivered"]) == (1, 1, 0)
    assert kit.one("SELECT count(*) FROM sends") == 1
    assert kit.one("SELECT at, proofs FROM sends") == (T, 1 | 8)


def test_a_webhook_without_processed_counts_delivered_messages(kit: Any) -> None:
    run(kit, [
        ev("delivered", at=T + 2, **SS, sg_message_id="m1.f"),
        ev("delivered", "bob@example.com", at=T + 3, **SS, sg_message_id="m2.f"),
        ev("deferred", "cara@example.com", at=T + 3, **SS, sg_message_id="m3.f",
           response="421 try later"),
    ])
    s = email_stats(kit.store, "Spring Single Send")[0]
    # three messages (a deferral proves one too), none bounced: delivery rate 100 %
    assert (s.sent, s.delivered, s.delivery_rate) == (3, 3, 1.0)
    assert s.warnings == []
    assert kit.one(
        "SELECT reason FROM sends s JOIN contacts c ON c.id = s.contact_id"
        " WHERE c.email = 'cara@example.com'"
    ) == "421 try later"


# -- (3) spam reports and unsubscribes --------------------------------------------------
def test_spam_report_without_campaign_counts_on_the_email_of_its_message(kit: Any) -> None:
    run(kit, [
        ev("processed", **SS, sg_message_id="m.f"),
        ev("spamreport", at=T + 600, sg_message_id="m.f"),  # the 2024 docs' shape
        ev("unsubscribe", "bob@example.com", at=T + 700),  # no message, no campaign
    ])
    f = figures(kit, "Spring Single Send")
    assert (f["spam_reports"], f["unsubscribed"]) == (1, 0)
    assert kit.one(
        "SELECT spam_reported_at FROM contacts WHERE email = 'ann@example.com'"
    ) == T + 600
    assert kit.one(
        "SELECT unsubscribed_all FROM contacts WHERE email = 'bob@example.com'"
    ) == 1


# -- (4) bot clicks from delivery ---------------------------------------------------------
def test_bot_clicks_are_measured_from_delivery(kit: Any) -> None:
    run(kit, [
        ev("processed", **SS, sg_message_id="m.f"),
        ev("deferred", at=T + 60, **SS, sg_message_id="m.f"),
        ev("delivered", at=T + 3600, **SS, sg_message_id="m.f"),  # after greylisting
        ev("click", at=T + 3602, url="https://example.com/a", **SS, sg_message_id="m.f"),
        ev("click", at=T + 3700, url="https://example.com/b", **SS, sg_message_id="m.f"),
    ])
    f = figures(kit, "Spring Single Send")
    # 2 s after delivery: a scanner; 100 s after: a person
    assert (f["bot_clicks"], f["clicked"]) == (1, 1)


# -- (5) drops and bounces apart ------------------------------------------------------------
def test_suppression_drops_are_not_sends_and_raise_no_warning(kit: Any) -> None:
    events = [ev("processed", f"r{i}@example.com", **SS, sg_message_id=f"m{i}.f")
              for i in range(10)]
    events += [
        ev("dropped", "gone@example.com", reason="Bounced Address", status="5.0.0", **SS,
           sg_message_id="d1.f"),
        ev("dropped", "left@example.com", reason="Unsubscribed Address", **SS,
           sg_message_id="d2.f"),
        ev("bounce", "r0@example.com", at=T + 9, type="bounce", status="5.1.1",
           reason="550 5.1.1 unknown", bounce_classification="Invalid Address", **SS,
           sg_message_id="m0.f"),
    ]
    run(kit, events)
    s = email_stats(kit.store, "Spring Single Send")[0]
    # Sent 10 (the two drops were never sent), bounced 1, Delivered 9: 90 % -> warning
    # about this email's own bounce, not the list's suppressions
    assert (s.sent, s.dropped, s.bounced, s.delivered) == (10, 2, 1, 9)
    assert s.warnings == ["delivery rate 90.0 % is below 95 % (1 of 10 sent bounced)"]
    rows = kit.all(
        "SELECT c.email, s.status, s.reason, s.bounce_class, s.smtp_status FROM sends s"
        " JOIN contacts c ON c.id = s.contact_id WHERE s.status != 'delivered' ORDER BY c.email"
    )
    assert rows == [
        ("gone@example.com", "dropped", "Bounced Address", None, "5.0.0"),
        ("left@example.com", "dropped", "Unsubscribed Address", None, None),
        ("r0@example.com", "bounced_hard", "550 5.1.1 unknown", "Invalid Address", "5.1.1"),
    ]


def test_only_drops_give_no_delivery_rate_and_no_warning(kit: Any) -> None:
    run(kit, [ev("dropped", reason="Bounced Address", **SS, sg_message_id="d.f")])
    s = email_stats(kit.store, "Spring Single Send")[0]
    assert (s.sent, s.dropped, s.delivery_rate, s.warnings) == (0, 1, None, [])


# -- (6) small things ------------------------------------------------------------------------
def test_digit_string_timestamps_and_capitalised_event_names(kit: Any) -> None:
    report = run(kit, [ev("Processed", at=str(T), **SS)])  # type: ignore[arg-type]
    assert report.skipped == {}
    assert kit.one("SELECT at FROM sends") == T


def test_events_not_about_an_email_are_ignored_not_unknown(kit: Any) -> None:
    report = run(kit, [{"event": "account_status_change", "timestamp": T,
                        "sg_event_id": "x", "type": "compliance_suspend"}])
    assert report.ignored == {"account_status_change (not about an email)": 1}
    assert report.skipped == {}


def test_same_event_id_with_another_event_type_is_not_a_duplicate(kit: Any) -> None:
    # SendGrid's documentation examples reuse one placeholder id for every type
    same = {"sg_event_id": "sg_event_id", **SS, "sg_message_id": "m.f"}
    report = run(kit, [ev("processed", **same), ev("open", at=T + 60, **same),
                       ev("open", at=T + 60, **same)])
    assert report.skipped[DUPLICATE].count == 1  # the second open
    assert figures(kit, "Spring Single Send")["opened"] == 1


def test_event_ids_of_an_older_store_still_deduplicate(kit: Any) -> None:
    with kit.store.transaction():
        kit.store.conn.execute("INSERT INTO seen_events VALUES ('old-1')")
        kit.store.conn.execute("INSERT INTO meta VALUES ('seen_events_legacy', '1')")
    report = run(kit, [ev("processed", **SS, sg_event_id="old-1")])
    assert report.skipped[DUPLICATE].count == 1


def test_standard_input(kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    body = json.dumps([ev("processed", **SS, timestamp=T)]).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body)))
    db = tmp_path / "in.db"
    assert main(["import", "sendgrid", "-", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Read 1 event from <stdin>." in out


# -- 11.3: no rate above 100 % --------------------------------------------------------------
def test_a_click_with_no_send_on_record_proves_a_delivered_send(kit: Any) -> None:
    report = run(kit, [
        ev("processed", **SS, sg_message_id="m1.f"),
        ev("click", at=T + 600, url="https://example.com/a", **SS, sg_message_id="m1.f"),
        ev("click", "bob@example.com", at=T + 700, url="https://example.com/a", **SS),
    ])
    s = email_stats(kit.store, "Spring Single Send")[0]
    # bob's click proves a send: sent 2, delivered 2, clicked 2 -> click rate 100 %
    assert (s.sent, s.delivered, s.clicked, s.click_rate) == (2, 2, 2, 1.0)
    assert report.added["inferred"] == 1
    assert "sends inferred from an open, click, unsubscribe or spam report  1" in "\n".join(
        report.lines(__import__("journeytui.importers.sendgrid").importers.sendgrid.LABELS)
    )


def test_an_inferred_send_is_the_message_that_arrives_later(kit: Any) -> None:
    run(kit, [ev("open", at=T + 600, **SS)], "open.ndjson")  # no message id, no send
    run(kit, [ev("processed", **SS, sg_message_id="m1.f")], "proc.ndjson")
    assert kit.one("SELECT count(*) FROM sends") == 1
    # the processed names the message and dates the send; it is no longer inferred
    assert kit.one("SELECT at, message_id, proofs FROM sends") == (T, "m1", 1)


# -- 11.9: one link whatever its form ---------------------------------------------------------
def test_urls_differing_in_scheme_host_case_or_trailing_slash_are_one_link(kit: Any) -> None:
    base = {**SS}
    run(kit, [
        ev("processed", **base, sg_message_id="m1.f"),
        ev("processed", "bob@example.com", **base, sg_message_id="m2.f"),
        ev("click", at=T + 600, url="http://example.com/pricing", **base),
        ev("click", at=T + 700, url="https://Example.com/pricing/", **base),
        ev("click", "bob@example.com", at=T + 800, url="https://example.com/pricing/", **base),
        ev("click", "bob@example.com", at=T + 900, url="https://example.com/pricing?x=1", **base),
    ])
    links = [(k.url, k.clicked, k.clicks_total) for k in
             email_stats(kit.store, "Spring Single Send")[0].links]
    # "http://example.com/pricing", "https://Example.com/pricing/" and
    # "https://example.com/pricing/" are one link: clicked by ann and bob (2 unique), 3
    # clicks; each form was clicked once, so the tie goes to the first in text order.
    # The "?x=1" form is another page (the query differs).
    assert links == [
        ("http://example.com/pricing", 2, 3),
        ("https://example.com/pricing?x=1", 1, 1),
    ]


def test_the_most_frequent_form_names_the_link(kit: Any) -> None:
    run(kit, [
        ev("processed", **SS, sg_message_id="m1.f"),
        ev("click", at=T + 600, url="http://example.com/a", **SS),
        ev("click", at=T + 700, url="https://example.com/a/", **SS),
        ev("click", at=T + 800, url="https://example.com/a/", **SS),
    ])
    links = [(k.url, k.clicked, k.clicks_total) for k in
             email_stats(kit.store, "Spring Single Send")[0].links]
    assert links == [("https://example.com/a/", 1, 3)]


# -- 9.3: events from the future ------------------------------------------------------------
def test_events_more_than_a_day_after_the_import_are_skipped(kit: Any) -> None:
    report = run(kit, [
        ev("processed", at=NOW + 86_400, **SS),  # exactly a day ahead: kept
        ev("processed", "bob@example.com", at=NOW + 86_401, **SS),
        ev("open", "bob@example.com", at=99_999_999_999, **SS),  # year 5138
    ])
    assert report.skipped[FUTURE].count == 2
    assert kit.one("SELECT max(at) FROM sends") == NOW + 86_400


# -- 9.7 and 9.8: hostile shapes --------------------------------------------------------------
@pytest.mark.parametrize("shape", ["array", "lines"])
def test_deeply_nested_json_is_refused_with_file_and_line(kit: Any, shape: str) -> None:
    deep = "[" * 100_000
    text = "[\n" + deep + "\n]" if shape == "array" else '{"event": "open"}\n' + deep + "\n"
    path = kit.text(text, "deep.json")
    with pytest.raises(UserError) as err:
        import_sendgrid(kit.store, [path], now=NOW)
    assert str(err.value).startswith(f"{path}: line 2: JSON nested too deeply")
    assert "Nothing was imported" in str(err.value)


def test_an_integer_above_two_to_the_63_skips_the_event(kit: Any) -> None:
    report = run(kit, [
        ev("processed", **SS, sg_message_id="m.f"),
        ev("group_unsubscribe", at=T + 5, asm_group_id=2**63, **SS),
        ev("click", at=T + 600, asm_group_id=2**64 + 1, url="https://example.com", **SS),
    ])
    reason = "field 'asm_group_id' is out of range (not a 64-bit integer)"
    assert report.skipped[reason].count == 2
    assert figures(kit, "Spring Single Send")["sent"] == 1


# -- (7) dry run --------------------------------------------------------------------------------
def test_dry_run_changes_no_byte_and_says_what_would_change(
    kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "d.db"
    first = kit.ndjson([ev("processed", **SS, sg_message_id="m1.f")], "first.ndjson")
    assert main(["import", "sendgrid", str(first), "--db", str(db)]) == 0
    capsys.readouterr()
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    more = kit.ndjson([
        ev("processed", "bob@example.com", **SS, sg_message_id="m2.f"),
        ev("bounce", "bob@example.com", at=T + 5, type="bounce", **SS, sg_message_id="m2.f"),
        ev("processed", "cara@example.com", marketing_campaign_name="New one"),
        ev("open", "dan@example.com"),  # no email
    ], "more.ndjson")
    assert main(["import", "sendgrid", "--dry-run", str(more), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert not Path(str(db) + "-wal").exists()
    assert "DRY RUN: nothing was changed" in out
    assert "Would add 2 contacts and 1 emails." in out
    # Spring Single Send: sent 1 -> 2, delivered stays 1 (bob bounced), bounced_hard 0 -> 1
    assert "  Spring Single Send: sent 1 → 2, bounced_hard 0 → 1" in out
    assert "  New one (new): sent 0 → 1, delivered 0 → 1" in out
    assert "no email (" in out
    assert main(["import", "sendgrid", "--dry-run", "--json", str(more), "--db", str(db)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True
    assert data["would_change"]["new_contacts"] == 2
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest


def test_dry_run_into_a_missing_store_leaves_no_file(
    kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "none.db"
    path = kit.ndjson([ev("processed", **SS)], "p.ndjson")
    assert main(["import", "sendgrid", "--dry-run", str(path), "--db", str(db)]) == 0
    assert "Spring Single Send (new): sent 0 → 1" in capsys.readouterr().out
    assert not db.exists()

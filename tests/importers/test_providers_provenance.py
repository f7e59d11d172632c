"""Provenance of a provider import names the user's file and the line of the provider
record (and, in a JSON array of bodies, the body's index): no spool file.  The real
payloads (data/realworld/); every line below was counted by hand in the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.domain.provenance import explain_figure
from journeytui.importers.providers import import_events

DATA = Path(__file__).parent / "data" / "realworld"
NOW = 1_767_600_000
MAILGUN = DATA / "anymail_mailgun_webhook_bodies.json"
POSTMARK = DATA / "anymail_postmark_webhook_bodies.json"
SES = DATA / "anymail_ses_sns_notifications.json"
MANDRILL = DATA / "anymail_mandrill_events.json"
BREVO = DATA / "anymail_brevo_webhook_bodies.json"


def _sources(kit: Any, email: str, figure: str) -> list[tuple[str, str, int, int | None]]:
    ex = explain_figure(kit.store, email, figure)
    return sorted((r.event, r.source.file, r.source.line, r.source.index) for r in ex.rows)


@pytest.mark.parametrize(("path", "email", "figure", "expected"), [
    # "Testing" was sent twice: delivered on line 1, failed (temporary) on line 3
    (MAILGUN, "Testing", "sent", [("Mailgun delivered", 1), ("Mailgun failed", 3)]),
    # welcome-email: the Click on line 4; the unsubscribe (SubscriptionChange) on line 6
    (POSTMARK, "welcome-email", "clicked", [("Postmark Click", 4)]),
    (POSTMARK, "welcome-email", "unsubscribed", [("Postmark SubscriptionChange (ManualSuppression)", 6)]),
    # "Hello": the first Bounce (line 1) is its only event
    (SES, "Hello", "bounced", [("SES Bounce", 1)]),
    # tag1 / tag2: send (line 1) and hard_bounce (line 2); line 5 repeats line 1
    (MANDRILL, "tag1 / tag2", "sent", [("Mandrill hard_bounce", 2), ("Mandrill send", 1)]),
    # header-tag: the spam event on line 6
    (BREVO, "header-tag", "spam", [("Brevo spam", 6)]),
])
def test_a_figure_names_the_file_and_line_of_each_record(
    kit: Any, path: Path, email: str, figure: str, expected: list[tuple[str, int]]
) -> None:
    import_events(kit.store, [path], now=NOW)
    assert _sources(kit, email, figure) == [(e, str(path), line, None) for e, line in expected]


def test_a_json_array_of_bodies_names_each_bodys_line_and_index(
    kit: Any, tmp_path: Path
) -> None:
    # the nine Postmark bodies as one JSON array, '[' on line 1 and body i on line i + 2:
    # the Click (body index 3) is on line 5
    lines = POSTMARK.read_text().splitlines()
    path = tmp_path / "postmark.json"
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n")
    import_events(kit.store, [path], now=NOW)
    assert _sources(kit, "welcome-email", "clicked") == [("Postmark Click", str(path), 5, 3)]


def test_a_one_line_array_names_line_1_and_the_index(kit: Any, tmp_path: Path) -> None:
    path = tmp_path / "postmark.json"
    path.write_text("[" + ", ".join(POSTMARK.read_text().splitlines()) + "]\n")
    import_events(kit.store, [path], now=NOW)
    assert _sources(kit, "welcome-email", "clicked") == [("Postmark Click", str(path), 1, 3)]


def test_explain_on_the_command_line_names_the_users_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    assert main(["import", "events", str(POSTMARK), "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["explain", "welcome-email", "--figure", "clicked", "--json", "--db",
                 str(db)]) == 0
    data = json.loads(capsys.readouterr().out)
    (event,) = data["events"]
    assert event["source"]["file"] == str(POSTMARK)
    assert event["source"]["line"] == 4
    assert event["where"].startswith(f"{POSTMARK}:4 ")

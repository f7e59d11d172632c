"""Issue 10 item 6: the contact's delivery log (every send, its outcome and reason) and
the one line on why the person gets no mail.  Expectations are worked out by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.domain.contacts import find_contact
from journeytui.domain.delivery import delivery_log
from journeytui.importers.sendgrid import import_sendgrid

NOW = 1_767_600_000 + 90 * 86_400
H = 3600


def _import(kit: Any, events: list[dict[str, Any]]) -> None:
    import_sendgrid(kit.store, [kit.ndjson(events)], now=NOW)


def test_every_send_with_outcome_and_reason_without_consent(kit: Any) -> None:
    t = kit.T0
    _import(kit, [
        # Spring sale: processed then delivered -> delivered
        kit.ev("processed", "bo@example.com", t, campaign="Spring sale"),
        kit.ev("delivered", "bo@example.com", t + 5, campaign="Spring sale"),
        # Summer: processed, deferred, no delivery yet -> deferred, with the response
        kit.ev("processed", "bo@example.com", t + 10 * H, campaign="Summer"),
        kit.ev("deferred", "bo@example.com", t + 10 * H + 60, campaign="Summer",
               response="451 4.7.1 greylisted"),
        # Autumn: processed then a soft bounce (blocked) with its reason and status
        kit.ev("processed", "bo@example.com", t + 20 * H, campaign="Autumn"),
        kit.ev("bounce", "bo@example.com", t + 20 * H + 9, campaign="Autumn",
               type="blocked", reason="550 blocked by policy", status="5.7.1",
               bounce_classification="Reputation"),
        # an open of bo (no consent): not in the delivery log (tracking follows consent)
        kit.ev("open", "bo@example.com", t + 30, campaign="Spring sale"),
    ])
    log = delivery_log(kit.store, find_contact(kit.store, "bo@example.com"))
    got = [(s.email, s.outcome, s.at, s.reason_text) for s in log.sends]
    assert got == [  # newest first
        ("Autumn", "bounced_soft", t + 20 * H, "550 blocked by policy (5.7.1, Reputation)"),
        ("Summer", "deferred", t + 10 * H, "451 4.7.1 greylisted"),
        ("Spring sale", "delivered", t, ""),
    ]
    assert log.sends[2].delivered_at == t + 5
    assert log.sends[2].evidence == ("processed", "delivered")
    # a soft bounce does not stop mail: no "no mail" line
    assert log.no_mail is None
    assert log.summary() == "3 sends: 1 delivered, 1 bounced (soft), 1 deferred"
    j = log.to_json()
    assert j["sends"][0]["time"] == "2026-01-06T04:00:00Z"  # 08:00 + 20 h
    assert j["sends"][0]["smtp_status"] == "5.7.1"
    assert j["counts"] == {"delivered": 1, "bounced_soft": 1, "deferred": 1}


@pytest.mark.parametrize(
    ("events", "kind", "text"),
    [
        # a hard bounce of the latest send
        (lambda k, t: [k.ev("processed", "cy@example.com", t),
                       k.ev("bounce", "cy@example.com", t + 3, reason="550 no such user")],
         "hard_bounce", "the latest send hard-bounced on 2026-01-05 08:00: 550 no such user"),
        # the latest send dropped (a suppression): the drop reason
        (lambda k, t: [k.ev("dropped", "cy@example.com", t, reason="Bounced Address")],
         "dropped", ("the latest send was dropped by the provider on 2026-01-05 08:00"
                     " (suppressed or refused address): Bounced Address")),
        # a spam report beats the hard bounce (first that applies)
        (lambda k, t: [k.ev("bounce", "cy@example.com", t),
                       k.ev("spamreport", "cy@example.com", t + H)],
         "spam_report", "reported spam on 2026-01-05 09:00: no further mail"),
        # unsubscribed from all beats everything
        (lambda k, t: [k.ev("spamreport", "cy@example.com", t + H),
                       k.ev("unsubscribe", "cy@example.com", t + 2 * H)],
         "unsubscribed_all", "unsubscribed from all on 2026-01-05 10:00"),
    ],
)
def test_one_line_on_why_no_mail(kit: Any, events: Any, kind: str, text: str) -> None:
    _import(kit, events(kit, kit.T0))
    log = delivery_log(kit.store, find_contact(kit.store, "cy@example.com"))
    assert log.no_mail is not None
    assert (log.no_mail.kind, log.no_mail.text) == (kind, text)


def test_a_delivery_after_a_hard_bounce_means_mail_again(kit: Any) -> None:
    t = kit.T0
    _import(kit, [
        kit.ev("bounce", "di@example.com", t, campaign="A"),
        kit.ev("delivered", "di@example.com", t + H, campaign="B"),
    ])
    log = delivery_log(kit.store, find_contact(kit.store, "di@example.com"))
    assert [s.outcome for s in log.sends] == ["delivered", "bounced_hard"]
    assert log.no_mail is None


def test_contact_cli_text_and_json(kit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    t = kit.T0
    _import(kit, [
        kit.ev("processed", "ed@example.com", t, campaign="Spring sale"),
        kit.ev("bounce", "ed@example.com", t + 4, campaign="Spring sale",
               reason="550 5.1.1 user unknown", status="5.1.1"),
    ])
    db = str(kit.store.path)
    assert main(["--db", db, "contact", "ed@example.com", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "NO MAIL: the latest send hard-bounced on 2026-01-05 08:00: 550 5.1.1 user unknown" \
        " (5.1.1)" in out
    assert "delivery log: 1 send: 1 bounced (hard)" in out
    assert "2026-01-05 08:00  Spring sale  bounced (hard)  550 5.1.1 user unknown (5.1.1)" in out
    assert main(["--db", db, "contact", "ed@example.com", "--limit", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    delivery = data[0]["delivery"]
    assert delivery["no_mail"] == {
        "kind": "hard_bounce", "since": "2026-01-05T08:00:00Z",
        "text": "the latest send hard-bounced on 2026-01-05 08:00: 550 5.1.1 user unknown"
                " (5.1.1)",
    }
    assert delivery["sends"] == [{
        "email": "Spring sale", "time": "2026-01-05T08:00:00Z", "outcome": "bounced_hard",
        "delivered_at": None, "reason": "550 5.1.1 user unknown",
        "bounce_classification": None, "smtp_status": "5.1.1",
        "evidence": ["processed", "bounce"],
        "message_id": delivery["sends"][0]["message_id"],
    }]
    # no consent: no activities, but the delivery log is there
    assert data[0]["activities"] == []

"""A/B tests: a legacy Marketing Campaign split into versions stays one email, each send
keeps the variant its message carried, and the figures are shown per variant beside the
totals.  Expected figures are worked out by hand below (PRODUCT.md §2, §3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.domain.stats import VariantStats, email_stats
from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Recorder

NOW = 1_767_600_000 + 90 * 86_400
URL = "https://www.example.com/pricing"
A = {"marketing_campaign_version": "A", "marketing_campaign_split_id": 101}
B = {"marketing_campaign_version": "B", "marketing_campaign_split_id": 102}


def _people(kit: Any) -> None:
    """Tracking consent: ann, cara, dan, fay, hal, ivy; none: bob, eve."""
    with kit.store.transaction():
        r = Recorder(kit.store)
        for who in ("ann", "cara", "dan", "fay", "hal", "ivy"):
            r.contact(f"{who}@example.com", consent=True, at=kit.T0 - 1000)
        for who in ("bob", "eve"):
            r.contact(f"{who}@example.com", consent=False, at=kit.T0 - 1000)


def _events(kit: Any) -> list[dict[str, Any]]:
    """As SendGrid sends a split campaign: 'processed' (and 'dropped') name the version;
    the later events of a message usually carry only its sg_message_id and campaign."""
    t, e = kit.T0, kit.ev
    return [
        # variant A: ann delivered, opens twice, clicks; bob (no consent) delivered,
        # opens, clicks; cara bounces (hard)
        e("processed", "ann@example.com", t, **A),
        e("delivered", "ann@example.com", t + 2),
        e("open", "ann@example.com", t + 600),
        e("open", "ann@example.com", t + 700),
        e("click", "ann@example.com", t + 800, url=URL),
        e("processed", "bob@example.com", t, **A),
        e("delivered", "bob@example.com", t + 2),
        e("open", "bob@example.com", t + 600),
        e("click", "bob@example.com", t + 900, url=URL),
        e("processed", "cara@example.com", t, **A),
        e("bounce", "cara@example.com", t + 4, type="bounce", reason="550 no such user"),
        # variant B: dan delivered, a machine open only, unsubscribes; eve (no consent)
        # delivered, opens, reports spam; fay dropped (not sent); hal's processed carries
        # no version, his open does (any event of the message sets it), he clicks
        e("processed", "dan@example.com", t, **B),
        e("delivered", "dan@example.com", t + 2),
        e("open", "dan@example.com", t + 40, sg_machine_open=True),
        e("unsubscribe", "dan@example.com", t + 1000),
        e("processed", "eve@example.com", t, **B),
        e("delivered", "eve@example.com", t + 2),
        e("open", "eve@example.com", t + 500),
        e("spamreport", "eve@example.com", t + 1200),
        e("dropped", "fay@example.com", t, reason="Bounced Address", **B),
        e("processed", "hal@example.com", t),
        e("delivered", "hal@example.com", t + 2),
        e("open", "hal@example.com", t + 300, **B),
        e("click", "hal@example.com", t + 400, url=URL),
        # no variant on record: ivy delivered, nothing else
        e("processed", "ivy@example.com", t),
        e("delivered", "ivy@example.com", t + 2),
    ]


EXPECTED = [
    # A: Sent ann + bob + cara = 3; Delivered 3 - 1 bounce (cara) = 2; Opened (consented)
    # ann = 1 (bob is anonymous); Clicked ann = 1; no unsubscribe, no spam.
    VariantStats("A", sent=3, delivered=2, opened=1, clicked=1, unsubscribed=0,
                 spam_reports=0),
    # B: Sent dan + eve + hal = 3 (fay dropped: not sent); Delivered 3; Opened (consented)
    # hal = 1 (dan's only open is a machine open, eve has no consent); Clicked hal = 1;
    # Unsubscribed dan = 1; Spam 0 (eve has no consent: counted in the total only).
    VariantStats("B", sent=3, delivered=3, opened=1, clicked=1, unsubscribed=1,
                 spam_reports=0),
    # no variant: ivy, sent and delivered
    VariantStats(None, sent=1, delivered=1, opened=0, clicked=0, unsubscribed=0,
                 spam_reports=0),
]


def test_an_ab_test_is_one_email_with_per_variant_figures(kit: Any) -> None:
    _people(kit)
    import_sendgrid(kit.store, [kit.ndjson(_events(kit))], now=NOW)
    assert kit.all("SELECT name FROM emails") == [("Spring sale",)]
    assert kit.all("SELECT c.email, s.variant FROM sends s JOIN contacts c ON c.id ="
                   " s.contact_id ORDER BY c.email") == [
        ("ann@example.com", "A"), ("bob@example.com", "A"), ("cara@example.com", "A"),
        ("dan@example.com", "B"), ("eve@example.com", "B"), ("fay@example.com", "B"),
        ("hal@example.com", "B"), ("ivy@example.com", None)]
    (s,) = email_stats(kit.store, "Spring sale")
    assert s.variants == EXPECTED
    # the totals count every recipient: Sent 7 (all but fay); Opened ann, bob, eve, hal
    # = 4; Clicked ann, bob, hal = 3; Unsubscribed dan = 1; Spam eve = 1
    assert (s.sent, s.delivered, s.opened, s.clicked, s.unsubscribed, s.spam_reports) == (
        7, 6, 4, 3, 1, 1)


def test_the_variant_is_the_same_whatever_order_and_split_of_imports(kit: Any) -> None:
    _people(kit)
    events = _events(kit)
    # the later half first (opens and clicks before their 'processed'), then the rest
    import_sendgrid(kit.store, [kit.ndjson(events[13:], "late.ndjson")], now=NOW)
    import_sendgrid(kit.store, [kit.ndjson(events[:13], "early.ndjson")], now=NOW)
    (s,) = email_stats(kit.store, "Spring sale")
    assert s.variants == EXPECTED


def test_an_email_with_one_variant_or_none_shows_no_variant_table(kit: Any) -> None:
    t, e = kit.T0, kit.ev
    import_sendgrid(kit.store, [kit.ndjson([
        e("processed", "ann@example.com", t, **A), e("processed", "bob@example.com", t),
    ])], now=NOW)
    (s,) = email_stats(kit.store, "Spring sale")
    assert s.variants == []
    assert s.to_json()["variants"] == []


def test_stats_shows_variants_in_text_and_json(
    kit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _people(kit)
    import_sendgrid(kit.store, [kit.ndjson(_events(kit))], now=NOW)
    db = str(kit.store.path)
    kit.store.close()
    assert main(["--db", db, "stats", "--email", "Spring sale"]) == 0
    out = capsys.readouterr().out
    assert "A/B test, 2 variants" in out
    lines = [line.split() for line in out.splitlines()]
    assert ["A", "3", "2", "1", "1", "0", "0"] in lines
    assert ["B", "3", "3", "1", "1", "1", "0"] in lines
    assert ["(no", "variant)", "1", "1", "0", "0", "0", "0"] in lines
    assert main(["--db", db, "stats", "--email", "Spring sale", "--json"]) == 0
    (got,) = json.loads(capsys.readouterr().out)
    assert got["variants"][1] == {
        "variant": "B", "sent": 3, "delivered": 3, "opened_consented": 1,
        "clicked_consented": 1, "unsubscribed_consented": 1, "spam_reports_consented": 0}
    assert [v["variant"] for v in got["variants"]] == ["A", "B", None]

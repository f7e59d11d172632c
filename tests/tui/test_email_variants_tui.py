"""Pilot test: the email detail of an A/B test shows a Variants table under its figures
at 80×24 (and none for an email that was not split).  Figures worked out by hand."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Recorder, Store

T = 1_767_600_000  # 2026-01-05 08:00 UTC
NOW = T + 90 * 86_400


def _ev(event: str, who: str, at: int, n: int, **extra: Any) -> dict[str, Any]:
    return {"event": event, "email": f"{who}@example.com", "timestamp": at,
            "sg_event_id": f"ev-{n}", "sg_message_id": f"msg-{who}.f1",
            "marketing_campaign_name": "Spring test", **extra}


def _text(widget: Any) -> str:
    console = Console(width=78, record=True, file=io.StringIO())
    console.print(widget.drawing(widget.content_region.width))
    return console.export_text()


async def test_the_detail_of_an_ab_test_has_a_variants_table(
    tmp_path: Path, app_factory: Callable[..., Any], settle: Any
) -> None:
    from journeytui.tui.widgets.email_detail import EmailDetail

    db = tmp_path / "ab.db"
    store = Store.create(db, token_key=b"k" * 16)
    with store.transaction():
        r = Recorder(store)
        for who in ("ann", "cid"):
            r.contact(f"{who}@example.com", consent=True, at=T - 86_400)
    a = {"marketing_campaign_version": "Short subject"}
    b = {"marketing_campaign_version": "Long subject"}
    events = [
        # Short subject: ann (consent) and bob (no consent) delivered, both open
        _ev("processed", "ann", T, 1, **a), _ev("delivered", "ann", T + 1, 2),
        _ev("open", "ann", T + 600, 3),
        _ev("processed", "bob", T, 4, **a), _ev("delivered", "bob", T + 1, 5),
        _ev("open", "bob", T + 600, 6),
        # Long subject: cid (consent) bounces
        _ev("processed", "cid", T, 7, **b), _ev("bounce", "cid", T + 3, 8),
    ]
    src = tmp_path / "events.ndjson"
    src.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    import_sendgrid(store, [src], now=NOW)
    store.close()

    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = _text(app.main.query_one(EmailDetail))
        assert "Variants (A/B test)" in text
        rows = [line.split() for line in text.splitlines()]
        # Long subject: Sent 1 (cid), Delivered 0 (bounced), nothing else
        assert ["Long", "subject", "1", "0", "0", "0", "0", "0"] in rows
        # Short subject: Sent 2, Delivered 2, Opened 1 (ann; bob has no consent)
        assert ["Short", "subject", "2", "2", "1", "0", "0", "0"] in rows
        # the variants come in name order, under the figures
        assert text.index("Long subject") < text.index("Short subject")
        assert text.index("Spam reports") < text.index("Variants (A/B test)")
        assert "contacts with tracking" in text


async def test_an_email_that_was_not_split_has_no_variants_table(
    demo_db: Path, app_factory: Callable[..., Any], settle: Any
) -> None:
    from journeytui.tui.widgets.email_detail import EmailDetail

    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Variants" not in _text(app.main.query_one(EmailDetail))

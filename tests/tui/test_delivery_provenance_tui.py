"""Pilot tests in the TUI: the contact card's delivery log
(d) and the email detail's provenance (p).  Stores are built by importing a few events,
so every expected figure is worked out by hand here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Store

T = 1_767_600_000  # 2026-01-05 08:00 UTC
NOW = T + 90 * 86_400


def _store(tmp_path: Path, events: list[dict[str, Any]]) -> Path:
    db = tmp_path / "p.db"
    store = Store.create(db, token_key=b"k" * 16)
    src = tmp_path / "events.ndjson"
    src.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    import_sendgrid(store, [src], now=NOW)
    store.close()
    return db


def _ev(event: str, email: str, at: int, n: int, **extra: Any) -> dict[str, Any]:
    return {"event": event, "email": email, "timestamp": at, "sg_event_id": f"ev-{n}",
            "sg_message_id": f"msg-{email.split('@')[0]}-{extra['marketing_campaign_name'][:2]}.f1",
            **extra}


def _text(renderable: Any) -> str:
    console = Console(width=78, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_contact_card_shows_the_delivery_log(
    tmp_path: Path, app_factory: Callable[..., Any], settle: Any
) -> None:
    from journeytui.tui.panes.contacts import CardView, ContactsPane

    a = {"marketing_campaign_name": "Spring sale"}
    b = {"marketing_campaign_name": "Summer"}
    db = _store(tmp_path, [
        _ev("processed", "zoe@example.com", T, 1, **a),
        _ev("delivered", "zoe@example.com", T + 5, 2, **a),
        _ev("processed", "zoe@example.com", T + 86_400, 3, **b),
        _ev("bounce", "zoe@example.com", T + 86_400 + 4, 4, reason="550 user unknown", **b),
    ])
    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press(*"zoe@example.com")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.main.query_one(ContactsPane)
        card = _text(pane.query_one(CardView).render())
        # 2 sends: Spring sale delivered, Summer hard-bounced (the latest): no mail
        assert "Mail 2 sends: 1 delivered, 1 bounced (hard)" in card.replace("\n", "")
        assert "no mail: the latest send hard-bounced on 2026-01-06 08:00: 550 user" in \
            " ".join(card.split())
        await pilot.press("d")
        await settle(pilot)
        rows = [r.cells for r in pane.timeline_table.cached_rows()]
        assert rows == [
            ("2026-01-06 08:00", "bounced (hard)", "Summer", "550 user unknown"),
            ("2026-01-05 08:00", "delivered", "Spring sale", ""),
        ]
        await pilot.press("d")  # back to the activity history (none: no consent)
        await settle(pilot)
        assert pane.timeline_table.cached_rows() == []
        assert not pane.showing_delivery

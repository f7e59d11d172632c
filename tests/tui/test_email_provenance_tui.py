"""Pilot test: ``p`` on the Emails pane picks a figure of the highlighted email and
lists the events behind it with where each came from; an anonymous
event never shows the person.  Expectations are worked out by hand from the file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Recorder, Store

T = 1_767_600_000  # 2026-01-05 08:00 UTC
NOW = T + 90 * 86_400
PRICING = "https://example.com/pricing"


def _ev(event: str, email: str, at: int, n: int, **extra: Any) -> dict[str, Any]:
    return {"event": event, "email": email, "timestamp": at, "sg_event_id": f"ev-{n}",
            "sg_message_id": f"msg-{email.split('@')[0]}.f1",
            "marketing_campaign_name": "Spring sale", **extra}


async def test_p_lists_the_events_behind_a_link_figure(
    tmp_path: Path, app_factory: Callable[..., Any], settle: Any
) -> None:
    from textual.widgets import DataTable, OptionList

    from journeytui.tui.screens.evidence import EvidenceScreen

    db = tmp_path / "p.db"
    store = Store.create(db, token_key=b"k" * 16)
    with store.transaction():
        Recorder(store).contact("bob@example.com", consent=True, at=T - 86_400)
    events = [
        _ev("delivered", "ann@example.com", T, 1),                    # line 1
        _ev("delivered", "bob@example.com", T, 2),                    # line 2
        _ev("click", "ann@example.com", T + 600, 3, url=PRICING),     # line 3 (anonymous)
        _ev("click", "bob@example.com", T + 900, 4, url=PRICING),     # line 4
        _ev("click", "bob@example.com", T + 1200, 5, url="https://example.com/blog"),
    ]
    src = tmp_path / "events.ndjson"
    src.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    import_sendgrid(store, [src], now=NOW)
    store.close()

    app = app_factory(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("1", "p")
        await settle(pilot)
        # the picker starts on Clicked; each link follows it, then Unsubscribed, Spam
        picker = app.screen.query_one(OptionList)
        options = [picker.get_option_at_index(i).prompt.plain.strip("▸ ")  # type: ignore[union-attr]
                   for i in range(picker.option_count)]
        assert options[:6] == ["Sent", "Delivered", "Bounced", "Dropped (not sent)", "Opened",
                               "Clicked"]
        assert sorted(options[6:8]) == ["clicked: https://example.com/blog",
                                        "clicked: " + PRICING]
        assert options[8:] == ["Unsubscribed", "Spam reports"]
        steps = 1 + options[6:8].index("clicked: " + PRICING)
        await pilot.press(*["down"] * steps, "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EvidenceScreen)
        ex = screen.explanation
        assert ex is not None and (ex.value, ex.total) == (2, 2)  # 2 clickers, 2 clicks
        table = screen.query_one(DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows == [
            ["2026-01-05 08:10", "click", "(anonymous)", f"{src}:3 (batch 1)", "ev-3", PRICING],
            ["2026-01-05 08:15", "click", "bob@example.com", f"{src}:4 (batch 1)", "ev-4",
             PRICING],
        ]
        # the highlighted row in full below the table
        shown = str(screen.query_one("#evidence-row").render())
        assert shown == f"From {src}:3 (batch 1) · event id ev-3 · {PRICING}"
        assert "ann@example.com" not in repr(rows)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, EvidenceScreen)
        assert type(app.screen).__name__ == "MainScreen"  # back on the pane

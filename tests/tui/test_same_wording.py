"""The CLI and the app word the same figure the same way (journeytui.present): a pane's
cell and the CLI's output for the same email, activity or contact."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from journeytui.cli import main
from journeytui.store import Recorder, Store
from journeytui.timefmt import fmt_time
from journeytui.tui.panes.activities import ActivitiesPane
from journeytui.tui.panes.contacts import ContactsPane
from journeytui.tui.panes.emails import EmailsPane

T0 = 1_767_261_600  # 2026-01-01 10:00 UTC


def _bot_click(db: Path) -> tuple[int, str, int, str, int]:
    """(email id, email name, contact id, address, time) of a consented contact's
    suspected bot click, from the stored rows."""
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT e.id, e.name, c.id, c.email, a.at FROM activities a"
            " JOIN emails e ON e.id = a.email_id JOIN contacts c ON c.id = a.contact_id"
            " WHERE a.kind = 'click' AND a.bot = 1 ORDER BY a.id LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    assert row is not None, "the demo store has link scanners: bot clicks"
    return row


def _cli_line(capsys: pytest.CaptureFixture[str], argv: list[str], *needles: str) -> str:
    assert main(argv) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if all(n in ln for n in needles)]
    assert lines, (needles, out[:2000])
    return lines[0]


async def test_a_bot_click_reads_the_same_in_activities_and_the_cli(
    demo_db: Path, app_factory, settle, capsys: pytest.CaptureFixture[str]
) -> None:
    email_id, email, _, address, at = _bot_click(demo_db)
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.open_activities(email_id)
        await settle(pilot)
        pane = app.main.query_one(ActivitiesPane)
        rows = [r for r in pane.table.cached_rows()
                if r.payload.bot and r.payload.at == at and r.payload.address == address]
        assert rows
        tui_label = rows[0].cells[1]
    cli = _cli_line(capsys, ["activities", email, "--db", str(demo_db)], fmt_time(at), address)
    assert tui_label == "click (bot?)"
    assert re.search(r"\s" + re.escape(tui_label) + r"\s", cli), cli


async def test_a_bot_click_reads_the_same_in_the_contact_timeline_and_the_cli(
    demo_db: Path, app_factory, settle, capsys: pytest.CaptureFixture[str]
) -> None:
    _, email, contact_id, address, at = _bot_click(demo_db)
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.open_contact(contact_id)
        await settle(pilot)
        pane = app.main.query_one(ContactsPane)
        rows = [r for r in pane.timeline_table.cached_rows()
                if r.payload.bot and r.payload.at == at]
        assert rows
        tui_label = rows[0].cells[1]
    cli = _cli_line(capsys, ["contact", address, "--db", str(demo_db)], fmt_time(at), email,
                    "click")
    assert tui_label == "click (bot?)"
    assert re.search(r"\s" + re.escape(tui_label) + r"\s", cli), cli


@pytest.fixture
def undelivered_db(tmp_path: Path) -> Path:
    """One sent email whose every send bounced: nothing delivered, so no open rate."""
    path = tmp_path / "bounced.db"
    store = Store.create(path, token_key=b"k" * 16)
    with store.transaction():
        rec = Recorder(store)
        list_id = rec.ensure_list("News")
        email_id = rec.ensure_email("All bounced", subject="Hello", list_id=list_id,
                                    status="sent", send_at=T0)
        for who in ("ann", "bob"):
            ref = rec.contact(f"{who}@example.com", consent=True, at=T0 - 100)
            assert ref is not None
            rec.send(email_id, ref, T0)
            rec.bounce(email_id, ref, T0 + 5, hard=True)
    store.close()
    return path


async def test_an_empty_rate_reads_the_same_in_emails_and_the_cli(
    undelivered_db: Path, app_factory, settle, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_factory(undelivered_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.main.query_one(EmailsPane)
        table = pane.table
        keys = [c.key.value for c in table.ordered_columns]
        row = table.get_row_at(0)
        tui_open = str(row[keys.index("open_rate")]).strip()
        tui_click = str(row[keys.index("click_rate")]).strip()
    # 2 sent, 2 hard bounces: delivered 0, so open and click rate have no denominator
    assert tui_open == tui_click == "—"
    cli = _cli_line(capsys, ["stats", "--email", "All bounced", "--db", str(undelivered_db)],
                    "open rate")
    assert f"open rate {tui_open} of delivered" in cli
    assert main(["stats", "--email", "All bounced", "--db", str(undelivered_db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["open_rate"] is None and data[0]["click_rate"] is None

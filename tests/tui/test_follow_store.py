"""An open app follows the store: another connection writes, the header, the Emails
list and the open contact change, the cursor stays where it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.store import Recorder, Store
from journeytui.tui.panes.contacts import ContactsPane
from journeytui.tui.panes.emails import EmailsPane
from journeytui.tui.screens import main as main_screen
from journeytui.tui.screens.main import StatusLine


@pytest.fixture(autouse=True)
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main_screen, "WATCH_SECONDS", 0.1)


async def test_a_write_from_another_connection_shows_up_with_the_cursor_kept(
    demo_db: Path, app_factory, settle, wait_until
) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        emails = app.main.query_one(EmailsPane)
        await pilot.press("j", "j")  # the third email
        kept = emails.selected
        assert kept is not None and kept.stats is not None
        sent_before = kept.stats.sent
        total_before = len(emails.rows)
        header_before = str(app.main.query_one("#header").render())

        # another process (here: another connection) imports a new email, and one more
        # send of the highlighted one to a new contact
        store = Store.open(demo_db)
        try:
            with store.transaction():
                rec = Recorder(store)
                new_email = rec.ensure_email("Breaking news", status="sent", send_at=1_790_000_000)
                ref = rec.contact("newcomer@example.com", first_name="New", last_name="Comer",
                                  consent=True, at=1_790_000_000)
                assert ref is not None
                rec.send(new_email, ref, 1_790_000_000)
                rec.send(kept.id, ref, 1_790_000_100)
        finally:
            store.close()

        await wait_until(pilot, lambda: len(emails.rows) == total_before + 1, "the new email")
        await settle(pilot)
        assert emails.selected is not None and emails.selected.id == kept.id  # cursor kept
        assert emails.selected.stats is not None
        assert emails.selected.stats.sent == sent_before + 1
        assert str(app.main.query_one("#header").render()) != header_before
        assert "updated" in str(app.main.query_one(StatusLine).render())
        assert any(e.name == "Breaking news" for e in app.emails)  # the palette knows it too


async def test_the_open_contact_card_follows_the_store(
    demo_db: Path, app_factory, settle, wait_until
) -> None:
    store = Store.open(demo_db)
    try:
        contact_id = store.conn.execute(
            "SELECT id FROM contacts WHERE consent = 1 ORDER BY id LIMIT 1").fetchone()[0]
        address = store.conn.execute(
            "SELECT email FROM contacts WHERE id = ?", (contact_id,)).fetchone()[0]
    finally:
        store.close()
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main.open_contact(contact_id)
        await settle(pilot)
        pane = app.main.query_one(ContactsPane)
        before = pane.timeline_table.row_count
        assert before is not None
        store = Store.open(demo_db)
        try:
            with store.transaction():
                rec = Recorder(store)
                ref = rec.contact(address, consent=True, at=1_790_000_000)
                assert ref is not None
                rec.form(ref, "Pricing request", 1_790_000_000)
        finally:
            store.close()
        await wait_until(pilot, lambda: pane.timeline_table.row_count == before + 1,
                         "the history to show the new activity")

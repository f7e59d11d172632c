"""Keys read in one burst (a quick typist; over SSH, several keys in one packet): a
pane's key and the letters after it — the letters go to the field of the pane it
shows, as they would typed slowly; a digit typed in a field stays in the field."""

from __future__ import annotations

from pathlib import Path

from textual import events

from journeytui.tui.panes.contacts import ContactsPane


def burst(app, keys: str) -> None:  # type: ignore[no-untyped-def]
    """Queue every key at once, as the terminal's reader does with one read."""
    for key in keys:
        app.post_message(events.Key(key, key))


async def test_letters_right_after_a_pane_key_go_to_its_field(
        demo_db: Path, app_factory, settle) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(demo_db, preload_panes=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        contacts = app.main.query_one(ContactsPane)
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        assert contacts.is_mounted and app.main.current == "emails"
        burst(app, "3gra")
        await settle(pilot)
        assert app.main.current == "contacts"
        assert app.focused is contacts.search_field
        assert contacts.search_field.value == "gra"
        # a digit typed in the field is text, not the key of another pane
        burst(app, "1")
        await settle(pilot)
        assert app.main.current == "contacts"
        assert contacts.search_field.value == "gra1"

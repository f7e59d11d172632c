"""Keys that do what they say: one id per concept in every list, Esc in a text field
never switches panes."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from journeytui.tui.panes.contacts import ContactsPane, SearchInput
from journeytui.tui.panes.emails import EmailsPane
from journeytui.tui.widgets.paged_table import PagedTable


async def test_the_readme_keymap_example_is_accepted_and_works_in_every_list(
    demo_db: Path, app_factory, config_dir: Path, settle, until
) -> None:
    (config_dir / "keymap.toml").write_text('"list.down" = "down,j,ctrl+n"\n')
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await until(pilot, lambda: app.main.keymap_checked, "the keymap checked")
        messages = [n.message for n in app._notifications]
        assert not any("keymap.toml" in m for m in messages), messages
        emails = app.main.query_one(EmailsPane)
        assert isinstance(app.focused, DataTable)
        first = emails.table.cursor_row
        await pilot.press("ctrl+n", "ctrl+n")
        assert emails.table.cursor_row == first + 2
        # the same id moves the contacts' matches (a PagedTable) too
        await pilot.press("3")
        await settle(pilot)
        contacts = app.main.query_one(ContactsPane)
        await pilot.press(*"smith")
        await settle(pilot)
        assert len(contacts.matches) >= 2
        await pilot.press("down")  # into the matches
        assert app.focused is contacts.matches_table
        await pilot.press("ctrl+n")
        assert contacts.matches_table.cursor_row == 1


async def test_escape_in_the_search_field_clears_then_leaves_it_in_the_same_pane(
    demo_db: Path, app_factory, settle
) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        contacts = app.main.query_one(ContactsPane)
        assert isinstance(app.focused, SearchInput)
        await pilot.press(*"grace")
        await settle(pilot)
        await pilot.press("escape")  # clears the field
        assert app.main.current == "contacts"
        assert contacts.search_field.value == "" and app.focused is contacts.search_field
        await pilot.press("escape")  # leaves it, for the list: the pane keys work again
        assert app.main.current == "contacts"
        assert isinstance(app.focused, PagedTable)
        await pilot.press("slash")
        assert app.focused is contacts.search_field


async def test_help_and_the_palette_always_show_in_the_key_bar_at_80_columns(
    demo_db: Path, app_factory, settle
) -> None:
    from journeytui.tui.widgets.key_bar import KeyBar

    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for pane in "12345":
            await pilot.press(pane)
            await settle(pilot)
            bar = app.main.query_one(KeyBar)
            text = str(bar.render())
            assert len(text) <= 80
            assert text.rstrip().endswith("? Help  ^p palette"), (pane, text)


async def test_a_rebinding_that_takes_another_keys_place_is_reported(
    demo_db: Path, app_factory, config_dir: Path, settle, until
) -> None:
    # x is Export everywhere; s is the Emails pane's sort picker, r its reverse
    (config_dir / "keymap.toml").write_text('"emails.sort" = "x"\n"emails.reverse" = "R"\n')
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await until(pilot, lambda: app.main.keymap_checked, "the keymap checked")
        messages = [n.message for n in app._notifications]
        clash = '"emails.sort" = "x": x is also Export (export)'
        assert any(clash in m for m in messages), messages
        assert not any("emails.reverse" in m for m in messages)  # R takes nobody's place


def test_a_shell_key_rebound_onto_a_pane_key_is_a_clash() -> None:
    from journeytui.tui.panes.activities import ActivitiesPane  # noqa: F401 (its keys)
    from journeytui.tui.screens.main import MainScreen, keymap_clashes

    clashes = keymap_clashes({"pane.contacts": "c"}, MainScreen)
    assert any('"pane.contacts" = "c": c is also By contact (activities.filter-contact)' in c
               for c in clashes), clashes
    assert keymap_clashes({"pane.contacts": "ctrl+o"}, MainScreen) == []

"""Pilot tests of the keyboard paths: what the panes hold after the keys are pressed."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

from textual.widgets import DataTable, Input

from journeytui.tui.panes.activities import ActivitiesPane
from journeytui.tui.panes.contacts import CardView, ContactsPane
from journeytui.tui.panes.emails import EmailsPane
from journeytui.tui.widgets.paged_table import PagedTable


def q(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def current(app) -> str:  # type: ignore[no-untyped-def]
    return app.main.current


async def sort_emails_by(pilot, settle, key: str) -> None:  # type: ignore[no-untyped-def]
    """s opens the column picker; move to the column *key*; Enter sorts by it."""
    from textual.widgets import OptionList

    from journeytui.tui.screens.journey_pick import PickDialog

    await pilot.press("s")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, PickDialog)
    keys = [k for k, _ in dialog.choices]
    here = dialog.query_one(OptionList).highlighted or 0
    there = keys.index(key)
    await pilot.press(*(["down" if there > here else "up"] * abs(there - here)), "enter")
    await settle(pilot)


async def test_open_email_then_its_activities_then_a_contact(demo_db: Path, app_factory, settle) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        emails = app.main.query_one(EmailsPane)
        assert isinstance(app.focused, DataTable)
        # The most clicked sent email: sort by Clicked (descending) and take the top row.
        await sort_emails_by(pilot, settle, "clicked")
        await pilot.press("g")  # the sort keeps the highlighted email; g goes to the top
        await settle(pilot)
        top = emails.selected
        assert top is not None and top.stats is not None
        (best,) = q(demo_db, "SELECT email_id FROM email_stats ORDER BY clicked DESC LIMIT 1")[0]
        assert top.id == best
        await pilot.press("j", "k")  # down and back up
        assert emails.selected is top
        await pilot.press("enter")
        await settle(pilot)
        assert current(app) == "activities"
        pane = app.main.query_one(ActivitiesPane)
        assert pane.email_id == top.id
        table = pane.query_one(PagedTable)
        (count,) = q(demo_db, "SELECT count(*) FROM activities WHERE email_id = ?", top.id)[0]
        assert count > 0 and table.row_count == count
        first = table.current_row
        assert first is not None
        newest = q(
            demo_db,
            "SELECT contact_id, at FROM activities WHERE email_id = ? ORDER BY at DESC, id DESC"
            " LIMIT 2",
            top.id,
        )
        assert (first.payload.contact_id, first.payload.at) == newest[0]
        await pilot.press("j")
        second = table.current_row
        assert second is not None and second.payload.contact_id == newest[1][0]
        # the gap line names the anonymous clicks
        gap = str(pane.query_one("#activities-gap").render())
        assert f"{top.stats.anonymous_clicks:,} of them anonymous" in gap
        await pilot.press("enter")
        await settle(pilot)
        assert current(app) == "contacts"
        card = app.main.query_one(CardView).card
        assert card is not None and card.id == second.payload.contact_id
        timeline = app.main.query_one("#contacts-timeline", PagedTable)
        (n,) = q(demo_db, "SELECT count(*) FROM activities WHERE contact_id = ?", card.id)[0]
        assert timeline.row_count == n
        # Escape goes back the way we came
        await pilot.press("escape")
        assert current(app) == "activities"
        await pilot.press("escape")
        assert current(app) == "emails"


async def test_contact_search_with_a_typo(demo_db: Path, app_factory, settle) -> None:
    (cid, first, last, address) = q(
        demo_db,
        "SELECT id, first_name, last_name, email FROM contacts"
        " WHERE length(first_name) >= 5 AND length(last_name) >= 5 ORDER BY id LIMIT 1",
    )[0]
    typo = first[0] + first[2] + first[1] + first[3:]  # swap two letters
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        assert isinstance(app.focused, Input)
        await pilot.press(*f"{typo} {last}")
        await settle(pilot)
        pane = app.main.query_one(ContactsPane)
        ids = [m.id for m in pane.matches]
        assert cid in ids[:3], (typo, last, pane.matches[:3])
        # exact address first
        app.focused.value = address  # type: ignore[union-attr]  (same as typing it)
        await settle(pilot)
        assert pane.matches[0].id == cid
        await pilot.press("down")
        assert app.focused is pane.matches_table
        await settle(pilot)
        assert app.main.query_one(CardView).card.address == address  # type: ignore[union-attr]


async def test_sort_and_reverse_keep_sent_first_and_drafts_last(demo_db: Path, app_factory, settle) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.main.query_one(EmailsPane)
        await sort_emails_by(pilot, settle, "sent")
        # sent emails by Sent, descending; then the scheduled ones; drafts last
        groups = [r.status for r in pane.shown]
        assert groups == sorted(groups, key=["sent", "scheduled", "draft"].index)
        sent = [r.stats.sent for r in pane.shown if r.status == "sent" and r.stats]
        assert len(sent) > 1 and sent == sorted(sent, reverse=True)
        assert [r.stats for r in pane.shown if r.status == "draft"] == [None] * groups.count(
            "draft") and groups.count("draft") > 0
        await pilot.press("r")
        sent = [r.stats.sent for r in pane.shown if r.status == "sent" and r.stats]
        assert sent == sorted(sent)
        assert pane.shown[-1].stats is None
        table = pane.query_one(DataTable)
        assert str(table.columns["sent"].label).endswith("▲")


async def test_filter_emails_by_name(demo_db: Path, app_factory, settle) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.main.query_one(EmailsPane)
        total = len(pane.shown)
        await pilot.press("slash", *"newsl")
        names = [r.name for r in pane.shown]
        assert names and len(names) < total
        assert all("newsl" in n.lower() for n in names)
        expected = q(demo_db, "SELECT count(*) FROM emails WHERE name LIKE '%newsl%'")[0][0]
        assert len(names) == expected
        await pilot.press("escape")  # clears and closes the filter
        assert len(pane.shown) == total
        assert isinstance(app.focused, DataTable)


async def test_activities_filter_by_link(demo_db: Path, app_factory, settle) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await sort_emails_by(pilot, settle, "clicked")
        await pilot.press("g", "enter")
        await settle(pilot)
        acts = app.main.query_one(ActivitiesPane)
        assert acts.stats is not None and acts.stats.links
        await pilot.press("l")  # the most clicked link
        await settle(pilot)
        url = acts.stats.links[0].url
        (n,) = q(
            demo_db,
            "SELECT count(*) FROM activities WHERE email_id = ? AND kind = 'click' AND value = ?",
            acts.email_id, url,
        )[0]
        table = acts.query_one(PagedTable)
        assert table.row_count == n
        assert {r.payload.value for r in table.cached_rows()} == {url}


async def test_switch_theme_is_remembered(demo_db: Path, app_factory, config_dir: Path, settle,
                                          until) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "journey-dark"
        await pilot.press("ctrl+p")
        await pilot.press(*"j-light")
        await settle(pilot)  # the palette's search is a worker: its hits are listed
        await pilot.press("enter")  # the palette runs the command after it closes
        await until(pilot, lambda: app.theme == "journey-light", "the theme switched")
    settings = json.loads((config_dir / "settings.json").read_text())
    assert settings["theme"] == "journey-light"
    again = app_factory(demo_db, theme=None)
    assert again.theme == "journey-light"


async def test_export_emails_csv(demo_db: Path, app_factory, tmp_path: Path, settle) -> None:
    target = tmp_path / "out" / "emails.csv"
    target.parent.mkdir()
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        field = app.screen.query_one("#export-path", Input)
        assert field.value.endswith(".csv")
        field.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stored = dict(q(demo_db, "SELECT e.name, s.sent FROM emails e LEFT JOIN email_stats s"
                             " ON s.email_id = e.id"))
    assert len(rows) == len(stored)
    for row in rows:
        if row["status"] == "draft":
            assert row["sent"] == ""
        else:
            assert int(row["sent"]) == stored[row["name"]]


async def test_export_activities_csv_holds_every_row(
    demo_db: Path, app_factory, tmp_path: Path, settle) -> None:
    target = tmp_path / "acts.csv"
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        acts = app.main.query_one(ActivitiesPane)
        await pilot.press("x")
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    (n,) = q(demo_db, "SELECT count(*) FROM activities WHERE email_id = ?", acts.email_id)[0]
    assert rows[0][:3] == ["time_utc", "activity", "contact"]
    assert len(rows) - 1 == n


async def test_help_lists_the_pane_keys(demo_db: Path, app_factory, settle) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        from journeytui.tui.screens.help import HelpScreen, help_rows

        assert isinstance(app.screen, HelpScreen)
        sections = dict(help_rows(app.screen.pane))
        own = {ident for _, _, ident in sections["Emails pane"]}
        assert {"emails.sort", "emails.reverse", "emails.filter", "list.down"} <= own
        everywhere = {ident for _, _, ident in sections["Everywhere"]}
        assert {"pane.contacts", "help", "export", "back", "app.quit"} <= everywhere
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("3", "m", "question_mark")
        sections = dict(help_rows(app.screen.pane))  # type: ignore[attr-defined]
        assert {"list.down", "contacts.history"} <= {i for _, _, i in sections["Contacts pane"]}


async def test_user_keymap_rebinds_a_key(demo_db: Path, app_factory, config_dir: Path, settle) -> None:
    (config_dir / "keymap.toml").write_text(
        '"emails.sort" = "o"\n"pane.contacts" = "c"\n"emails.srot" = "z"\n'
    )
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        from journeytui.tui.screens.journey_pick import PickDialog

        await pilot.press("s")
        await settle(pilot)
        assert not isinstance(app.screen, PickDialog)  # s no longer sorts
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, PickDialog)  # o opens the column picker
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("question_mark")
        from journeytui.tui.screens.help import help_rows

        rows = dict(help_rows(app.screen.pane))["Emails pane"]  # type: ignore[attr-defined]
        assert ("o", "Sort by…", "emails.sort") in rows
        assert "c Contacts" in str(app.main.query_one("#tabs").render())
        await pilot.press("escape", "c")
        assert current(app) == "contacts"
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("emails.srot" in m and "emails.sort" not in m for m in messages), messages


async def test_broken_theme_file_is_named_and_skipped(
    demo_db: Path, app_factory, config_dir: Path, settle) -> None:
    themes = config_dir / "themes"
    themes.mkdir()
    (themes / "broken.toml").write_text('name = "broken"\n[colors]\nprimary = "not-a-colour"\n')
    (themes / "mine.toml").write_text('name = "mine"\n[colors]\nprimary = "#ff0000"\n')
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "mine" in app.available_themes
        assert "broken" not in app.available_themes
        messages = [n.message for n in app._notifications]
        assert any("broken.toml" in m and "primary" in m for m in messages), messages


async def test_too_small_terminal_says_so(demo_db: Path, app_factory, settle, until) -> None:
    app = app_factory(demo_db)
    async with app.run_test(size=(59, 19)) as pilot:  # below the compact layout's 60×20
        await settle(pilot)
        text = app.main.query_one("#too-small-text")
        assert text.display and text.region.width > 0
        assert "needs 60×20" in str(text.render())
        assert app.main.query_one("#panes").region.width == 0
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: app.main.query_one("#panes").region.height > 10,
                    "the panes laid out at 80×24")


async def test_no_color_keeps_the_cursor_and_suits_the_theme(
    demo_db: Path, app_factory, settle, monkeypatch
) -> None:
    from textual.filter import Monochrome, NoColor

    monkeypatch.setenv("NO_COLOR", "1")
    app = app_factory(demo_db, theme="journey-ansi")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert any(isinstance(f, NoColor) for f in app._filters)
        table = app.main.query_one(DataTable)
        assert table.get_component_styles("datatable--cursor").text_style.underline
        app.switch_theme("journey-dark")
        await pilot.pause()
        assert any(isinstance(f, Monochrome) for f in app._filters)
        assert not any(isinstance(f, NoColor) for f in app._filters)


async def test_a_failing_query_is_said_not_shown_as_loading(
    demo_db: Path, app_factory, settle, monkeypatch
) -> None:
    from journeytui.tui.panes import contacts

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(contacts, "search_contacts", broken)
    app = app_factory(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3", "a", "b")
        await settle(pilot)
        assert app.status_text() == "Ready"
        messages = [n.message for n in app._notifications]
        assert any("disk on fire" in m for m in messages), messages


def test_csv_cells_cannot_become_formulas() -> None:
    from journeytui.textsafe import csv_cell

    assert csv_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert csv_cell("+1") == "'+1" and csv_cell("@a") == "'@a"
    assert csv_cell("plain") == "plain" and csv_cell(12) == 12 and csv_cell(None) == ""

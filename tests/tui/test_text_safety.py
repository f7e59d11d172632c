"""Data is shown as text: markup in a subject, name or URL is shown literally, and an
escape sequence is made visible instead of reaching the terminal."""

from __future__ import annotations

from pathlib import Path

from journeytui.tui.panes.contacts import CardView

ESC = "\x1b"


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    )


async def test_emails_activities_contact_and_palette_show_data_literally(
    nasty_db: Path, app_factory, settle
) -> None:
    app = app_factory(nasty_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "[bold]Boom[/] \\x1b[31mred\\x1b[0m" in text  # name, in the list and detail
        assert "Hi [/] there [link=https://evil.example]x[/link]" in text  # subject
        assert ESC not in text
        await pilot.press("enter")  # its activities
        await settle(pilot)
        text = screen_text(app)
        assert "[b]Mallory[/b] \\x1b[2JWipe" in text
        assert "https://evil.example/[red]?q=\\x1b]0;pwned\\x07" in text
        assert ESC not in text and "\x07" not in text
        await pilot.press("enter")  # the contact
        await settle(pilot)
        card = app.main.query_one(CardView)
        assert card.card is not None and card.card.first_name == "[b]Mallory[/b]"
        text = screen_text(app)
        assert "[b]Mallory[/b] \\x1b[2JWipe <mallory@example.com>" in text
        assert "News [i]letter[/i]: subscribed" in text
        assert ESC not in text
        await pilot.press("ctrl+p", *"Boom")
        await settle(pilot)  # the palette's search is a worker: its hits are listed
        text = screen_text(app)
        assert "Email: [bold]Boom[/] \\x1b[31mred\\x1b[0m" in text
        assert ESC not in text


async def test_search_field_text_is_not_markup(nasty_db: Path, app_factory, settle) -> None:
    app = app_factory(nasty_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3", *"[b]x")
        await settle(pilot)
        text = screen_text(app)
        assert "No contact matches “[b]x”." in text

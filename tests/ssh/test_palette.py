"""The command palette over SSH: the app's own commands and themes, no file writer.

The attack these guard against: Textual's stock "Screenshot" command wrote an SVG
into the server user's ``~/Downloads`` on every use (no limit, so a disk filler),
and the palette offered Textual's ~20 stock themes and commands the app does not
support.

Over SSH, :func:`check_the_theme_picker` runs in the whole-session test of
tests/ssh/test_real_app.py (which also checks that nothing lands in the operator's
home): a real app started for it alone would cost more than anything else here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.export_target import EXPORT_DIR_ENV, SSH_ENV, ExportRefused
from journeytui.store import Store

STOCK_THEMES = ("textual-dark", "dracula", "nord", "gruvbox", "monokai", "tokyo-night")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ssh-palette") / "journeys.db"
    from journeytui.demo import generate

    generate(path, contacts=60, journeys=False)
    Store.open(path).close()
    return path


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


async def check_the_theme_picker(term) -> None:  # type: ignore[no-untyped-def]
    """In a real app over SSH (a terminal at least 50 rows tall, so that the picker's
    whole list shows): Textual's theme picker lists the app's themes only."""

    async def search(query: str, predicate, what: str) -> str:  # type: ignore[no-untyped-def]
        """Open the palette afresh, type *query*, wait for its results."""
        term.press("\x10")  # ctrl+p
        await term.wait_text("Search for commands")
        term.press(query)
        return await term.wait_for(lambda t: f"🔎 {query}" in t and predicate(t), what)

    async def close_palette() -> None:
        term.press("\x1b")
        await term.wait_for(lambda t: "🔎" not in t, "the palette to close")

    # (which stock commands are gone is checked in-process below: over SSH the order in
    # which the palette's providers answer varies, so the discovery list is not read)

    text = await search(
        "Theme", lambda t: "Go to Emails" not in t and "Pick one of journeytui's" in t,
        "the search for Theme",
    )
    assert text.index("Pick one of journeytui's themes") < text.index("Theme: journey-")
    term.press("\r")
    text = await term.wait_text("Search for themes")
    text = await term.wait_text("journey-light")
    assert not any(name in text for name in STOCK_THEMES), text
    await close_palette()


async def test_a_screenshot_in_a_session_is_a_new_file_in_its_export_folder(
    tmp_path, demo_db, monkeypatch, settle
) -> None:
    """Even called directly (an action, a binding), a screenshot obeys the export rule."""
    from journeytui.tui.app import make_app

    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setenv(SSH_ENV, "1")
    monkeypatch.setenv(EXPORT_DIR_ENV, str(exports))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    app = make_app(demo_db, theme="journey-dark", config_dir=tmp_path / "config", blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)  # started: the first pane mounted and its rows read
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for stock in ("Screenshot", "Keys", "Maximize", "Minimize"):
            assert stock not in titles, titles
        first = app.save_screenshot(path=str(tmp_path / "home"))
        second = app.deliver_screenshot()
        assert Path(first) == exports / "screenshot-1.svg"
        assert Path(second or "") == exports / "screenshot-2.svg"
        assert Path(first).read_text().startswith("<svg")
        for name in ("../escape.svg", "/tmp/x.svg", "screenshot-1.svg"):
            with pytest.raises(ExportRefused):
                app.save_screenshot(name)
        app.action_screenshot(str(tmp_path / "elsewhere.svg"))  # refused, said, no crash
        assert app.deliver_text("x.txt") is None  # Textual's other writer: refused
    assert tree(tmp_path) - {"config", "exports", "exports/screenshot-1.svg",
                              "exports/screenshot-2.svg"} <= {
        p for p in tree(tmp_path) if p.startswith("config")
    }
    assert not (tmp_path / "home").exists()
    assert set(app.available_themes) == {"journey-ansi", "journey-dark", "journey-light"}

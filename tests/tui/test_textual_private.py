"""The private Textual APIs the app touches (tui/_textual_private.py) exist in the pinned
Textual, and nothing else in the app reaches into Textual's private attributes."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.widgets import Static

import journeytui.tui as tui
from journeytui.tui import _textual_private as private


async def test_each_private_api_answers() -> None:
    class Probe(App[None]):
        BINDINGS = [Binding("x", "bell", "Bell", id="probe.bell")]

        def compose(self):  # type: ignore[no-untyped-def]
            yield Static("probe")

    app = Probe()
    async with app.run_test():
        app.set_keymap({"probe.bell": "y"})
        assert isinstance(private.bindings_of(app), BindingsMap)
        assert "x" in private.bindings_of(app).key_to_bindings
        assert private.keymap_of(app) == {"probe.bell": "y"}
        filters = private.line_filters(app)
        assert isinstance(filters, list) and filters is private.line_filters(app)
        private.refresh_ansi_filter(app)  # raises if Textual dropped it


def test_no_other_module_reaches_into_textual_privates() -> None:
    """Names of Textual's private attributes the app once used, outside the one module."""
    pattern = re.compile(r"\._(bindings|keymap|filters|refresh_truecolor_filter)\b")
    root = Path(tui.__file__).parent
    offenders = [
        f"{p.relative_to(root)}:{n}"
        for p in root.rglob("*.py") if p.name != "_textual_private.py"
        for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)
    ]
    assert offenders == []

"""The Journeys (funnel) pane — to be built in issue 5; for now it says so."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from journeytui.tui.panes.base import Pane


class JourneysPane(Pane):
    PANE_ID = "journeys"
    TITLE = "Journeys"
    KEY = "4"
    SUMMARY = "The stage-by-stage funnel of each journey."

    def compose(self) -> ComposeResult:
        yield Static(
            "No journeys pane yet.\n\n"
            "The funnel of each journey (reached, current, conversion, drop-off per stage)\n"
            "will be shown here. Meanwhile: `journeytui journey --help` on the command line.",
            classes="placeholder",
            markup=False,
        )

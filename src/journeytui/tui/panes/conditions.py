"""The Conditions (editor) pane — to be built in issue 5; for now it says so."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from journeytui.tui.panes.base import Pane


class ConditionsPane(Pane):
    PANE_ID = "conditions"
    TITLE = "Conditions"
    KEY = "5"
    SUMMARY = "The transition conditions of a journey, edited in place."

    def compose(self) -> ComposeResult:
        yield Static(
            "No conditions editor yet.\n\n"
            "Editing the transition conditions of a journey's stages will happen here.",
            classes="placeholder",
            markup=False,
        )

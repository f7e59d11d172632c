"""The panes, in tab order.

A pane is one module with one :class:`~journeytui.tui.panes.base.Pane` subclass;
adding a :class:`PaneSpec` for it to :data:`PANES` gives it its key, its tab, its
palette commands and its help entries.  The spec names the class as
``"module:Class"`` so the shell imports a pane module only when it needs the pane:
the first pane at start-up, the others in the background after the first paint
(some import heavy domain code).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from journeytui.tui.panes.base import Pane


@dataclass(frozen=True)
class PaneSpec:
    pane_id: str  # the widget id, and the pane's PANE_ID
    title: str
    key: str  # the key that shows it (rebindable: binding id "pane.<pane_id>")
    target: str  # "module:Class"

    def load(self) -> type[Pane]:
        module, _, name = self.target.partition(":")
        cls: type[Pane] = getattr(importlib.import_module(module), name)
        if cls.PANE_ID != self.pane_id:
            raise RuntimeError(f"{self.target}: PANE_ID {cls.PANE_ID!r} != {self.pane_id!r}")
        return cls


PANES: list[PaneSpec] = [
    PaneSpec("emails", "Emails", "1", "journeytui.tui.panes.emails:EmailsPane"),
    PaneSpec("activities", "Activities", "2", "journeytui.tui.panes.activities:ActivitiesPane"),
    PaneSpec("contacts", "Contacts", "3", "journeytui.tui.panes.contacts:ContactsPane"),
    PaneSpec("journeys", "Journeys", "4", "journeytui.tui.panes.journeys:JourneysPane"),
    PaneSpec("conditions", "Conditions", "5", "journeytui.tui.panes.conditions:ConditionsPane"),
    PaneSpec("insights", "Insights", "6", "journeytui.tui.panes.insights:InsightsPane"),
]


def spec(pane_id: str) -> PaneSpec:
    return next(s for s in PANES if s.pane_id == pane_id)


__all__ = ["PANES", "PaneSpec", "spec"]

"""The panes, in tab order.  A pane is one module with one :class:`Pane` subclass;
adding it to :data:`PANES` gives it its key, its tab, its palette commands and its
help entries."""

from __future__ import annotations

from journeytui.tui.panes.activities import ActivitiesPane
from journeytui.tui.panes.base import Pane
from journeytui.tui.panes.conditions import ConditionsPane
from journeytui.tui.panes.contacts import ContactsPane
from journeytui.tui.panes.emails import EmailsPane
from journeytui.tui.panes.journeys import JourneysPane

PANES: list[type[Pane]] = [
    EmailsPane,
    ActivitiesPane,
    ContactsPane,
    JourneysPane,
    ConditionsPane,
]

__all__ = ["PANES", "Pane"]

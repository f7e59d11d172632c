"""The command-palette provider: global commands plus those of the current pane.

Command names can hold data (email subjects, contact names), so they are shown as
literal ``Content`` with the fuzzy-match letters highlighted by hand — Textual's
``Matcher.highlight`` would parse them as markup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from journeytui.tui.panes import PANES
from journeytui.tui.panes.base import PaletteCommand
from journeytui.tui.text import clean

if TYPE_CHECKING:
    from journeytui.tui.app import JourneyApp
    from journeytui.tui.screens.main import MainScreen


class PaneCommands(Provider):
    @property
    def japp(self) -> JourneyApp:
        return self.app  # type: ignore[return-value]

    def _main(self) -> MainScreen | None:
        try:
            return self.japp.main
        except (LookupError, AttributeError):
            return None

    def _commands(self) -> list[PaletteCommand]:
        main = self._main()
        if main is None:
            return []
        commands = [
            PaletteCommand(
                f"Go to {pane.title}", f"show the {pane.title} pane (key {pane.key})",
                partial(main.show_pane, pane.pane_id),
            )
            for pane in PANES
        ]
        commands.append(
            PaletteCommand("Export CSV", "write the current list to a CSV file (key x)",
                           main.action_export)
        )
        commands.append(PaletteCommand("Help", "every key of this pane (key ?)", main.action_help))
        for name in sorted(self.japp.journey_themes):
            commands.append(
                PaletteCommand(f"Theme: {name}", "switch theme (remembered)",
                               partial(self.japp.switch_theme, name))
            )
        for email in self.japp.emails:
            commands.append(
                PaletteCommand(f"Email: {email.name}", f"{email.status} · open its statistics",
                               partial(main.open_email, email.id))
            )
            if email.status != "draft":
                commands.append(
                    PaletteCommand(f"Who clicked in {email.name}",
                                   "the contacts who clicked (c then filters by name)",
                                   partial(main.open_clicks, email.id))
                )
        commands.extend(main.pane.palette_commands())
        return commands

    def _contacts(self, query: str) -> list[PaletteCommand]:
        """Contacts matching *query* (runs in a thread: never on the event loop)."""
        main = self._main()
        if main is None:
            return []
        from journeytui.domain.contacts import search_contacts

        with self.japp.pool.store() as store:
            matches = search_contacts(store, query, limit=8)
        return [
            PaletteCommand(f"Contact: {m.name or '(no name)'} <{m.address}>",
                           "open the contact's card and history",
                           partial(main.open_contact, m.id))
            for m in matches
        ]

    def _display(self, name: str, query: str | None) -> Content:
        text = clean(name)
        content = Content(text)
        if query:
            matcher = self.matcher(query)
            score, offsets = matcher.fuzzy_search.match(query, text)
            if score:
                for offset in offsets:
                    if not text[offset].isspace():
                        content = content.stylize(matcher.match_style, offset, offset + 1)
        return content

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(
                self._display(command.name, None), command.callback,
                text=clean(command.name), help=escape(clean(command.help)),
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        commands: Iterable[PaletteCommand] = self._commands()
        for command in commands:
            score = matcher.match(clean(command.name))
            if score > 0:
                yield Hit(
                    score, self._display(command.name, query), command.callback,
                    text=clean(command.name), help=escape(clean(command.help)),
                )
        main = self._main()
        if main is None:
            return
        found: list[PaletteCommand] = []
        if len(query.strip()) >= 2:
            found.extend(await asyncio.to_thread(self._contacts, query))
        found.extend(await main.pane.palette_search(query))
        for rank, command in enumerate(found):
            yield Hit(
                max(0.05, 0.9 - rank * 0.01), self._display(command.name, query),
                command.callback, text=clean(command.name), help=escape(clean(command.help)),
            )

"""Every private Textual API the app touches, in one place.

Textual is pinned exactly (pyproject.toml); before moving the pin, check each
function here against the new release (``tests/tui/test_textual_private.py`` fails
when one of them is gone).  Nothing else in the app reaches into Textual's private
attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App
    from textual.binding import BindingsMap, Keymap
    from textual.dom import DOMNode
    from textual.filter import LineFilter

__all__ = ["bindings_of", "keymap_of", "line_filters", "refresh_ansi_filter"]


def bindings_of(node: DOMNode) -> BindingsMap:
    """The bindings *node* declares, as Textual keeps them (before the keymap)."""
    return node._bindings


def keymap_of(app: App[Any]) -> Keymap:
    """The keymap in force (binding id → keys), as set by ``App.set_keymap``."""
    return getattr(app, "_keymap", {})


def refresh_ansi_filter(app: App[Any]) -> None:
    """Re-pick the ANSI colour filter for the current theme (what Textual's own theme
    watcher does; needed when the theme is set without it)."""
    app._refresh_truecolor_filter(app.ansi_theme)


def line_filters(app: App[Any]) -> list[LineFilter]:
    """The app's line filters (e.g. NO_COLOR's): the list itself, to change in place."""
    return app._filters

"""Text from data (names, subjects, URLs) shown safely in the TUI.

Data is never markup: it goes into ``rich.text.Text`` / ``Content`` objects, never
into a markup string.  Control and format characters (ESC, BEL, bidi overrides,
zero-width characters, …) are made visible by :func:`journeytui.textsafe.safe_text`,
the one cleaner of the whole app (``clean`` *is* that function), so a value can
neither start a terminal escape sequence, move the cursor nor reorder what is shown.
"""

from __future__ import annotations

from rich.text import Text

from journeytui.textsafe import safe_text

clean = safe_text  # one line, every control and format character made visible


def plain(value: object, style: str = "") -> Text:
    """A ``Text`` holding *value* literally (never parsed as markup)."""
    return Text(clean(value), style=style, no_wrap=True, end="")

"""Text from data (names, subjects, URLs) shown safely in the TUI.

Data is never markup: it goes into ``rich.text.Text`` / ``Content`` objects, never
into a markup string.  Control characters (ESC, BEL, …) are made visible as ``\\xNN``
by :func:`journeytui.textsafe.safe_text`, so a value can neither start a terminal
escape sequence nor move the cursor.
"""

from __future__ import annotations

from rich.text import Text

from journeytui.textsafe import safe_text


def clean(value: object) -> str:
    """*value* as one line with every control character made visible."""
    return safe_text(value)


def plain(value: object, style: str = "") -> Text:
    """A ``Text`` holding *value* literally (never parsed as markup)."""
    return Text(clean(value), style=style, no_wrap=True, end="")

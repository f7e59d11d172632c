"""Data shown as text: control characters made visible, never sent to the terminal.

Names, subjects and URLs come from outside (imports, providers).  An ESC or other
control character in them must never reach the terminal, where it could move the
cursor, change colours or retitle the window.  :func:`safe_text` replaces every C0/C1
control character (and DEL) with a visible ``\\xNN`` escape; tabs and newlines become
spaces.  It does not deal with markup: the TUI shows data through ``Text``/``Content``
objects, never through markup strings.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACE_LIKE = {"\t", "\n", "\r"}


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    return " " if ch in _SPACE_LIKE else f"\\x{ord(ch):02x}"


def safe_text(value: object) -> str:
    """*value* as a single line of text with control characters made visible."""
    if value is None:
        return ""
    return _CONTROL.sub(_visible, str(value))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell that is safe to open in a spreadsheet and to ``cat`` in a terminal.

    Text starting with ``= + - @``, a tab or a carriage return gets a leading ``'``
    (so it is never read as a formula), and C0/C1 control characters are made
    visible as in :func:`safe_text` (no raw ESC, BEL or OSC reaches a file that a
    terminal may show).  ``None`` is an empty cell; numbers stay numbers.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    guarded = "'" + value if value.startswith(_FORMULA_START) else value
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", guarded)

"""Data shown as text: control and format characters made visible, never sent raw.

Names, subjects and URLs come from outside (imports, providers, SSH clients).  An ESC
or other control character in them must never reach the terminal, where it could
move the cursor, change colours or retitle the window; a bidi override (U+202E) or
a zero-width character must not make ``abc\\u202egpj.exe`` read as ``abcexe.jpg``.

:func:`safe_text` is the one function that makes data text safe for the terminal
(the CLI, the TUI, the importers' messages and the SSH server's log all use it).  It
replaces

* every C0/C1 control character and DEL with a visible ``\\xNN`` (tab, newline and
  carriage return become spaces: the text is one line);
* every format character (Unicode category Cf: the bidi embeddings, overrides and
  isolates U+202A–U+202E and U+2066–U+2069, the marks U+200E/U+200F/U+061C, the
  zero-width U+200B–U+200D, U+2060–U+2064 and U+FEFF, soft hyphen, tags, …), the
  line and paragraph separators U+2028/U+2029 and lone surrogates with ``\\uNNNN``
  (``\\UNNNNNNNN`` above U+FFFF).

It does not deal with markup: the TUI shows data through ``Text``/``Content``
objects, never through markup strings.  (A side effect worth knowing: an emoji
sequence joined by U+200D shows its parts with ``\\u200d`` between them.)
"""

from __future__ import annotations

import re

# Every code point of category Cf (Unicode 15, the data of Python 3.11's
# unicodedata; a test checks this list against unicodedata), plus U+2028/U+2029
# (Zl/Zp: line breaks to a terminal) and the surrogates (Cs: unencodable alone).
_FORMAT_RANGES = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_UNSAFE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_FORMAT_RANGES}\\ud800-\\udfff]")
_SPACE_LIKE = {"\t", "\n", "\r"}


def escape_char(ch: str) -> str:
    """The visible form of one unsafe character: ``\\x1b``, ``\\u202e``, ``\\U000e0041``."""
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    return " " if ch in _SPACE_LIKE else escape_char(ch)


def safe_text(value: object, limit: int | None = None) -> str:
    """*value* as a single line of text with control and format characters made visible.

    ``None`` is the empty string.  With *limit*, text longer than that is cut to
    ``limit - 1`` characters and an ellipsis (after escaping, so an escape is never
    cut in a way that leaves a raw character).
    """
    if value is None:
        return ""
    text = str(value)
    if _UNSAFE.search(text) is not None:
        text = _UNSAFE.sub(_visible, text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell that is safe to open in a spreadsheet and to ``cat`` in a terminal.

    Text starting with ``= + - @``, a tab or a carriage return gets a leading ``'``
    (so it is never read as a formula), and control and format characters are made
    visible as in :func:`safe_text` (no raw ESC, BEL, OSC or bidi override reaches a
    file that a terminal or a spreadsheet may show; tabs and newlines inside a cell
    are escaped too, so one row stays one line).  ``None`` is an empty cell; numbers
    stay numbers.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    guarded = "'" + value if value.startswith(_FORMULA_START) else value
    return _UNSAFE.sub(lambda m: escape_char(m.group(0)), guarded)

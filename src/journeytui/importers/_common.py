"""Helpers shared by the importers: reading files with clear errors, address checks."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from journeytui.errors import UserError

# Deliberately simple: one @, no spaces, a dot in the domain.  Providers validate
# addresses properly; this only catches columns mixed up and obvious typos.
_ADDRESS = re.compile(
    r"^[^@\s,;<>\"\x00-\x1f\x7f]+@[^@\s,;<>\"\x00-\x1f\x7f]+\.[^@\s,;<>\".\x00-\x1f\x7f]+$"
)


def is_address(value: str) -> bool:
    return bool(_ADDRESS.match(value.strip()))


#: The path that means standard input.
STDIN = "-"
STDIN_NAME = "<stdin>"


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """The whole file as text (UTF-8, BOM dropped), or a UserError naming the file.

    ``-`` reads standard input (named ``<stdin>`` in messages)."""
    if str(path) == STDIN:
        data = sys.stdin.buffer.read()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise UserError(
                f"{STDIN_NAME}: line {line}: not UTF-8 text (byte {exc.start}); send UTF-8. "
                "Nothing was imported."
            ) from None
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{p}: is a directory, not {what}; nothing was imported")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{p}: no such file; nothing was imported") from None
    except OSError as exc:
        raise UserError(f"{p}: cannot read ({exc.strerror}); nothing was imported") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UserError(
            f"{p}: line {line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8. "
            "Nothing was imported."
        ) from None

"""Rows of a CSV, TSV, JSON or newline-delimited JSON file, with their line numbers.

The format is sniffed with :func:`sqlite_utils.utils.rows_from_file` (CSV against TSV
by its dialect sniffer; a whole JSON array or object is read by it too).  Lines are
counted here (rows_from_file does not say them), and a header's duplicate names are
kept (Mailchimp's unsubscribed export repeats some), so rows are lists of cells in the
header's order.  Control characters (NUL …) in a cell are refused with line and field.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils.utils import Format, rows_from_file

from journeytui.errors import UserError
from journeytui.importers._common import STDIN, STDIN_NAME, read_text
from journeytui.importers._report import ERRORS_LISTED, printable
from journeytui.textsafe import escape_char

# NUL and the other control characters but tab and line breaks
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass
class Table:
    name: str
    format: str  # "CSV", "TSV", "JSON", "NDJSON"
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, cells)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _objects(name: str, fmt: str, items: list[tuple[int, Any]]) -> Table:
    header: list[str] = []
    for line, obj in items:
        if not isinstance(obj, dict):
            raise UserError(f"{name}: line {line}: not a JSON object (one record per object "
                            "expected). Nothing was imported.")
        for k in obj:
            if k not in header:
                header.append(k)
    table = Table(name, fmt, header)
    for line, obj in items:
        table.rows.append((line, [_cell(obj.get(k)) for k in header]))
    return table


def read_table(path: str | os.PathLike[str], what: str) -> Table:
    """Every row of the file (header first); UserError naming file and line for a file
    that is not what it claims."""
    name = STDIN_NAME if str(path) == STDIN else str(path)
    return table_from_text(name, read_text(path, what))


def table_from_text(name: str, text: str) -> Table:
    """The rows of *text* (named *name* in messages); see :func:`read_table`."""
    head = text.lstrip()
    if not head:
        raise UserError(f"{name}: the file is empty. Nothing was imported.")
    if head[0] in "[{":
        lead = text[: len(text) - len(head)].count("\n") + 1
        try:
            rows, _ = rows_from_file(io.BytesIO(text.encode()), format=Format.JSON)
            return _objects(name, "JSON", [(lead, r) for r in rows])
        except (ValueError, RecursionError):
            pass  # not one JSON document: one object per line?
        items: list[tuple[int, Any]] = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((n, json.loads(line)))
            except (ValueError, RecursionError) as exc:
                raise UserError(
                    f"{name}: line {n}: not JSON ({printable(str(exc), 60)}); expected a JSON "
                    "array of objects or one object per line. Nothing was imported."
                ) from None
        return _objects(name, "NDJSON", items)
    try:
        _, fmt = rows_from_file(io.BytesIO(text[:8192].encode()))
        delimiter = "\t" if fmt == Format.TSV else ","
    except csv.Error:  # one column: nothing to sniff
        delimiter = ","
    if delimiter == "," and "\t" in text.split("\n", 1)[0] and "," not in text.split("\n", 1)[0]:
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            raise UserError(f"{name}: the file is empty. Nothing was imported.")
        table = Table(name, "TSV" if delimiter == "\t" else "CSV", [h.strip() for h in header])
        start: int = reader.line_num + 1
        for cells in reader:
            row_line = start
            start = reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            table.rows.append((row_line, cells))
    except csv.Error as exc:
        raise UserError(
            f"{name}: line {reader.line_num}: not valid CSV ({exc}). Nothing was imported."
        ) from None
    return table


class Problems:
    """Bad lines of a file: all are listed (the first 20) and the file is refused."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.count = 0

    def bad(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.lines) < ERRORS_LISTED:
            self.lines.append(f"line {line}: {message}")

    def controls(self, line: int, fields: list[tuple[str, str]]) -> bool:
        """Refuse control characters in the named cells; True if there were any."""
        found = False
        for col, value in fields:
            m = _CONTROL.search(value)
            if m:
                ch = m.group(0)
                what = "a NUL character" if ch == "\x00" else "a control character"
                self.bad(line, f"field '{printable(col, 40)}' holds {what} ({escape_char(ch)}); "
                         "remove it (a binary or damaged file?)")
                found = True
        return found

    def raise_if_any(self) -> None:
        if not self.count:
            return
        more = f"\n  … and {self.count - len(self.lines)} more" if self.count > len(self.lines) else ""
        noun = "problem" if self.count == 1 else "problems"
        listed = "\n  ".join(self.lines)
        raise UserError(
            f"{self.name}: {self.count} {noun}; nothing was imported. Fix them and import "
            f"again:\n  {listed}{more}"
        )

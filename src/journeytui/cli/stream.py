"""Output written as it is read: JSON and text tables of any length in constant memory.

:func:`write_json` writes what ``print_json`` writes, byte for byte, but a list in it
may be any iterable (a generator over a cursor), written item by item.
:func:`write_table` writes a plain text table like ``output.table``; the columns are
as wide as the first :data:`SAMPLE` rows (and the headers) need, then each row is
written as it comes (a longer cell further down widens only its own line).
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from journeytui.textsafe import safe_text

SAMPLE = 1_000

_dumps = json.JSONEncoder(ensure_ascii=True, indent=2).encode


def _streamed(value: Any) -> bool:
    return isinstance(value, Iterator) or (
        isinstance(value, dict) and any(_streamed(v) for v in value.values()))


def _write(value: Any, level: int, write: Any) -> None:
    pad = "  " * level
    if isinstance(value, Iterator):
        first = True
        inner = pad + "  "
        for item in value:
            write(("[\n" if first else ",\n") + inner)
            if _streamed(item):
                _write(item, level + 1, write)
            else:
                write(_dumps(item).replace("\n", "\n" + inner))
            first = False
        write("[]" if first else "\n" + pad + "]")
    elif isinstance(value, dict) and _streamed(value):
        inner = pad + "  "
        items = list(value.items())
        write("{" if items else "{}")
        for k, (key, v) in enumerate(items):
            write(("\n" if k == 0 else ",\n") + inner + json.dumps(str(key)) + ": ")
            _write(v, level + 1, write)
        if items:
            write("\n" + pad + "}")
    else:
        write(_dumps(value).replace("\n", "\n" + pad))


def write_json(data: Any, out: IO[str] | None = None) -> None:
    """*data* as indented ASCII JSON; iterators in it (not lists) are streamed."""
    stream = out if out is not None else sys.stdout
    _write(data, 0, stream.write)
    stream.write("\n")


def write_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], right: set[int],
    out: IO[str] | None = None,
) -> int:
    """A plain text table written as *rows* come; every cell made safe for the
    terminal, None shown as "—".  Returns how many rows were written."""
    stream = out if out is not None else sys.stdout
    it = iter(rows)
    sample = [_cells(r) for r in itertools.islice(it, SAMPLE)]
    widths = [len(h) for h in headers]
    for r in sample:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip() + "\n"

    stream.write(line(list(headers)))
    stream.write(line(["-" * w for w in widths]))
    n = 0
    for r in itertools.chain(sample, (_cells(r) for r in it)):
        stream.write(line(r))
        n += 1
    return n


def _cells(row: Sequence[object]) -> list[str]:
    return ["—" if c is None else safe_text(c) for c in row]

"""Output written as it is read: JSON and text tables of any length in constant memory.

:func:`write_json` writes what ``print_json`` writes, byte for byte, but a list in it
may be any iterable (a generator over a cursor), written item by item.
:func:`write_table` writes a plain text table like ``output.table``; the columns are
as wide as the first :data:`SAMPLE` rows (and the headers) need, then each row is
written as it comes (a longer cell further down widens only its own line).
For long lists, per row only what a row needs: a table's line is one precomputed
format and its cells are checked for characters to make visible once per chunk of
:data:`CHUNK` rows (most chunks have none); a JSON list given as :class:`Encoded`
holds items already encoded.  Both write a chunk at a time (fewer, larger writes).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, Protocol

from journeytui.domain.in_stage import PerKey
from journeytui.textsafe import safe_text

SAMPLE = 1_000
CHUNK = 1_000

_dumps = json.JSONEncoder(ensure_ascii=True, indent=2).encode
#: A string as JSON, as ``_dumps`` writes it (ASCII, escaped).
json_str = json.encoder.encode_basestring_ascii


class Encoded:
    """A list for :func:`write_json` whose items come already encoded as JSON, as
    ``_dumps`` (indent 2, ASCII) would write each at the top level: no encoder runs
    per item (for a long list of flat records built from a template).

    *level*: the items' inner lines are indented already for a list at that level
    of the document (2 spaces a level, plus 2 for the list's items), so the list is
    written as it comes; it must then be written at that level.

    *chunks*: *items* gives lists of items (a chunk of rows each, as they were read:
    no generator step per item).

    *joined* (with *level*): *items* gives text, any number of items each preceded
    by the list's separator at that level (``",\n"`` and the items' indent), cut
    anywhere after the first separator (the text of a list written in parts)."""

    def __init__(self, items: Iterable[Any], *, level: int | None = None,
                 chunks: bool = False, joined: bool = False) -> None:
        self.chunks: Iterator[Any] = (
            (c for c in items if c) if chunks or joined else _in_chunks(iter(items)))
        self.level = level
        self.joined = joined


def _in_chunks(items: Iterator[str]) -> Iterator[list[str]]:
    while chunk := list(itertools.islice(items, CHUNK)):
        yield chunk


def _streamed(value: Any) -> bool:
    return isinstance(value, Iterator | Encoded) or (
        isinstance(value, dict) and any(_streamed(v) for v in value.values()))


def _write(value: Any, level: int, write: Any) -> None:
    pad = "  " * level
    if isinstance(value, Encoded):
        inner = pad + "  "
        nl = "\n" + inner
        if value.level is not None and value.level != level:
            raise ValueError(f"items indented for level {value.level} written at {level}")
        sep = "," + nl
        start = "[" + nl
        for chunk in value.chunks:
            if value.joined:
                write(chunk if start == sep else start + chunk[len(sep):])
            elif value.level is None:  # items as they stand at the top level: indented here
                write(start + ",\n".join(chunk).replace("\n", nl))
            else:
                write(start + sep.join(chunk))
            start = sep
        write("[]" if start != sep else "\n" + pad + "]")
    elif isinstance(value, Iterator):
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


class Writes(Protocol):
    """Something text is written to (a text stream, or a wrapper of one)."""

    def write(self, text: Any, /) -> Any: ...


def write_json(data: Any, out: Writes | None = None) -> None:
    """*data* as indented ASCII JSON; iterators in it (not lists) are streamed."""
    stream = out if out is not None else sys.stdout
    _write(data, 0, stream.write)
    stream.write("\n")


def write_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], right: set[int],
    out: IO[str] | None = None, *, texts: bool = False,
    tail: Callable[[Any], Sequence[str]] | None = None, strip: int | None = None,
) -> int:
    """A plain text table written as *rows* come (:func:`table_text`); returns how
    many rows were written."""
    stream = out if out is not None else sys.stdout
    count = [0]
    for text in table_text(headers, rows, right, texts=texts, tail=tail, strip=strip,
                           count=count):
        stream.write(text)
    return count[0]


def table_text(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], right: set[int], *,
    texts: bool = False, tail: Callable[[Any], Sequence[str]] | None = None,
    strip: int | None = None, count: list[int] | None = None,
    sizing: Iterable[Sequence[Any]] | None = None,
) -> Iterator[str]:
    """The text of a plain text table of *rows*, a chunk of lines at a time as the
    rows come; every cell made safe for the terminal, None shown as "—".
    ``count[0]`` grows by the rows of each chunk.

    *texts*: every cell of every row is a str already (never None): after the
    sample, a chunk's lines are formatted straight from its rows and looked at once
    for characters to make visible (the cells are converted only in a chunk that has
    one) — the same lines, for less work a row.

    *tail* (with *texts*): a row is its first cells and a key (its last item); its
    last cells are ``tail(key)`` — for a list whose last columns all follow from one
    value (a time: its text, the days since, stalled or not), made and formatted
    once per distinct key.

    *strip* (with *tail*): the index of a first cell that comes unstripped; it is
    written ``str.strip()``-ed (a C call a row, cheaper than SQLite's trim).

    *sizing*: *rows* are a later part of a table whose first rows these are (at
    least :data:`SAMPLE` of them, or all): the columns are sized by them, and only
    the lines of *rows* are given (no headers) — the same lines as in the whole
    table."""
    n = count if count is not None else [0]
    it = iter(rows)
    first = it if sizing is None else iter(sizing)
    if tail is not None:
        tails = PerKey(tail)

        def whole(part: Iterable[Sequence[Any]]) -> list[list[str]]:
            return _cells([(*_stripped(r[:-1], strip), *tails[r[-1]]) for r in part])

        sample = whole(itertools.islice(first, SAMPLE))
    else:
        sample = _cells(list(itertools.islice(first, SAMPLE)))
    _check(sample, len(headers))
    widths = [len(h) for h in headers]
    for r in sample:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]
    # str.format pads like ljust/rjust (never cuts): one call a line; %-formatting
    # pads the same (by characters, never cuts) for less work a call, for the rows
    # after the sample
    formats = [("{:>%d}" if i in right else "{:<%d}") % w for i, w in enumerate(widths)]
    fmt = "  ".join(formats).format
    pct = [("%%%ds" if i in right else "%%-%ds") % w for i, w in enumerate(widths)]

    def lines(cells: list[list[str]]) -> str:
        return "".join([fmt(*r).rstrip() + "\n" for r in cells])

    if sizing is None:
        yield lines([list(headers), ["-" * w for w in widths]]) + lines(sample)
        n[0] += len(sample)
    if tail is not None:
        k = len(headers) - len(tails[next(iter(tails))]) if tails else len(headers)
        keyed = _KeyedLines(tails, "  ".join(pct[:k]), "  ".join(formats[k:]).format, strip,
                            tuple(widths[:2]) if k == 2 and not right & {0, 1} else ())
        while chunk := list(itertools.islice(it, CHUNK)):
            _check(chunk, k + 1)
            text = keyed.lines(chunk)
            yield lines(whole(chunk)) if text is None else text
            n[0] += len(chunk)
        return
    while chunk := list(itertools.islice(it, CHUNK)):
        _check(chunk, len(widths))
        text = _plain_lines(fmt, chunk) if texts else None
        yield lines(_cells(chunk)) if text is None else text
        n[0] += len(chunk)


def _stripped(cells: Sequence[Any], strip: int | None) -> Sequence[Any]:
    if strip is None:
        return cells
    return (*cells[:strip], cells[strip].strip(), *cells[strip + 1:])


class _KeyedLines(dict[Any, str]):
    """Lines of rows (first cells, key): the first cells formatted per row, the key's
    last cells (made safe) formatted once per distinct cells (many keys may give the
    same: a time's minute, days and stalled mark)."""

    def __init__(self, tails: PerKey, head: str, rest: Callable[..., str],
                 strip_cell: int | None = None, left: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.tails, self.rest = tails, rest
        self.head = head + "%s"  # (%-format) the first cells, then the key's text
        self.strip_cell = strip_cell
        self.texts: dict[tuple[str, ...], str] = {}
        self.strip = False  # a key's last cells all empty: its lines end in padding
        self.left = left  # the widths of two first cells padded on the right, or ()

    def __missing__(self, key: Any) -> str:
        cells = tuple(self.tails[key])
        line_end = self.texts.get(cells)
        if line_end is None:
            shown = cells if "".join(cells).isprintable() else _cells([cells])[0]
            text = self.rest(*shown).rstrip()
            if not text:
                self.strip = True
            line_end = self.texts[cells] = "  " + text if text else ""
        self[key] = line_end
        return line_end

    def lines(self, rows: list[Sequence[Any]]) -> str | None:
        head = self.head
        if self.strip_cell == 1 and len(rows[0]) == 3 and self.left:
            # (cell, cell to strip, key), both cells padded on the right: ``ljust``
            # pads as the format does (by characters, never cuts), for less work a row
            w0, w1 = self.left
            found = [f"{a.ljust(w0)}  {b.strip().ljust(w1)}{self[k]}" for a, b, k in rows]
        elif self.strip_cell == 1 and len(rows[0]) == 3:  # (cell, cell to strip, key)
            found = [head % (a, b.strip(), self[k]) for a, b, k in rows]
        else:
            found = [head % (*_stripped(r[:-1], self.strip_cell), self[r[-1]]) for r in rows]
        if self.strip:
            found = [line.rstrip() for line in found]
        joined = "".join(found)
        if not joined.isprintable() and safe_text(joined) != joined:
            return None
        return "\n".join(found) + "\n"


def _plain_lines(fmt: Any, rows: list[Sequence[object]]) -> str | None:
    """The lines of *rows* (cells that are str) formatted as they are, or None when
    one holds a character ``safe_text`` would change (then the cells need it)."""
    lines = [fmt(*r).rstrip() for r in rows]
    # padding is spaces: the lines are safe exactly when the cells are
    joined = "".join(lines)
    if not joined.isprintable() and safe_text(joined) != joined:
        return None
    return "\n".join(lines) + "\n"


#: How much of the store a long read maps (SQLite caps it at 2 GB on this build).
MAP_BYTES = 1 << 31


def map_for_long_read(conn: sqlite3.Connection) -> None:
    """Let SQLite read the store through a read-only memory map for a list of any
    length (one row after another, each somewhere else in the file): the pages come
    straight from the OS file cache instead of a copy per page (``pread``) — about a
    fifth of the work of such a read.  The mapped pages are the file cache's, shared
    and dropped by the OS as it needs; they count in the process's RSS without being
    its own memory (the benchmark says both)."""
    conn.execute(f"PRAGMA mmap_size = {MAP_BYTES}")


def _check(rows: Sequence[Sequence[object]], n: int) -> None:
    if rows and set(map(len, rows)) != {n}:
        raise ValueError("every row needs one cell per header")


def _cells(rows: list[Sequence[object]]) -> list[list[str]]:
    """The rows' cells as text: None as "—", anything else through ``safe_text`` —
    called for each cell only when the chunk holds a character it would change."""
    texts = [["—" if c is None else c if c.__class__ is str else str(c) for c in r]
             for r in rows]
    joined = " ".join([" ".join(r) for r in texts])
    # every character safe_text changes is unprintable (a test checks): a printable
    # chunk is left as it is without the pattern's slower search
    if not joined.isprintable() and safe_text(joined) != joined:
        texts = [[safe_text(c) for c in r] for r in texts]
    return texts

"""What every command shares: opening the store, JSON output and plain text tables."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence

from journeytui.cli import db_path
from journeytui.store import Store
from journeytui.textsafe import safe_text


def open_store(args: argparse.Namespace, *, readonly: bool = False) -> Store:
    """The store named by ``--db`` (default ``./journeys.db``)."""
    return Store.open(db_path(args), readonly=readonly)


def print_json(data: object) -> None:
    """JSON on stdout; ASCII only, so no control character reaches the terminal."""
    json.dump(data, sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], right: set[int]) -> str:
    """A plain text table; every cell made safe for the terminal, None shown as "—"."""
    cells = [["—" if c is None else safe_text(c) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)

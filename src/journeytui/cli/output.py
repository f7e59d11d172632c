"""What every command shares: opening the store, JSON output and plain text tables."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from journeytui.cli import db_path
from journeytui.store import SCHEMA_VERSION, Store, StoreError
from journeytui.textsafe import safe_text


def open_store(args: argparse.Namespace, *, readonly: bool = False) -> Store:
    """The store named by ``--db`` (default ``./journeys.db``).

    A question (``readonly``) asked of a store written by an older journeytui first
    upgrades its schema (the one write a question makes; data is kept, and a store
    that cannot be written still says why), so the first command after an upgrade of
    journeytui answers instead of refusing.
    """
    path = db_path(args)
    if not readonly:
        return Store.open(path)
    try:
        return Store.open(path, readonly=True)
    except StoreError:
        if not _older_schema(path):
            raise
    Store.open(path).close()  # migrates, or raises why it cannot
    return Store.open(path, readonly=True)


def _older_schema(path: str | Path) -> bool:
    """Whether *path* is a regular file holding a journeytui store of an older schema
    (never opens a FIFO, a device or a symbolic-link loop: Store.open named those)."""
    p = Path(path)
    try:
        if not p.is_file():
            return False
    except OSError:
        return False
    try:
        conn = sqlite3.connect(f"{p.absolute().as_uri()}?mode=ro", uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return 0 < int(version) < SCHEMA_VERSION


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

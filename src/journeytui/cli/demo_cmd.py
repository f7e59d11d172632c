"""`journeytui demo`: write a deterministic demo store."""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from journeytui.demo import DEFAULT_CONTACTS, DEFAULT_SEED, generate, validate_contacts
from journeytui.errors import UserError


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="write a deterministic, realistic demo store",
        description="Write a demo store: lists, emails, contacts and a year of email "
        "activity. The same --contacts and --seed always give the same data.",
    )
    p.add_argument(
        "--contacts", type=int, default=DEFAULT_CONTACTS, metavar="N",
        help=f"how many contacts (default {DEFAULT_CONTACTS:,})",
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="S",
        help=f"random seed (default {DEFAULT_SEED})",
    )
    p.add_argument(
        "--force", action="store_true",
        help="replace an existing file (only once the new store is complete)",
    )
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from journeytui.cli import db_path

    target = Path(db_path(args))
    validate_contacts(args.contacts)
    if target.is_dir():
        raise UserError(f"{target}: is a directory; give --db a file name")
    if not target.parent.is_dir():
        raise UserError(f"{target}: the folder {target.parent} does not exist")
    if target.exists() and not args.force:
        raise UserError(
            f"{target}: already exists; nothing was changed. Pass --force to replace it "
            "(the old file stays until the new store is complete), or choose another --db."
        )
    tmp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    from journeytui.cli.progress import progress_for

    try:
        with progress_for(args) as report:
            summary = generate(tmp, contacts=args.contacts, seed=args.seed, progress=report)
    except sqlite3.Error as exc:  # e.g. the disk is full; generate() removed its file
        raise UserError(
            f"{target}: could not write the demo store ({exc}); nothing was changed"
        ) from None
    try:
        if target.exists():
            _retire_wal(target)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    print(dataclasses.replace(summary, path=target).text())
    return 0


def _retire_wal(target: Path) -> None:
    """Fold a ``-wal`` beside *target* back into it, so no stale log outlives the file.

    A write-ahead log left next to the new file would be replayed into it.
    """
    wal = Path(f"{target}-wal")
    shm = Path(f"{target}-shm")
    if not wal.exists() and not shm.exists():
        return
    try:
        conn = sqlite3.connect(target, timeout=1.0, isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode = DELETE")
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        raise UserError(
            f"{target}: is in use ({exc}); close the app that has it open and try again. "
            "Nothing was changed."
        ) from None
    except sqlite3.DatabaseError:
        pass  # not a database: its sidecar files mean nothing
    if wal.exists() and wal.stat().st_size > 0:
        raise UserError(
            f"{target}: is in use (its write-ahead log {wal} could not be emptied); close "
            "the app that has it open and try again. Nothing was changed."
        )
    wal.unlink(missing_ok=True)
    shm.unlink(missing_ok=True)

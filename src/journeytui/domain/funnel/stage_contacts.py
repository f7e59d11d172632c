"""Who is in a stage of a journey, as the command line lists them (longest there
first, read as they are used) and as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from journeytui.domain.funnel.report import DAY, DEFAULT_STALL_DAYS
from journeytui.domain.in_stage import CSV_HEADER, in_stage_order, stage_read
from journeytui.store import Store
from journeytui.textsafe import csv_cell
from journeytui.timefmt import iso_time


@dataclass(frozen=True)
class StageContact:
    contact_id: int
    email: str
    first_name: str
    last_name: str
    stage: str
    since: int | None
    days_in_stage: float | None
    stalled: bool


def iter_stage_contacts(
    store: Store, name: str, stage: str, *, stall_days: int = DEFAULT_STALL_DAYS,
    stalled_only: bool = False,
) -> Iterator[StageContact]:
    """Contacts currently in *stage* (longest there first), read as they are used:
    reads over the stage's index, nothing held.  A wrong journey or stage is said at
    the call, before any row."""
    read = stage_read(store, name, stage, stall_days)
    now, limit = read.now, read.stall_before
    rows = in_stage_order(
        store.conn, lambda since: ["p.contact_id", "c.email", "c.first_name", "c.last_name",
                                   since], read, stalled_only)

    def contacts() -> Iterator[StageContact]:
        for cid, email, first, last, since in rows:
            is_stalled = limit is not None and since is not None and since < limit
            days = None if since is None else round((now - since) / DAY, 1)
            yield StageContact(cid, email, first, last, stage, since, days, is_stalled)

    return contacts()


def stage_contacts(
    store: Store, name: str, stage: str, *, stall_days: int = DEFAULT_STALL_DAYS,
    stalled_only: bool = False,
) -> list[StageContact]:
    """Contacts currently in *stage* (longest there first), as a list."""
    return list(iter_stage_contacts(store, name, stage, stall_days=stall_days,
                                    stalled_only=stalled_only))


def _csv_row(r: StageContact) -> list[object]:
    return [csv_cell(r.email), csv_cell(r.first_name), csv_cell(r.last_name),
            csv_cell(r.stage), iso_time(r.since) or "", r.days_in_stage,
            "yes" if r.stalled else "no"]


def write_contacts_csv(rows: Iterable[StageContact], out: IO[str]) -> int:
    """Write *rows* as CSV to *out* as they come; returns how many."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_HEADER)
    n = 0
    for r in rows:
        w.writerow(_csv_row(r))
        n += 1
    return n


def contacts_csv(rows: Iterable[StageContact]) -> str:
    buf = io.StringIO()
    write_contacts_csv(rows, buf)
    return buf.getvalue()

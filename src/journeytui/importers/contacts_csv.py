"""Import contacts from CSV (plain Python, no textual).

The header names the columns ``email,first_name,last_name,tracking_consent,lists`` in
any order (case and surrounding spaces do not matter).  ``email`` and
``tracking_consent`` are required; ``first_name``, ``last_name`` and ``lists`` may be
left out.  A column not in that list is refused (a typo such as ``frist_name`` would
otherwise be dropped silently).

* ``tracking_consent``: yes/no, true/false or 1/0 (any case).
* ``lists``: list names separated by ``;`` — the contact is subscribed to each; a list
  not yet in the store is created.
* Re-importing updates the names and grants or revokes consent; the consent time is
  the time of the import.  An empty name cell leaves the stored name as it is.

Subscriptions: a list named for a contact who has no subscription to it yet becomes
``subscribed``.  An existing subscription is never changed by a contact import: a
contact who unsubscribed from a list is not subscribed again (the report lists where),
and a ``pending`` double opt-in stays pending.  Lists a row does not name are left as
they are (an import never unsubscribes).

Bad input refuses the whole file — nothing is half-imported: a missing or unknown
column, an invalid address, a consent value that is not one of the above, a row with
the wrong number of fields, or the same address twice.  The message names the file and
lists every bad line with its field (the first 20, then how many more).
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from journeytui.errors import UserError
from journeytui.importers._common import is_address, read_text
from journeytui.importers._report import ERRORS_LISTED, ImportReport, printable
from journeytui.store import Recorder, Store
from journeytui.textsafe import escape_char

__all__ = ["COLUMNS", "LABELS", "import_contacts", "parse_consent"]

COLUMNS = ("email", "first_name", "last_name", "tracking_consent", "lists")
REQUIRED = ("email", "tracking_consent")
_YES = frozenset({"yes", "true", "1"})
_NO = frozenset({"no", "false", "0"})

LABELS = {
    "new_contacts": "new contacts",
    "new_with_consent": "new contacts with tracking consent",
    "names_updated": "names updated",
    "consent_granted": "tracking consent granted",
    "consent_revoked": "tracking consent revoked",
    "subscriptions": "subscriptions added",
    "new_lists": "new lists",
    "unchanged": "contacts unchanged",
}

NOT_RESUBSCRIBED = "list kept unsubscribed (the contact unsubscribed from it before)"


# NUL and the other control characters but tab and line breaks (which a quoted cell
# may hold): never part of a name, an address or a list name.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def parse_consent(value: str) -> bool | None:
    """True/False for yes/no, true/false, 1/0 (any case); None for anything else."""
    v = value.strip().lower()
    if v in _YES:
        return True
    if v in _NO:
        return False
    return None


@dataclass(slots=True)
class _Row:
    line: int
    address: str
    first_name: str | None  # None: column absent or cell empty (keep what is stored)
    last_name: str | None
    consent: bool
    lists: list[str]


def _header(row: list[str], name: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    expected = ",".join(COLUMNS)
    if len(row) == 1:
        for sep, sep_name in ((";", "semicolons"), ("\t", "tabs")):
            if sep in row[0]:
                raise UserError(
                    f"{name}: line 1: the columns are separated by {sep_name}; save the "
                    "file with commas between columns (';' separates lists inside a cell). "
                    "Nothing was imported."
                )
    for i, raw in enumerate(row):
        col = raw.strip().lower()
        if col not in COLUMNS:
            shown = printable(raw.strip(), 40) or "(empty)"
            raise UserError(
                f"{name}: line 1: unknown column '{shown}'; the header must name "
                f"{expected} (any order). Nothing was imported."
            )
        if col in columns:
            raise UserError(f"{name}: line 1: column '{col}' appears twice. Nothing was imported.")
        columns[col] = i
    for col in REQUIRED:
        if col not in columns:
            raise UserError(
                f"{name}: line 1: missing column '{col}'; the header must name "
                f"{expected} (any order). Nothing was imported."
            )
    return columns


def read_rows(path: str | os.PathLike[str]) -> list[_Row]:
    """Every row of the file, checked; raises UserError listing each bad line."""
    name = str(path)
    text = read_text(path, "a contacts CSV file")
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[str] = []
    n_errors = 0

    def bad(line: int, message: str) -> None:
        nonlocal n_errors
        n_errors += 1
        if len(errors) < ERRORS_LISTED:
            errors.append(f"line {line}: {message}")

    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise UserError(
                f"{name}: the file is empty; expected a header {','.join(COLUMNS)}. "
                "Nothing was imported."
            )
        columns = _header(header, name)
        width = len(header)
        rows: list[_Row] = []
        first_seen: dict[str, int] = {}
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != width:
                bad(line, f"{len(cells)} fields, the header has {width}")
                continue

            def cell(col: str, cells: list[str] = cells) -> str | None:
                i = columns.get(col)
                return None if i is None else cells[i].strip()

            controls = [
                (col, m.group(0)) for col, i in columns.items()
                if (m := _CONTROL.search(cells[i])) is not None
            ]
            if controls:
                for col, ch in controls:
                    what = "a NUL character" if ch == "\x00" else "a control character"
                    bad(line, f"field '{col}' holds {what} ({escape_char(ch)}); "
                        "remove it (a binary or damaged file?)")
                continue

            address = cell("email") or ""
            ok = True
            if not address:
                bad(line, "field 'email' is empty")
                ok = False
            elif not is_address(address):
                bad(line, f"field 'email': '{printable(address, 60)}' is not an email address")
                ok = False
            raw_consent = cell("tracking_consent") or ""
            consent = parse_consent(raw_consent)
            if consent is None:
                bad(
                    line,
                    f"field 'tracking_consent': '{printable(raw_consent, 30)}' is not "
                    "yes/no, true/false or 1/0",
                )
                ok = False
            if not ok:
                continue
            key = address.lower()
            if key in first_seen:
                bad(line, f"field 'email': {printable(key, 60)} is also on line {first_seen[key]}")
                continue
            first_seen[key] = line
            lists = [n.strip() for n in (cell("lists") or "").split(";") if n.strip()]
            rows.append(
                _Row(
                    line=line,
                    address=key,
                    first_name=cell("first_name") or None,
                    last_name=cell("last_name") or None,
                    consent=bool(consent),
                    lists=list(dict.fromkeys(lists)),
                )
            )
    except csv.Error as exc:
        raise UserError(
            f"{name}: line {reader.line_num}: not valid CSV ({exc}). Nothing was imported."
        ) from None
    if n_errors:
        more = f"\n  … and {n_errors - len(errors)} more" if n_errors > len(errors) else ""
        listed = "\n  ".join(errors)
        noun = "problem" if n_errors == 1 else "problems"
        raise UserError(
            f"{name}: {n_errors} {noun}; nothing was imported. Fix them and import again:"
            f"\n  {listed}{more}"
        )
    return rows


def import_contacts(
    store: Store, path: str | os.PathLike[str], *, now: int | None = None
) -> ImportReport:
    """Import one contacts CSV into *store* in one transaction (all or nothing)."""
    at = int(time.time()) if now is None else now
    name = str(Path(path))
    rows = read_rows(path)
    report = ImportReport(source="contacts", files=[name], records=len(rows))
    for kind in LABELS:
        report.added[kind] = 0
    with store.transaction():
        rec = Recorder(store)
        c = store.conn
        list_ids: dict[str, int] = {}
        for row in rows:
            ref = rec.contact(row.address, create=False)
            changed = False
            if ref is None:
                ref = rec.contact(
                    row.address,
                    first_name=row.first_name or "",
                    last_name=row.last_name or "",
                    consent=row.consent,
                    at=at,
                )
                report.add("new_contacts")
                if row.consent:
                    report.add("new_with_consent")
                changed = True
            else:
                current = c.execute(
                    "SELECT first_name, last_name FROM contacts WHERE id = ?", (ref.id,)
                ).fetchone()
                first = row.first_name if row.first_name is not None else current[0]
                last = row.last_name if row.last_name is not None else current[1]
                if (first, last) != (current[0], current[1]):
                    c.execute(
                        "UPDATE contacts SET first_name = ?, last_name = ? WHERE id = ?",
                        (first, last, ref.id),
                    )
                    report.add("names_updated")
                    changed = True
                if ref.consent != row.consent:
                    ref = rec.set_consent(ref, row.consent, at)
                    report.add("consent_granted" if row.consent else "consent_revoked")
                    changed = True
            for list_name in row.lists:
                list_id = list_ids.get(list_name)
                if list_id is None:
                    known = c.execute(
                        "SELECT id FROM lists WHERE name = ?", (list_name,)
                    ).fetchone()
                    list_id = rec.ensure_list(list_name)
                    if not known:
                        report.add("new_lists")
                    list_ids[list_name] = list_id
                status = c.execute(
                    "SELECT status FROM subscriptions WHERE contact_id = ? AND list_id = ?",
                    (ref.id, list_id),
                ).fetchone()
                if status is None:
                    rec.subscribe(ref, list_id, "subscribed", at)
                    report.add("subscriptions")
                    changed = True
                elif status[0] == "unsubscribed":
                    report.skip(NOT_RESUBSCRIBED, f"{name}:{row.line} ({printable(list_name, 40)})")
            if not changed:
                report.add("unchanged")
    return report

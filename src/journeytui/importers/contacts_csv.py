"""Import contacts from CSV, TSV, JSON or NDJSON, or a Mailchimp export ZIP (plain
Python, no textual).

Our own layout names the columns ``email,first_name,last_name,tracking_consent,lists``
in any order (case and surrounding spaces do not matter); ``email`` is required and a
column not in that list is refused (a typo such as ``frist_name`` would otherwise be
dropped silently).  Real exports are read through a preset (``mailchimp``,
``sendgrid``, ``hubspot``: :func:`recognise` knows them by their header) or a column
mapping; their other columns are ignored and named in the report.  Without a
``tracking_consent`` column the caller must say what holds for every contact (no
silent default).  Mailchimp's unsubscribed export unsubscribes from all at
``UNSUB_TIME``; its cleaned export marks the contacts bounced at ``CLEAN_TIME``
(:data:`CLEANED` is the reason the delivery log shows).

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

import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from journeytui.errors import UserError
from journeytui.importers._common import is_address
from journeytui.importers._report import ImportReport, printable
from journeytui.importers._tabular import Problems, Table, read_table, table_from_text
from journeytui.importers.activities import parse_time
from journeytui.importers.contacts_layout import (
    COLUMNS,
    PRESETS,
    Layout,
    layout_of,
    parse_map,
    recognise,
)
from journeytui.store import Recorder, Store

__all__ = ["COLUMNS", "LABELS", "PRESETS", "import_contacts", "parse_consent", "parse_map",
           "recognise"]

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
    "unsubscribed_all": "unsubscribed from all (Mailchimp unsubscribed export, UNSUB_TIME)",
    "bounced": "marked bounced (Mailchimp cleaned export, CLEAN_TIME)",
    "unchanged": "contacts unchanged",
}

#: The reason a Mailchimp "cleaned" contact is marked bounced ("WHO: WHY", as the
#: delivery log reads it).  Mailchimp cleans an address after a hard bounce, or after
#: soft bounces it gave up on.
CLEANED = "cleaned by Mailchimp: hard bounce (or repeated soft bounces)"

NOT_RESUBSCRIBED = "list kept unsubscribed (the contact unsubscribed from it before)"


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
    unsubscribed_at: int | None = None  # unsubscribed from all (Mailchimp)
    bounced_at: int | None = None  # cleaned (hard bounces) in Mailchimp
    bounce_reason: str | None = None
    where: str = ""


def read_rows(
    path: str | os.PathLike[str],
    *,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    consent: bool | None = None,
    at: int = 0,
    table: Table | None = None,
) -> tuple[list[_Row], Layout]:
    """Every row of the file, checked; raises UserError listing each bad line."""
    if table is None:
        table = read_table(path, "a contacts file")
    name = table.name
    layout = layout_of(table, preset, mapping or {})
    columns = layout.columns
    if "tracking_consent" not in columns and consent is None:
        raise UserError(
            f"{name}: line 1: missing column 'tracking_consent'; say what to assume for every contact "
            "with --consent yes or --consent no (nothing is assumed silently). Nothing was "
            "imported."
        )
    problems = Problems(name)
    width = len(table.header)
    rows: list[_Row] = []
    first_seen: dict[str, int] = {}
    for line, cells in table.rows:
        if table.format in ("CSV", "TSV") and len(cells) != width:
            problems.bad(line, f"{len(cells)} fields, the header has {width}")
            continue
        shown = {c: (table.header[i].strip() if layout.preset else c)
                 for c, i in columns.items()}
        if problems.controls(line, [(shown[c], cells[i]) for c, i in columns.items()]):
            continue

        def cell(col: str, cells: list[str] = cells) -> str | None:
            i = columns.get(col)
            return None if i is None else cells[i].strip()

        address = cell("email") or ""
        ok = True
        if not address:
            problems.bad(line, "field 'email' is empty")
            ok = False
        elif not is_address(address):
            problems.bad(line, f"field 'email': '{printable(address, 60)}' is not an email "
                         "address")
            ok = False
        given: bool | None = consent
        if "tracking_consent" in columns:
            raw_consent = cell("tracking_consent") or ""
            given = parse_consent(raw_consent)
            if given is None:
                problems.bad(
                    line,
                    f"field 'tracking_consent': '{printable(raw_consent, 30)}' is not "
                    "yes/no, true/false or 1/0",
                )
                ok = False
        stamps: dict[str, int | None] = {}
        for col in ("unsubscribed_at", "bounced_at", "last_changed"):
            raw = cell(col) or ""
            stamps[col] = None
            if raw:
                stamps[col] = parse_time(raw)
                if stamps[col] is None:
                    problems.bad(line, f"field '{shown.get(col, col)}': "
                                 f"'{printable(raw, 30)}' is not a date and time")
                    ok = False
        if not ok:
            continue
        key = address.lower()
        if key in first_seen:
            problems.bad(line, f"field 'email': {printable(key, 60)} is also on line "
                         f"{first_seen[key]}")
            continue
        first_seen[key] = line
        first, last = cell("first_name") or None, cell("last_name") or None
        full = cell("name")
        if full and not first and not last:
            first, _, rest = full.partition(" ")
            last = rest.strip() or None
        unsub, bounced = stamps["unsubscribed_at"], stamps["bounced_at"]
        fallback = stamps["last_changed"] or at
        if layout.kind == "unsubscribed" and unsub is None:
            unsub = fallback
        reason = None
        if layout.kind == "cleaned":
            if bounced is None:
                bounced = fallback
            title = cell("clean_campaign")
            reason = f"{CLEANED} after campaign '{printable(title, 80)}'" if title else CLEANED
        elif bounced is not None:
            reason = (f"marked bounced in {printable(Path(name).name, 80)}: column "
                      f"'{printable(table.header[columns['bounced_at']].strip(), 40)}'")
        lists = [n.strip() for n in (cell("lists") or "").split(";") if n.strip()]
        rows.append(
            _Row(
                line=line,
                address=key,
                first_name=first,
                last_name=last,
                consent=bool(given),
                lists=list(dict.fromkeys(lists)),
                unsubscribed_at=unsub,
                bounced_at=bounced,
                bounce_reason=reason,
                where=f"{name}:{line}",
            )
        )
    problems.raise_if_any()
    return rows, layout


def _zip_tables(path: str | os.PathLike[str]) -> list[Table]:
    """The CSV files of a Mailchimp export ZIP (subscribed, unsubscribed, cleaned)."""
    name = str(path)
    try:
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.infolist()
                       if not m.is_dir() and m.filename.lower().endswith((".csv", ".tsv"))]
            if not members:
                raise UserError(f"{name}: the ZIP holds no CSV file. Nothing was imported.")
            tables = []
            for m in members:
                data = z.read(m)
                try:
                    text = data.decode("utf-8-sig")
                except UnicodeDecodeError as exc:
                    line = data.count(b"\n", 0, exc.start) + 1
                    raise UserError(f"{name}[{m.filename}]: line {line}: not UTF-8 text. "
                                    "Nothing was imported.") from None
                tables.append(table_from_text(f"{name}[{m.filename}]", text))
            return tables
    except zipfile.BadZipFile:
        raise UserError(f"{name}: not a valid ZIP file. Nothing was imported.") from None


class _DryRun(Exception):
    pass


def import_contacts(
    store: Store,
    path: str | os.PathLike[str],
    *,
    now: int | None = None,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    consent: bool | None = None,
    dry_run: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> ImportReport:
    """Import one contacts file (CSV, TSV, JSON, NDJSON, or a Mailchimp export ZIP) into
    *store* in one transaction (all or nothing); *progress* (``report(stage, done,
    total)``) hears how many rows are recorded."""
    from journeytui.importers._report import dry_run_preview, snapshot

    at = int(time.time()) if now is None else now
    if preset is not None and preset not in PRESETS:
        raise UserError(f"--preset: unknown preset '{printable(preset, 30)}'; choose "
                        f"{', '.join(PRESETS)}")
    name = str(Path(path))
    is_zip = str(path) != "-" and Path(path).is_file() and zipfile.is_zipfile(path)
    tables: list[Table | None] = list(_zip_tables(path)) if is_zip else [None]
    rows: list[_Row] = []
    notes: list[str] = []
    for table in tables:
        part, layout = read_rows(path, preset=preset, mapping=mapping, consent=consent,
                                 at=at, table=table)
        rows.extend(part)
        shown = printable(table.name if table else name, 200)
        if layout.preset:
            how = "given" if preset else "recognised from the header"
            what = f" ({layout.kind} export)" if layout.preset == "mailchimp" else ""
            notes.append(f"{shown}: preset {layout.preset}{what}, {how}.")
        if layout.ignored:
            notes.append(f"{shown}: ignored columns ({len(layout.ignored)}): "
                         + ", ".join(printable(c, 40) for c in layout.ignored) + ".")
        if "tracking_consent" not in layout.columns:
            notes.append(f"{shown}: no consent column: assumed tracking consent "
                         f"{'YES' if consent else 'NO'} for every contact (--consent "
                         f"{'yes' if consent else 'no'}).")
    seen: dict[str, str] = {}
    dupes = Problems(name)
    for row in rows:
        if row.address in seen and is_zip:
            dupes.bad(row.line, f"{printable(row.address, 60)} ({row.where}) is also at "
                      f"{seen[row.address]}")
        seen.setdefault(row.address, row.where)
    dupes.raise_if_any()
    report = ImportReport(source="contacts", files=[name], records=len(rows),
                          dry_run=dry_run)
    report.notes.extend(notes)
    for kind in LABELS:
        report.added[kind] = 0
    try:
        with store.transaction():
            before = snapshot(store) if dry_run else None
            _apply(store, rows, report, at, name, progress)
            if before is not None:
                report.preview = dry_run_preview(before, snapshot(store))
                raise _DryRun
    except _DryRun:
        pass
    return report


def _apply(store: Store, rows: list[_Row], report: ImportReport, at: int, name: str,
           progress: Callable[[str, int, int | None], None] | None = None) -> None:
    """Write *rows* (inside the caller's transaction)."""
    if rows:
        rec = Recorder(store)
        c = store.conn
        list_ids: dict[str, int] = {}
        for i, row in enumerate(rows):
            if progress is not None and not i % 4096:
                progress("recording the contacts (rows)", i, len(rows))
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
                assert ref is not None  # created: the address was checked when read
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
                    report.skip(NOT_RESUBSCRIBED, f"{row.where} ({printable(list_name, 40)})")
            if row.unsubscribed_at is not None:
                state = c.execute(
                    "SELECT unsubscribed_all, unsubscribed_all_at FROM contacts WHERE id = ?",
                    (ref.id,),
                ).fetchone()
                if not state[0] or (state[1] is not None and state[1] > row.unsubscribed_at):
                    rec.unsubscribe(ref, row.unsubscribed_at)
                    report.add("unsubscribed_all")
                    changed = True
            if row.bounced_at is not None and rec.mark_contact_bounced(
                ref.id, row.bounced_at, row.bounce_reason or CLEANED
            ):
                report.add("bounced")
                changed = True
            if not changed:
                report.add("unchanged")

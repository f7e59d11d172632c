"""`journeytui import sendgrid FILE… [--email NAME] [--dry-run]`, `journeytui import events
FILE… [--provider P]`, `journeytui import contacts FILE` and `journeytui import activities
FILE`.

Each import is one transaction.  A store that does not exist yet is created (and the
output says so); if the import then fails, the new file is removed again, so a failed
import leaves nothing behind.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from journeytui.cli import db_path
from journeytui.cli.progress import ProgressFn, progress_for
from journeytui.errors import UserError
from journeytui.importers._common import STDIN_NAME
from journeytui.importers._report import ImportReport, printable
from journeytui.store import Store

_Run = Callable[[Store, argparse.Namespace, ProgressFn], ImportReport]
_RECORDING = "recording and advancing the journeys"


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "import",
        parents=[common],
        help="import SendGrid events or contacts (each import is one transaction)",
        description="Import real data. Each import is one transaction: a malformed file "
        "changes nothing. A store that does not exist yet is created.",
    )
    kinds = parser.add_subparsers(
        dest="import_kind", metavar="{sendgrid,events,contacts,activities}", required=True
    )

    sg = kinds.add_parser(
        "sendgrid",
        parents=[common],
        help="SendGrid Event Webhook payloads (a JSON array, or one event per line)",
        description="Import SendGrid Event Webhook payloads: a JSON array of events, or "
        "one JSON event per line. Events already imported (same sg_event_id) are skipped, "
        "so importing a file twice changes nothing. An event belongs to the email named "
        "by singlesend_name/_id, else mc_auto_name/_id (one email per automation step), "
        "else marketing_campaign_name/_id, else the email of another event of the same "
        "message (sg_message_id), else its category (several categories name the email "
        "together), else --email NAME. See the README, section Imports.",
    )
    sg.add_argument(
        "files", nargs="+", metavar="FILE", help="event files to import ('-': standard input)"
    )
    sg.add_argument(
        "--email", metavar="NAME", help="the email for events that name no campaign or category"
    )
    sg.add_argument(
        "--email-by", metavar="FIELD",
        help="the field that names an event's email, tried first: custom_arg:NAME (a custom "
        "argument of your sends) or category:N (the N-th category, from 1)",
    )
    sg.add_argument(
        "--dry-run",
        action="store_true",
        help="show what the import would change (figures per email before → after, new "
        "contacts and emails, journey stages, skipped events) and change nothing",
    )
    sg.add_argument("--json", action="store_true", help="print the report as JSON")
    sg.set_defaults(func=run_sendgrid)

    from journeytui.importers.providers import PROVIDERS

    ev = kinds.add_parser(
        "events",
        parents=[common],
        help="email provider events: SendGrid, Mailgun, Postmark, Amazon SES, Mandrill, Brevo",
        description="Import email provider webhook events (one body per line, or a JSON "
        "array). Each file's provider is recognised from its shape (--provider auto) and "
        "its events are mapped onto SendGrid's event types, then imported exactly as "
        "'import sendgrid' does (same consent rule, dedup, statistics, journeys). A file "
        "of another provider than --provider names is refused. See the README, section "
        "Imports, for the mapping of each provider.",
    )
    ev.add_argument(
        "files", nargs="+", metavar="FILE", help="event files to import ('-': standard input)"
    )
    ev.add_argument(
        "--provider",
        choices=("auto", *PROVIDERS),
        default="auto",
        help="which provider's events the files hold (default: recognised per file)",
    )
    ev.add_argument(
        "--email", metavar="NAME", help="the email for events that name no campaign, tag "
        "or subject"
    )
    ev.add_argument("--dry-run", action="store_true",
                    help="show what the import would change and change nothing")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.set_defaults(func=run_events)

    ct = kinds.add_parser(
        "contacts",
        parents=[common],
        help="contacts: our CSV layout, or Mailchimp / SendGrid / HubSpot exports",
        description="Import contacts from CSV, TSV, JSON or NDJSON (sniffed) with the "
        "header email,first_name,last_name,tracking_consent,lists (any order; consent "
        "yes/no, true/false or 1/0; lists separated by ';'), or a Mailchimp, SendGrid or "
        "HubSpot export (--preset, also recognised from the header; other columns are "
        "ignored and named), or any layout with --map. A Mailchimp export ZIP imports "
        "in one go. Re-importing updates names and grants or revokes consent. Any bad "
        "row refuses the whole file.",
    )
    ct.add_argument("file", metavar="FILE", help="CSV, TSV, JSON, NDJSON, or a Mailchimp "
                    "export ZIP")
    ct.add_argument("--preset", choices=("mailchimp", "sendgrid", "hubspot"),
                    help="the export's layout (also recognised from the header)")
    ct.add_argument("--map", action="append", default=[], metavar="'COLUMN=FIELD'",
                    help="take FIELD (email, first_name, last_name, name, tracking_consent, "
                    "lists, unsubscribed_at, bounced_at) from COLUMN; repeatable")
    ct.add_argument("--consent", choices=("yes", "no"),
                    help="tracking consent for every contact of a file without a "
                    "tracking_consent column (required then: nothing is assumed silently)")
    ct.add_argument("--dry-run", action="store_true",
                    help="show what the import would change and change nothing")
    ct.add_argument("--json", action="store_true", help="print the report as JSON")
    ct.set_defaults(func=run_contacts)

    ac = kinds.add_parser(
        "activities",
        parents=[common],
        help="form submissions and page visits: email,kind,name,url,time,id",
        description="Import form submissions and page visits: CSV with the header "
        "email,kind,name,url,time,id (kind form or page; name the form, url the page; "
        "time ISO 8601 or unix seconds; id optional, for dedup), or JSON / one JSON "
        "object per line with those keys. Recorded only for contacts with tracking "
        "consent; journeys are advanced. Any bad row refuses the whole file.",
    )
    ac.add_argument("file", metavar="FILE", help="the activities file")
    ac.add_argument("--dry-run", action="store_true",
                    help="show what the import would change and change nothing")
    ac.add_argument("--json", action="store_true", help="print the report as JSON")
    ac.set_defaults(func=run_activities)


def _run(args: argparse.Namespace, run: _Run, labels: dict[str, str], unit: str) -> int:
    path = Path(db_path(args))
    if getattr(args, "dry_run", False) and not path.exists():
        # nothing to compare with: run against an empty store that is thrown away
        with (
            tempfile.TemporaryDirectory(prefix="journeytui-dry-run-") as tmp,
            Store.create(Path(tmp) / "dry-run.db") as store,
            progress_for(args) as progress,
        ):
            report = run(store, args, progress)
        report.notes.insert(0, f"No store at {printable(str(path), 200)} yet: compared with "
                            "an empty one.")
        return _print(args, report, labels, unit, path, created=False)
    created = not path.exists()
    store = Store.create(path) if created else Store.open(path)
    try:
        with progress_for(args) as progress:
            report = run(store, args, progress)
    except BaseException as exc:
        store.close()
        if created:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            if isinstance(exc, UserError):
                raise UserError(f"{exc}\n(No store was created at {path}.)") from None
        raise
    store.close()
    if created:
        report.notes.insert(0, f"Created a new store {printable(str(path), 200)}.")
    return _print(args, report, labels, unit, path, created=created)


def _print(
    args: argparse.Namespace,
    report: ImportReport,
    labels: dict[str, str],
    unit: str,
    path: Path,
    *,
    created: bool,
) -> int:
    if args.json:
        data = {"db": str(path), "created_store": created, **report.to_dict()}
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif report.dry_run:
        print("\n".join(report.lines(labels, unit=unit)))
        print(f"Store: {printable(str(path), 200)} (dry run: rolled back, nothing changed).")
    else:
        print("\n".join(report.lines(labels, unit=unit)))
        print(f"Store: {printable(str(path), 200)} (one transaction, committed).")
    return 0


def run_sendgrid(args: argparse.Namespace) -> int:
    from journeytui.importers.providers import refuse_other, sniff_path
    from journeytui.importers.sendgrid import LABELS, import_parsed_events

    for f in args.files:  # another provider's file must not "succeed" with nothing
        if f != "-":
            refuse_other(f, "sendgrid", sniff_path(f))
    if args.files == ["-"] and not args.dry_run and _stdin_is_a_stream():
        return _follow_stdin(args, LABELS)

    def run(store: Store, a: argparse.Namespace, progress: ProgressFn) -> ImportReport:
        shown = [STDIN_NAME if f == "-" else str(Path(f)) for f in a.files]
        return import_parsed_events(
            store, _read_with_progress(a.files, shown, progress), a.email, files=shown,
            dry_run=a.dry_run, email_by=a.email_by, progress=progress,
        )

    return _run(args, run, LABELS, "events")


def _read_with_progress(
    paths: Sequence[str], shown: Sequence[str], progress: ProgressFn
) -> Iterator[tuple[dict[str, Any], tuple[str, int, int | None]]]:
    """The events of every file, as ``import sendgrid`` reads them, saying how many of
    each file's lines are read (the importer then says how many events are recorded)."""
    from journeytui.importers.sendgrid import read_events

    for path, name in zip(paths, shown, strict=True):
        total = None if path == "-" else _lines_in(path)
        stage = f"reading {printable(Path(name).name if path != '-' else name, 80)} (lines)"
        progress(stage, 0, total)
        line = 0
        for i, (event, loc) in enumerate(read_events(path)):
            line = loc[1]
            if not i % 4096:
                progress(stage, line, total)
            yield event, loc
        progress(stage, total or line, total)


def _lines_in(path: str) -> int | None:
    """How many lines *path* has (None if it cannot be read: the reader says why)."""
    lines, last = 0, b"\n"
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return None
    return lines + (last != b"\n")


def _stdin_is_a_stream() -> bool:
    """Standard input is a pipe or a terminal (``tail -f … |``), not a redirected file
    (nor an in-memory stand-in, as tests give)."""
    try:
        return not stat.S_ISREG(os.fstat(sys.stdin.fileno()).st_mode)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


def _follow_stdin(args: argparse.Namespace, labels: dict[str, str]) -> int:
    """``tail -f events.ndjson | journeytui import sendgrid -``: one transaction per batch
    of lines as they arrive (journeys advanced each time), a line per batch said."""
    from journeytui.webhook.follow import Batch, follow

    path = Path(db_path(args))
    store = Store.open(path) if path.exists() else Store.create(path)

    def said(batch: Batch) -> None:
        where = f"lines {batch.first_line}–{batch.last_line}"
        if args.json:
            body: dict[str, object] = {"lines": [batch.first_line, batch.last_line]}
            if batch.error is not None:
                body["refused"] = batch.error
            elif batch.report is not None:
                body.update(batch.report.to_dict())
            print(json.dumps(body, ensure_ascii=False), flush=True)
        elif batch.error is not None:
            print(f"{where}: refused, nothing recorded: {batch.error}", flush=True)
        elif batch.report is not None:
            print(f"{where}: committed", flush=True)
            lines = [ln for ln in batch.report.lines(labels, unit="events")
                     if not ln.startswith("Read ")]  # (it names a private spool file)
            print("  " + "\n  ".join(lines), flush=True)

    try:
        refused = follow(store, sys.stdin.fileno(), said, args.email)
    finally:
        store.close()
    return 2 if refused else 0


def run_events(args: argparse.Namespace) -> int:
    from journeytui.importers.providers import import_events
    from journeytui.importers.sendgrid import LABELS

    def run(store: Store, a: argparse.Namespace, progress: ProgressFn) -> ImportReport:
        progress("reading the files", 0, None)
        return import_events(
            store, a.files, a.provider, default_email=a.email, dry_run=a.dry_run,
            progress=progress,
        )

    return _run(args, run, LABELS, "events")


def run_contacts(args: argparse.Namespace) -> int:
    from journeytui.importers.contacts_csv import LABELS, import_contacts, parse_map

    mapping = parse_map(args.map)

    def run(store: Store, a: argparse.Namespace, progress: ProgressFn) -> ImportReport:
        progress("reading the file", 0, None)
        consent = None if a.consent is None else a.consent == "yes"
        return import_contacts(store, a.file, preset=a.preset, mapping=mapping,
                               consent=consent, dry_run=a.dry_run, progress=progress)

    return _run(args, run, LABELS, "rows")


def run_activities(args: argparse.Namespace) -> int:
    from journeytui.importers.activities import LABELS, import_activities

    def run(store: Store, a: argparse.Namespace, progress: ProgressFn) -> ImportReport:
        progress(f"reading, {_RECORDING}", 0, None)
        return import_activities(store, a.file, dry_run=a.dry_run)

    return _run(args, run, LABELS, "rows")

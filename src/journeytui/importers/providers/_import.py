"""Importing provider event files: read, recognise, map, and hand the events with
their own locations to the SendGrid importer, in one transaction."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from journeytui.errors import UserError
from journeytui.importers._common import STDIN
from journeytui.importers._report import (
    ImportReport,
    Skipped,
    dry_run_preview,
    printable,
    snapshot,
)
from journeytui.importers.providers import brevo, mailgun, mandrill, postmark, ses
from journeytui.importers.providers._base import Out, Terms
from journeytui.importers.providers._read import (
    NAMES,
    PROVIDERS,
    read_bodies,
    refuse_other,
    sniff_body,
    sniff_file,
)
from journeytui.store import Recorder, Store

MAPPERS: dict[str, Callable[[Any, Out], None]] = {
    "mailgun": mailgun.map_body, "postmark": postmark.map_body, "ses": ses.map_body,
    "mandrill": mandrill.map_body, "brevo": brevo.map_body,
}
TERMS: dict[str, Terms] = {
    "mailgun": mailgun.TERMS, "postmark": postmark.TERMS, "ses": ses.TERMS,
    "mandrill": mandrill.TERMS, "brevo": brevo.TERMS,
}

Location = tuple[str, int, int | None]
# the mapped fields that name an email (see _base.naming)
_NAMING = frozenset({"marketing_campaign_name", "marketing_campaign_id", "category"})
Pair = tuple[dict[str, Any], Location]


class _DryRun(Exception):
    """Raised inside the transaction of a dry run, so that it rolls back."""


def _json_type(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return f"JSON {json.dumps(value)}"
    return {str: "a JSON string", int: "a JSON number", float: "a JSON number",
            list: "a JSON array"}.get(type(value), "a JSON value")


def _where(loc: Location) -> str:
    name, line, index = loc
    return f"{name}:{line}" if index is None else f"{name}:{line} [index {index}]"


class _Mapped:
    """What the files gave: events with their locations, and what was left out."""

    def __init__(self) -> None:
        self.pairs: list[Pair] = []
        self.chosen: list[tuple[str, str]] = []  # (file as shown, provider or "none")
        self.skipped: list[tuple[str, str]] = []  # (reason, location)
        self.ignored: dict[str, int] = {}
        self.lists: dict[int, str] = {}  # unsubscribe group -> list name
        self.unnamed: dict[str, int] = {}  # provider -> events naming no email themselves
        self.bodies = 0
        self.mapped = 0

    def provider_file(self, name: str, use: str, bodies: list[tuple[Any, Any]]) -> None:
        mapper = MAPPERS[use]
        for body, (line, index) in bodies:
            self.bodies += 1
            if not isinstance(body, dict) and not (use == "mandrill" and isinstance(body, list)):
                where = f"line {line}" + ("" if index is None else f", array index {index}")
                raise UserError(
                    f"{printable(name, 200)}: {where}: {_json_type(body)} is not a "
                    f"{NAMES[use]} webhook body (a JSON object). Nothing was imported.")
            looks = sniff_body(body)
            if looks not in (use, None):
                self.skipped.append((f"not a {NAMES[use]} body (looks like {NAMES[looks]})",
                                     _where((name, line, index))))
                continue
            out = Out(use)
            mapper(body, out)
            for reason, i in out.skips:
                self.skipped.append((reason, _where((name, line, index if i is None else i))))
            if out.ignored and not out.events:
                self.ignored[out.ignored] = self.ignored.get(out.ignored, 0) + 1
            for ev, i in out.events:
                self.pairs.append((ev, (name, line, index if i is None else i)))
                if not _NAMING.intersection(ev):
                    self.unnamed[use] = self.unnamed.get(use, 0) + 1
            self.mapped += len(out.events)
            self.lists.update(out.lists)

    def sendgrid_file(self, path: str | os.PathLike[str], name: str, text: str) -> None:
        """SendGrid's own file, read by the SendGrid importer's reader (standard input,
        already read, through a private copy whose name is never shown)."""
        from journeytui.importers.sendgrid import read_events

        if str(path) != STDIN:
            self.pairs.extend(read_events(path))
            return
        with tempfile.TemporaryDirectory(prefix="journeytui-events-") as tmp:
            copy = Path(tmp) / "stdin.json"
            copy.write_text(text, "utf-8")
            try:
                self.pairs.extend((ev, (name, line, index))
                                  for ev, (_, line, index) in read_events(copy))
            except UserError as exc:
                raise UserError(str(exc).replace(str(copy), name)) from None


def read_files(paths: Sequence[str | os.PathLike[str]], provider: str) -> _Mapped:
    """Every file read, recognised and mapped (nothing written); UserError for a file
    that is not JSON, or not what *provider* says."""
    if not paths:
        raise UserError("no files to import; name one or more event files")
    if provider != "auto" and provider not in PROVIDERS:
        raise UserError(f"--provider: unknown provider '{printable(provider, 30)}'; "
                        f"choose auto or one of {', '.join(PROVIDERS)}")
    got = _Mapped()
    for path in paths:
        name, text, bodies = read_bodies(path)
        found, _ = sniff_file(bodies)
        if provider == "auto":
            if found is None:
                if not bodies:
                    got.chosen.append((name, "none"))
                    continue
                raise UserError(
                    f"{printable(name, 200)}: not recognised as events of any of "
                    f"{', '.join(NAMES[p] for p in PROVIDERS)}; give --provider if you know "
                    "which it is. Nothing was imported."
                )
            use = found
        else:
            refuse_other(name, provider, found)
            use = provider
        got.chosen.append((name, use))
        if use == "sendgrid":
            got.sendgrid_file(path, name, text)
        else:
            got.provider_file(name, use, bodies)
    return got


def import_events(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    provider: str = "auto",
    default_email: str | None = None,
    *,
    now: int | None = None,
    dry_run: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> ImportReport:
    """Import provider event files (each one provider, recognised per file with
    ``auto``) into *store* in one transaction, through the SendGrid importer; every
    event keeps its own file, line and array index (provenance, skip reasons).
    *progress* hears how many events are recorded (as the SendGrid importer says it)."""
    from journeytui.importers.sendgrid import import_parsed_events

    got = read_files(paths, provider)
    files = [name for name, _ in got.chosen]
    report: ImportReport | None = None
    try:
        with store.transaction():
            before = snapshot(store) if dry_run else None
            new_lists = ensure_lists(store, got.lists)
            report = import_parsed_events(store, got.pairs, default_email, files=files,
                                          now=now, progress=progress)
            report.add("new_lists", new_lists)
            if before is not None:
                report.preview = dry_run_preview(before, snapshot(store))
                raise _DryRun
    except _DryRun:
        report.dry_run, report.batch_id = True, 0  # type: ignore[union-attr]
    assert report is not None
    _explain(report, got, provider)
    return report


def ensure_lists(store: Store, lists: dict[int, str]) -> int:
    """The providers' own lists (Postmark streams, SES contact lists and topics: group ->
    name, as :class:`_Mapped` ``lists`` has them) under their names, inside the caller's
    transaction and before the SendGrid importer looks them up by group; how many are
    new."""
    if not lists:
        return 0
    rec = Recorder(store)
    new = 0
    for group, name in sorted(lists.items(), key=lambda item: item[1]):
        known = store.conn.execute("SELECT 1 FROM lists WHERE name = ?", (name,)).fetchone()
        rec.ensure_list(name, group)
        new += known is None
    return new


def _explain(report: ImportReport, got: _Mapped, provider: str) -> None:
    """The report in the providers' own terms: which provider each file was, their
    skip reasons, what was ignored, and how their events name an email."""
    report.source = "events"
    for name, use in reversed(got.chosen):
        how = "recognised as" if provider == "auto" else "read as"
        what = "no events" if use == "none" else NAMES[use]
        report.notes.insert(0, f"{printable(name, 200)}: {how} {what}.")
    used = sorted({use for _, use in got.chosen if use in TERMS})
    if got.bodies:
        left = [f"{n:,} {what}" for n, what in (
            (len(got.skipped), "skipped"), (sum(got.ignored.values()), "ignored")) if n]
        report.notes.append(
            f"{got.bodies:,} webhook bod{'ies' if got.bodies != 1 else 'y'} of "
            f"{', '.join(TERMS[p].name for p in used)}: {got.mapped:,} "
            f"event{'s' if got.mapped != 1 else ''} mapped onto SendGrid's event types "
            "(README: Other providers)" + (f"; {' and '.join(left)}, listed below." if left
                                           else ".")
        )
    _reword(report, got)
    for reason, where in got.skipped:  # events read and left out before the importer
        report.skip(reason, where)
        report.records += 1
    for reason, n in got.ignored.items():  # read, so counted as read (as SendGrid's are)
        report.ignored[reason] = report.ignored.get(reason, 0) + n
        report.records += n
    if report.added.get("parked") or report.added.get("no_email") or any(
        TERMS[p].no_email in r for p in used for r in report.skipped
    ):
        for p in used:
            if got.unnamed.get(p):
                report.notes.append(
                    f"{TERMS[p].name}: {got.unnamed[p]:,} event"
                    f"{'s name' if got.unnamed[p] != 1 else ' names'} no email itself; its "
                    f"events name one by {TERMS[p].naming}.")


def _reword(report: ImportReport, got: _Mapped) -> None:
    """The SendGrid importer's skip reasons about which email and duplicates, said in
    the terms of the provider whose files the skipped events came from."""
    from journeytui.importers.sendgrid import DUPLICATE, NO_EMAIL

    owner = dict(got.chosen)
    by_length = sorted(owner, key=len, reverse=True)

    def provider_of(location: str) -> str | None:
        return next((owner[n] for n in by_length if location.startswith(f"{n}:")), None)

    def words(reason: str, provider: str | None) -> str:
        if provider is None or provider not in TERMS:
            return reason
        return TERMS[provider].no_email if reason == NO_EMAIL else TERMS[provider].duplicate

    every = sorted(use for use in set(owner.values()) if use != "none")
    rebuilt: dict[str, Skipped] = {}

    def put(reason: str, count: int, locations: list[str]) -> None:
        entry = rebuilt.setdefault(reason, Skipped())
        entry.count += count
        entry.locations.extend(locations)

    for reason, entry in report.skipped.items():
        if reason not in (NO_EMAIL, DUPLICATE):
            put(reason, entry.count, entry.locations)
            continue
        found = [provider_of(loc) for loc in entry.locations]
        if entry.count == len(entry.locations) and None not in found:
            for p in dict.fromkeys(found):  # every location listed: exact per provider
                mine = [loc for loc, q in zip(entry.locations, found, strict=True) if q == p]
                put(words(reason, p), len(mine), mine)
        else:  # some locations are not listed: any provider of the import may be in it
            put(" / ".join(words(reason, p) for p in every), entry.count, entry.locations)
    report.skipped = rebuilt

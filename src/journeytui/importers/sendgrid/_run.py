"""The import: every event read and checked first, then attributed to its email and
applied in one transaction (dry run, parked events, journeys advanced)."""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from journeytui.errors import UserError
from journeytui.importers._common import STDIN, STDIN_NAME
from journeytui.importers._report import (
    ImportReport,
    advance_journeys,
    dry_run_preview,
    printable,
    snapshot,
)
from journeytui.importers.sendgrid._apply import _has_rows, _Importer
from journeytui.importers.sendgrid._events import (
    _DETAIL_KINDS,
    _EMAIL_BY,
    _IGNORE_PREFIX,
    _NO_EMAIL_OK,
    _TOO_DEEP,
    DUPLICATE,
    FUTURE_HORIZON_S,
    LABELS,
    NO_EMAIL,
    PROVIDER_EVENT,
    EmailKey,
    Loc,
    Location,
    _category_key,
    _check,
    _detail,
    _Event,
    _event_id,
    _group_id,
    _message,
    _own_key,
    _variant,
    _where,
    parse_email_by,
)
from journeytui.importers.sendgrid._read import read_events
from journeytui.store import Store
from journeytui.store.recorder import SendDetail

#: The page cache of an import of more than _BIG_IMPORT events (negative: KiB).
IMPORT_CACHE_KIB = -65_536
_BIG_IMPORT = 10_000


class _DryRun(Exception):
    """Raised inside the transaction of a dry run, so that it rolls back."""


def _collect(
    pairs: Iterable[tuple[dict[str, Any], Location]],
    report: ImportReport,
    latest: int,
    names: dict[str, None],
) -> list[_Event]:
    """Check every event of *pairs* (all read before anything is written): the ones
    worth applying, sorted by (timestamp, order read); the rest are skipped or ignored
    in *report*.  *names* gets the locations' file names, in order of first appearance."""
    pending: list[_Event] = []
    keys: dict[EmailKey, EmailKey] = {}  # one tuple per distinct key, not one per event
    order = 0
    by = _EMAIL_BY.get()
    name: str | None = None
    for ev, where in pairs:
        loc: Loc = where if len(where) == 3 else (where[0], where[1], None)  # type: ignore[assignment]
        if loc[0] is not name:
            name = loc[0]
            names.setdefault(name, None)
        order += 1
        checked = _check(ev, latest)
        if isinstance(checked, str):
            if checked.startswith(_IGNORE_PREFIX):
                report.ignore(checked[len(_IGNORE_PREFIX):])
            else:
                report.skip(checked, _where(loc))
            continue
        kind, ts, address = checked
        own = ev.get(PROVIDER_EVENT)
        try:  # the provider's own name is not part of the event's identity
            event_id = _event_id(ev if own is None else
                                 {k: v for k, v in ev.items() if k != PROVIDER_EVENT}, kind)
        except (RecursionError, ValueError):
            report.skip(_TOO_DEEP, _where(loc))
            continue
        key = by(ev) if by is not None else None
        if key is None:
            key = _own_key(ev)
        if key is not None:
            key = keys.setdefault(key, key)
        cat = _category_key(ev) if key is None else None  # only read without a key
        if cat is not None:
            cat = keys.setdefault(cat, cat)
        url = ev["url"] if kind == "click" else None
        if kind == "open":
            flag = ev.get("sg_machine_open") is True
        else:
            flag = kind == "bounce" and ev.get("type") != "blocked"
        group = ev.get("asm_group_id")
        if group is not None:
            group = _group_id(group)
        pending.append(
            _Event(ts, order, kind, address, key, cat, _message(ev), event_id, url, flag,
                   group, _detail(ev, kind) if kind in _DETAIL_KINDS else None, loc,
                   _variant(ev) if ("marketing_campaign_version" in ev
                                    or "marketing_campaign_split_id" in ev) else None,
                   own if isinstance(own, str) else None)
        )
    report.records += order
    pending.sort()
    return pending


def _known_messages(store: Store, messages: set[str]) -> dict[str, int]:
    """Message id -> email id of the *messages* an earlier import recorded."""
    out: dict[str, int] = {}
    if not _has_rows(store, "messages"):
        return out
    items = list(messages)
    for i in range(0, len(items), 500):
        chunk = items[i : i + 500]
        rows = store.conn.execute(
            "SELECT message_id, email_id FROM messages WHERE message_id IN"
            f" ({', '.join('?' * len(chunk))})",
            chunk,
        )
        out.update((m, int(e)) for m, e in rows)
    return out


def _unpark(store: Store, messages: set[str], skip_ids: set[str]) -> list[_Event]:
    """The events earlier imports parked for *messages* (taken out of parked_events;
    those still without an email are parked again).  Events this import holds too
    (*skip_ids*) are left to this import's copy."""
    out: list[_Event] = []
    if not _has_rows(store, "parked_events"):
        return out
    items = sorted(messages)
    for i in range(0, len(items), 500):
        chunk = items[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        rows = store.conn.execute(
            "SELECT p.event_id, p.message_id, c.email, p.at, p.event FROM parked_events p"
            f" JOIN contacts c ON c.id = p.contact_id WHERE p.message_id IN ({marks})"
            " ORDER BY p.at, p.event_id",
            chunk,
        ).fetchall()
        if not rows:
            continue
        store.conn.execute(f"DELETE FROM parked_events WHERE message_id IN ({marks})", chunk)
        for event_id, msg, address, at, payload in rows:
            if event_id in skip_ids:
                continue
            kind, url, flag, group, detail, loc, *rest = json.loads(payload)
            out.append(_Event(
                at, -1 - len(out), kind, address, None, None, msg, event_id, url, bool(flag),
                group, None if detail is None else SendDetail(*detail),
                (str(loc[0]), int(loc[1]), loc[2]), rest[0] if rest else None,
                rest[1] if len(rest) > 1 else None,
            ))
    return out


def _attribute(
    pending: list[_Event], known: dict[str, int], default: EmailKey | None
) -> Iterator[tuple[_Event, EmailKey | None]]:
    """Each event with the email it belongs to (see the module docstring's order)."""
    named: dict[str, EmailKey] = {}  # message -> the first email one of its events named
    tagged: dict[str, EmailKey] = {}  # message -> the first category rule's answer
    for ev in pending:
        if ev.msg is not None:
            if ev.key is not None:
                named.setdefault(ev.msg, ev.key)
            elif ev.cat is not None:
                tagged.setdefault(ev.msg, ev.cat)
    for ev in pending:
        key = ev.key
        if key is None and ev.msg is not None:
            key = named.get(ev.msg)
            if key is None and ev.msg in known:
                key = ("id", known[ev.msg])
            if key is None:
                key = tagged.get(ev.msg)
        if key is None:
            key = ev.cat or default
        yield ev, key


def import_sendgrid(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    default_email: str | None = None,
    *,
    now: int | None = None,
    dry_run: bool = False,
    source: tuple[str, str] | None = None,
    email_by: str | None = None,
) -> ImportReport:
    """Import SendGrid Event Webhook files into *store* in one transaction.

    The files are read with :func:`read_events` and imported by
    :func:`import_parsed_events` (see there for *default_email*, *now*, *dry_run*,
    *source* and *email_by*).  Every file is read and checked before anything is
    written; a structurally malformed file raises :class:`UserError` and the store is
    left as it was.  *source* defaults to ``stdin`` when reading ``-``, a webhook request
    for the receiver's spool files, else ``file`` with the file names as the label.
    """
    if not paths:
        raise UserError("no files to import; name one or more SendGrid event files")
    shown = [STDIN_NAME if str(p) == STDIN else str(Path(p)) for p in paths]

    def events() -> Iterator[tuple[dict[str, Any], Location]]:
        for path in paths:
            yield from read_events(path)

    return import_parsed_events(
        store, events(), default_email, files=shown, now=now, dry_run=dry_run,
        source=source or _default_source(paths, shown), email_by=email_by,
    )


def import_parsed_events(
    store: Store,
    events: Iterable[tuple[dict[str, Any], Location]],
    default_email: str | None = None,
    *,
    files: Sequence[str] | None = None,
    now: int | None = None,
    dry_run: bool = False,
    source: tuple[str, str] | None = None,
    email_by: str | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> ImportReport:
    """Import already-parsed SendGrid events, each with where it came from, into
    *store* in one transaction — what a file import does after reading its files.

    *events* yields ``(event, location)`` pairs: *event* is one event object in
    SendGrid's vocabulary (a dict as the Event Webhook posts it); *location* is
    ``(name, line)`` or ``(name, line, index)`` — the file name as the user gave it (or
    ``"<stdin>"``, or a webhook request's label), the line from 1, and the index in a
    JSON array (or None).  Provenance (``journeytui explain``), skip reasons and
    duplicates name these locations.  The iterable is read to its end before anything
    is written: an exception it raises (a :class:`UserError` for a malformed file)
    leaves the store as it was.  Same guarantees as a file import: one transaction,
    deduplication, skip reasons with their locations, parked events, the journeys
    advanced, and a report.

    *files* are the names the report lists and the import batch records, in order
    (default: the locations' names in order of first appearance); a name no event came
    from is noted as holding no events.  *default_email* (``--email``) names the email of
    events nothing else attributes.  *email_by* (``custom_arg:NAME`` or ``category:N``)
    names the field that says which email an event belongs to, tried before the built-in
    order (see the module's docstring).  *now* (default: the clock) is when the import
    runs: events dated more than a day after it are skipped.  With *dry_run* everything
    is computed in the transaction and rolled back; the report's ``preview`` says what
    would have changed.  *source* is (kind, label) of the import batch recorded for
    provenance (kind file, stdin, webhook or demo; default ``stdin`` if a location names
    ``<stdin>``, else ``file`` labelled by the file names).  The batch's id is
    ``report.batch_id``.  *progress* (``report(stage, done, total)``) hears how many
    events are recorded, then that the journeys are advanced.
    """
    if default_email is not None:
        default_email = default_email.strip()
        if not default_email:
            raise UserError("--email: the email name is empty")
    report = ImportReport(source="sendgrid", files=list(files or []), dry_run=dry_run)
    for kind in LABELS:
        report.added[kind] = 0
    latest = (int(time.time()) if now is None else now) + FUTURE_HORIZON_S
    token = _EMAIL_BY.set(parse_email_by(email_by) if email_by else None)
    # Hundreds of thousands of small tuples that live until the end: the cyclic
    # garbage collector would walk them again and again for nothing (none are cycles).
    collecting = gc.isenabled()
    gc.disable()
    try:
        names: dict[str, None] = {}
        pending = _collect(events, report, latest, names)
        if files is None:
            report.files = list(names)
        for name in report.files:
            if name not in names:
                report.notes.append(f"{printable(name, 200)}: no events in this file.")
        if source is None:
            source = ("stdin", STDIN_NAME) if STDIN_NAME in names else (
                "file", _label(report.files))
        return _import(store, pending, default_email, report, dry_run, source, now,
                       progress)
    finally:
        if collecting:
            gc.enable()
        _EMAIL_BY.reset(token)


def _told(
    items: Iterator[tuple[_Event, EmailKey | None]], total: int, progress: Callable[[str, int, int | None], None] | None,
) -> Iterator[tuple[_Event, EmailKey | None]]:
    """*items* as they are applied, saying every 4,096 how many (a progress display)."""
    if progress is None:
        yield from items
        return
    for i, item in enumerate(items):
        if not i % 4096:
            progress("recording the events", i, total)
        yield item
    progress("recording the events", total, total)


def _label(names: Sequence[str]) -> str:
    label = " ".join(names)
    return label[:199] + "…" if len(label) > 200 else label


def _default_source(paths: Sequence[str | os.PathLike[str]], shown: list[str]) -> tuple[str, str]:
    """(kind, label) of an import batch: stdin, a webhook request (the receiver's and
    ``webhook follow``'s spool files), else files named by the label."""
    if any(str(p) == STDIN for p in paths):
        return "stdin", STDIN_NAME
    if len(paths) == 1:
        spool = Path(paths[0])
        if spool.parent.name.startswith("journeytui-webhook-"):
            return "webhook", f"webhook {spool.stem}"
        if spool.parent.name.startswith("journeytui-follow-"):
            return "webhook", "webhook follow (standard input)"
    return "file", _label(shown)


def _import(
    store: Store,
    pending: list[_Event],
    default_email: str | None,
    report: ImportReport,
    dry_run: bool,
    source: tuple[str, str],
    now: int | None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> ImportReport:
    default = ("named", default_email) if default_email else None
    conn = store.conn
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    if len(pending) > _BIG_IMPORT:
        # A larger page cache while a big import writes: the index pages of the sends,
        # events and sources it grows stay in memory (fewer spills of the transaction).
        conn.execute(f"PRAGMA cache_size = {IMPORT_CACHE_KIB}")
    try:
        with store.transaction():
            before = snapshot(store) if dry_run else None
            imp = _Importer(store, report)
            imp.start_batch(*source, report.files, int(time.time()) if now is None else now)
            messages = {ev.msg for ev in pending if ev.msg is not None}
            event_ids = {ev.event_id for ev in pending}
            unparked = _unpark(store, messages, event_ids)
            if unparked:
                pending = sorted(pending + unparked)
                event_ids.update(ev.event_id for ev in unparked)
            known = _known_messages(store, messages)
            imp.rec.new_messages = messages - known.keys()
            imp.prepare_seen(event_ids)
            imp.know_contacts(pending)
            waiting = 0
            emails = imp.emails  # key -> email id, filled by imp.email
            for event, key in _told(_attribute(pending, known, default), len(pending), progress):
                if key is None and event.kind not in _NO_EMAIL_OK:
                    if event.msg is not None:  # a later import may name its message
                        imp.park(event)
                        waiting += 1
                    else:
                        report.skip(NO_EMAIL, _where(event.loc))
                    continue
                if event.order < 0:
                    report.add("unparked")
                if imp.seen(event.event_id):
                    report.skip(DUPLICATE, _where(event.loc))
                    continue
                if key is None:
                    email_id = None
                else:
                    email_id = emails.get(key) or imp.email(key, event.ts)
                imp.apply(event, email_id)
                imp.trace(event)
            if waiting:
                report.add("parked", waiting)
                report.notes.append(
                    (f"{waiting:,} events name no email and belong to messages"
                     if waiting != 1 else "1 event names no email and belongs to a message")
                    + " no import has named yet: kept aside, applied when a later import "
                    "names the message (or give --email NAME)."
                )
            imp.finish()
            report.batch_id = imp.batch_id
            report.add("new_contacts", imp.new_contacts)
            if progress is not None:
                progress("advancing the journeys", 0, None)
            advance_journeys(store, report)
            if before is not None:
                report.preview = dry_run_preview(before, snapshot(store))
                raise _DryRun
    except _DryRun:
        pass
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")
    return report

"""Import SendGrid Event Webhook payloads (plain Python, no textual).

A file is either what a webhook receives — one JSON array of event objects (or
several arrays one after the other, as a log of webhook POST bodies one per line) — or
one JSON event object per line (NDJSON, blank lines allowed).  The first character that
is not white space decides: ``[`` is an array, ``{`` is one event per line (a file
holding a single event object, even spread over several lines, is read as that one
event).

What fails the whole import (nothing is written, the store stays exactly as it was):

* a file that cannot be read or is not UTF-8 (an empty file, or ``[]``, holds no
  events and is only noted in the report);
* a file that is not JSON where it must be: the array is not valid JSON, or a line of
  an NDJSON file is not valid JSON;
* a top level that is neither an array nor an object, an array element or a line that
  is not a JSON object (``[1, 2]``, a line holding ``"text"``), or a single object that
  is not an event (no ``event`` field).

The message names the file, the line (and for arrays the index of the element) and
what was expected.

What skips one event (the rest are imported; the report counts each reason and lists
the first few locations as ``FILE:LINE`` or ``FILE:LINE [index N]``):

* a missing or wrong ``event``, ``timestamp`` (integer unix seconds; a value that looks
  like milliseconds is refused), or ``email`` (must look like an address);
* a ``click`` without ``url``, a ``group_unsubscribe``/``group_resubscribe`` without an
  integer ``asm_group_id``, a ``bounce`` whose ``type`` is not ``bounce``/``blocked``;
* an unknown event type;
* an event that belongs to no email (see below) — except unsubscribes, which always
  act on the contact (PRODUCT.md §2) and are applied without an email;
* an ``sg_event_id`` already imported (so importing a file twice changes nothing).
  An event without ``sg_event_id`` is deduplicated by a hash of its whole content.

``delivered`` and ``deferred`` are read and deliberately not counted ("ignored").

Which email an event belongs to: ``marketing_campaign_name`` (an email of that name;
if there is none but an email has the event's ``marketing_campaign_id``, that one — a
campaign renamed at SendGrid); else ``marketing_campaign_id`` (the email with that
``campaign_id``, else an email named by the id); else the first ``category`` (a string
or the first of a list); else the ``--email NAME`` given.  An email not yet in the store
is created with status ``sent``, ``send_at`` = its earliest imported event, and (when
its events carry ``asm_group_id``) the list of that unsubscribe group.  An email that
is still a draft or scheduled is marked sent with that time (it has statistics now),
and the report says so; a sent email without a send time gets that time too.  An email
found by name learns the event's ``marketing_campaign_id`` if it has none yet.

Mapping: ``processed`` → a send; ``dropped`` → a dropped send (counts as sent and as
bounced); ``bounce`` with type ``bounce`` → hard bounce, ``blocked`` → soft bounce (a
bounce with no type is hard); ``open`` (``sg_machine_open: true`` → a machine open);
``click`` on ``url``; ``unsubscribe`` → from all; ``group_unsubscribe`` → from the list
of its ``asm_group_id``; ``group_resubscribe`` → subscribed to that list again;
``spamreport`` → spam report.  An address not yet known becomes a contact without
tracking consent.  Events are applied in (timestamp, file order) so a bounce follows
its ``processed`` even when the file lists it first.  All writes go through
:class:`journeytui.store.Recorder`, which applies the consent rule.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from journeytui.errors import UserError
from journeytui.importers._common import is_address, read_text
from journeytui.importers._report import ImportReport, advance_journeys, printable
from journeytui.store import ContactRef, Recorder, Store

__all__ = ["LABELS", "import_sendgrid", "read_events"]

# Timestamps above this are taken for milliseconds (year 5138 in seconds).
_MAX_SECONDS = 100_000_000_000

IGNORED = frozenset({"delivered", "deferred"})
HANDLED = frozenset(
    {
        "processed",
        "dropped",
        "bounce",
        "open",
        "click",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
        "spamreport",
    }
)
# Events that act on the contact even when no email can be found for them.
_NO_EMAIL_OK = frozenset({"unsubscribe", "group_unsubscribe", "group_resubscribe"})

#: Labels for the text report, in the order the kinds are added.
LABELS = {
    "sent": "sent",
    "dropped": "dropped (counted in sent and bounced)",
    "bounced_hard": "bounced (hard)",
    "bounced_soft": "bounced (soft)",
    "opens": "opens",
    "machine_opens": "machine opens",
    "clicks": "clicks",
    "bot_clicks": "suspected bot clicks",
    "anonymous": "opens/clicks kept anonymous (no consent)",
    "unsubscribes_all": "unsubscribes from all",
    "unsubscribes_list": "unsubscribes from a list",
    "resubscribes": "resubscribes to a list",
    "spam_reports": "spam reports",
    "new_contacts": "new contacts (without tracking consent)",
    "new_emails": "new emails",
    "new_lists": "new lists",
}

NO_EMAIL = (
    "no email (no marketing_campaign_name, marketing_campaign_id or category; give --email NAME)"
)
DUPLICATE = "duplicate sg_event_id (already imported)"
IGNORE = "ignored"  # _check's answer for delivered/deferred

_NAMES_LISTED = 10

_WS = re.compile(r"[ \t\n\r]*")

# A location: (file name, line, array index or None); formatted only when needed.
Loc = tuple[str, int, int | None]
# Which email: ("name", name, campaign_id) | ("cid", campaign_id) | ("named", name)
EmailKey = tuple[str, ...]


def _where(loc: Loc) -> str:
    name, line, index = loc
    return f"{name}:{line}" if index is None else f"{name}:{line} [index {index}]"


def _fail(name: str, line: int, what: str) -> UserError:
    return UserError(f"{name}: line {line}: {what}. Nothing was imported.")


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    if value is None:
        return "JSON null"
    return "a JSON value"


# -- reading files --------------------------------------------------------------------
def read_events(path: str | os.PathLike[str]) -> Iterator[tuple[dict[str, Any], Loc]]:
    """Each event object of one payload file with its location.

    Raises :class:`UserError` (naming file, line and what was expected) for a file that
    is structurally not an event payload; see the module docstring.
    """
    name = str(path)
    text = read_text(path, "a SendGrid event file")
    start = _WS.match(text, 0)
    pos = start.end() if start else 0
    if pos >= len(text):
        return  # an empty file holds no events (import_sendgrid notes it)
    first = text[pos]
    if first == "[":
        yield from _read_array(text, pos, name)
    elif first == "{":
        yield from _read_lines(text, name)
    else:
        line = text.count("\n", 0, pos) + 1
        raise _fail(
            name,
            line,
            f"starts with '{printable(first)}'; expected a JSON array of SendGrid events "
            "('[') or one JSON event per line ('{')",
        )


def _read_array(text: str, pos: int, name: str) -> Iterator[tuple[dict[str, Any], Loc]]:
    """One JSON array of events — or several in a row (one webhook POST body per line)."""
    decoder = json.JSONDecoder()
    ws = _WS.match
    n = len(text)
    line, counted = 1, 0
    while pos < n:  # at a '['
        pos = ws(text, pos + 1).end()  # type: ignore[union-attr]
        if text.startswith("]", pos):
            pos += 1
        else:
            index = 0
            while True:
                line += text.count("\n", counted, pos)
                counted = pos
                try:
                    obj, end = decoder.raw_decode(text, pos)
                except json.JSONDecodeError as exc:
                    raise _fail(
                        name,
                        exc.lineno,
                        f"not valid JSON ({exc.msg}, column {exc.colno}, in array element "
                        f"index {index})",
                    ) from None
                if not isinstance(obj, dict):
                    raise _fail(
                        name,
                        line,
                        f"array element index {index} is {_type_name(obj)}, not an event object",
                    )
                yield obj, (name, line, index)
                pos = ws(text, end).end()  # type: ignore[union-attr]
                ch = text[pos : pos + 1]
                if ch == ",":
                    pos = ws(text, pos + 1).end()  # type: ignore[union-attr]
                    index += 1
                    continue
                if ch == "]":
                    pos += 1
                    break
                at = text.count("\n", 0, pos) + 1
                if not ch:
                    raise _fail(name, at, "not valid JSON (the array is not closed with ']')")
                raise _fail(name, at, f"not valid JSON (expected ',' or ']' after index {index})")
        pos = ws(text, pos).end()  # type: ignore[union-attr]
        if pos < n and text[pos] != "[":
            raise _fail(
                name,
                text.count("\n", 0, pos) + 1,
                "not valid JSON (text after the closing ']' that does not start another array)",
            )


def _read_lines(text: str, name: str) -> Iterator[tuple[dict[str, Any], Loc]]:
    # A single event object spread over several lines is one event, not NDJSON.
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        if "event" not in whole:
            raise _fail(
                name,
                1,
                "a JSON object that is not a SendGrid event (no 'event' field); expected "
                "a JSON array of events or one event per line",
            )
        yield whole, (name, 1, None)
        return
    loads = json.loads
    n = len(text)
    start, number = 0, 0
    while start < n:
        end = text.find("\n", start)
        if end < 0:
            end = n
        line = text[start:end].strip()
        start = end + 1
        number += 1
        if not line:
            continue
        try:
            obj = loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(
                name,
                number,
                f"not valid JSON ({exc.msg}, column {exc.colno}); each line must hold one "
                "JSON event object",
            ) from None
        if not isinstance(obj, dict):
            raise _fail(name, number, f"{_type_name(obj)}, not an event object")
        yield obj, (name, number, None)


# -- checking one event -----------------------------------------------------------------
def _timestamp(value: Any) -> int | str:
    """The time in seconds, or the reason it is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "field 'timestamp' is not a number (unix seconds)"
    if isinstance(value, float):
        if not value.is_integer():
            return "field 'timestamp' is not a whole number of seconds"
        value = int(value)
    if value < 0:
        return "field 'timestamp' is negative"
    if value >= _MAX_SECONDS:
        return "field 'timestamp' looks like milliseconds; expected unix seconds"
    return value


def _group_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class _Event(NamedTuple):
    """What pass 2 needs of one checked event (small, so big files fit in memory).

    Sorting these sorts by (timestamp, order in the files): ``order`` is unique.
    """

    ts: int
    order: int
    kind: str
    address: str
    key: EmailKey | None
    event_id: str
    url: str | None  # click
    flag: bool  # open: machine open; bounce: hard
    group: int | None  # asm_group_id
    loc: Loc


def _check(ev: dict[str, Any]) -> tuple[str, int, str] | str:
    """(kind, timestamp, address) of an event worth applying, or the reason to skip it."""
    kind = ev.get("event")
    if kind is None:
        return "missing field 'event'"
    if not isinstance(kind, str):
        return "field 'event' is not a string"
    if kind not in HANDLED:
        if kind in IGNORED:
            return IGNORE
        return f"unknown event type '{printable(kind, 40)}'"
    if "timestamp" not in ev:
        return "missing field 'timestamp'"
    ts = _timestamp(ev["timestamp"])
    if isinstance(ts, str):
        return ts
    address = ev.get("email")
    if address is None or address == "":
        return "missing field 'email'"
    if not isinstance(address, str) or not is_address(address):
        return "field 'email' is not an email address"
    if kind == "click":
        url = ev.get("url")
        if url is None or url == "":
            return "missing field 'url' (click)"
        if not isinstance(url, str):
            return "field 'url' is not a string (click)"
    elif kind in ("group_unsubscribe", "group_resubscribe"):
        if ev.get("asm_group_id") is None:
            return f"missing field 'asm_group_id' ({kind})"
        if _group_id(ev["asm_group_id"]) is None:
            return f"field 'asm_group_id' is not an integer ({kind})"
    elif kind == "bounce":
        btype = ev.get("type", "bounce")
        if btype not in ("bounce", "blocked", None):
            return f"bounce of unknown type '{printable(btype, 30)}' (expected bounce or blocked)"
    return kind, ts, address.strip().lower()


def _event_id(ev: dict[str, Any]) -> str:
    eid = ev.get("sg_event_id")
    if isinstance(eid, str) and eid:
        return eid
    if isinstance(eid, int) and not isinstance(eid, bool):
        return str(eid)
    canonical = json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _email_key(ev: dict[str, Any], default_email: str | None) -> EmailKey | None:
    name = _text(ev.get("marketing_campaign_name"))
    cid = _text(ev.get("marketing_campaign_id"))
    if name:
        return ("name", name, cid or "")
    if cid:
        return ("cid", cid)
    category = ev.get("category")
    if isinstance(category, list):
        category = next((c for c in category if _text(c)), None)
    cat = _text(category)
    if cat:
        return ("named", cat)
    if default_email:
        return ("named", default_email)
    return None


# -- applying -----------------------------------------------------------------------------
class _Importer:
    def __init__(self, store: Store, report: ImportReport) -> None:
        self.store = store
        self.c = store.conn
        self.rec = Recorder(store)
        self.report = report
        self.emails: dict[EmailKey, int] = {}
        self.created_emails: set[int] = set()
        self.email_has_list: set[int] = set()
        self.contacts: dict[str, ContactRef] = {}
        self.groups: dict[int, int] = {}

    def _find(self, column: str, value: str) -> tuple[int, str, str] | None:
        """(id, status, name) of the email whose *column* is *value*."""
        row = self.c.execute(
            f"SELECT id, status, name FROM emails WHERE {column} = ?", (value,)
        ).fetchone()
        return (int(row[0]), str(row[1]), str(row[2])) if row else None

    def email(self, key: EmailKey, at: int) -> int:
        email_id = self.emails.get(key)
        if email_id is not None:
            return email_id
        kind = key[0]
        found: tuple[int, str, str] | None
        if kind == "name":
            name, cid = key[1], key[2] or None
            found = self._find("name", name) or (self._find("campaign_id", cid) if cid else None)
        elif kind == "cid":
            cid = name = key[1]
            found = self._find("campaign_id", cid) or self._find("name", name)
        else:
            name, cid = key[1], None
            found = self._find("name", name)
        if found is not None:
            email_id, status, stored_name = found
            if cid:  # remember the provider's id, so events that carry only the id find it
                self.rec.fill_campaign_id(email_id, cid)
            if status == "sent":  # a sent email without a time gets its earliest event's
                self.rec.fill_send_time(email_id, at)
            else:
                self.rec.mark_sent(email_id, at)
                self.report.notes.append(
                    f"Email '{printable(stored_name)}' was {status}; it is now marked sent."
                )
        else:
            email_id = self.rec.ensure_email(name, status="sent", send_at=at, campaign_id=cid)
            self.created_emails.add(email_id)
            self.report.add("new_emails")
            created = self.report.added["new_emails"]
            if created <= _NAMES_LISTED:
                self.report.notes.append(f"Created email '{printable(name)}' (status sent).")
            elif created == _NAMES_LISTED + 1:
                self.report.notes.append("Created more emails (see the count below).")
        self.emails[key] = email_id
        return email_id

    def list_for_group(self, group: int) -> int:
        list_id = self.groups.get(group)
        if list_id is None:
            known = self.c.execute(
                "SELECT id FROM lists WHERE asm_group_id = ?", (group,)
            ).fetchone()
            list_id = self.rec.list_for_group(group)
            if not known:
                self.report.add("new_lists")
            self.groups[group] = list_id
        return list_id

    def contact(self, addr: str, at: int) -> ContactRef:
        ref = self.contacts.get(addr)
        if ref is None:
            # created without consent if new; new ones are counted once at the end
            ref = self.contacts[addr] = self.rec.contact(addr, consent=False, at=at)
        return ref  # type: ignore[return-value]

    def apply(self, ev: _Event, email_id: int | None) -> None:
        report, rec = self.report, self.rec
        kind, at, group = ev.kind, ev.ts, ev.group
        contact = self.contact(ev.address, at)
        if (
            email_id is not None
            and group is not None
            and email_id in self.created_emails
            and email_id not in self.email_has_list
        ):
            self.email_has_list.add(email_id)
            self.rec.fill_list(email_id, self.list_for_group(group))
        if kind == "processed":
            assert email_id is not None
            rec.send(email_id, contact, at)
            report.add("sent")
        elif kind == "dropped":
            assert email_id is not None
            rec.send(email_id, contact, at, dropped=True)
            report.add("sent")
            report.add("dropped")
        elif kind == "bounce":
            assert email_id is not None
            hard = ev.flag
            if not rec.bounce(email_id, contact, at, hard=hard):
                report.add("sent")  # the bounce proves a send that was not on record
            report.add("bounced_hard" if hard else "bounced_soft")
        elif kind == "open":
            assert email_id is not None
            rec.open(email_id, contact, at, machine=ev.flag)
            report.add("machine_opens" if ev.flag else "opens")
            if not contact.consent:
                report.add("anonymous")
        elif kind == "click":
            assert email_id is not None and ev.url is not None
            bot = rec.click(email_id, contact, ev.url, at)
            report.add("bot_clicks" if bot else "clicks")
            if not contact.consent:
                report.add("anonymous")
        elif kind == "unsubscribe":
            rec.unsubscribe(contact, at, email_id=email_id)
            report.add("unsubscribes_all")
        elif kind == "group_unsubscribe":
            assert group is not None
            list_id = self.list_for_group(group)
            rec.unsubscribe(contact, at, email_id=email_id, list_id=list_id)
            report.add("unsubscribes_list")
        elif kind == "group_resubscribe":
            assert group is not None
            list_id = self.list_for_group(group)
            rec.resubscribe(contact, list_id, at, email_id=email_id)
            report.add("resubscribes")
        elif kind == "spamreport":
            assert email_id is not None
            rec.spam_report(email_id, contact, at)
            report.add("spam_reports")
        else:  # pragma: no cover - _check lets only HANDLED kinds through
            raise AssertionError(kind)


def import_sendgrid(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    default_email: str | None = None,
) -> ImportReport:
    """Import SendGrid Event Webhook files into *store* in one transaction.

    Every file is read and checked before anything is written; a structurally
    malformed file raises :class:`UserError` and the store is left as it was.
    """
    if not paths:
        raise UserError("no files to import; name one or more SendGrid event files")
    if default_email is not None:
        default_email = default_email.strip()
        if not default_email:
            raise UserError("--email: the email name is empty")
    report = ImportReport(source="sendgrid", files=[str(Path(p)) for p in paths])
    for kind in LABELS:
        report.added[kind] = 0

    pending: list[_Event] = []
    keys: dict[EmailKey, EmailKey] = {}  # one tuple per distinct key, not one per event
    order = 0
    for path in paths:
        records_before = report.records
        for ev, loc in read_events(path):
            report.records += 1
            order += 1
            checked = _check(ev)
            if isinstance(checked, str):
                if checked is IGNORE:
                    report.ignore(ev["event"])
                else:
                    report.skip(checked, _where(loc))
                continue
            kind, ts, address = checked
            key = _email_key(ev, default_email)
            if key is not None:
                key = keys.setdefault(key, key)
            url = ev["url"] if kind == "click" else None
            if kind == "open":
                flag = ev.get("sg_machine_open") is True
            else:
                flag = kind == "bounce" and ev.get("type") != "blocked"
            group = _group_id(ev.get("asm_group_id"))
            pending.append(
                _Event(ts, order, kind, address, key, _event_id(ev), url, flag, group, loc)
            )
        if report.records == records_before:
            report.notes.append(f"{printable(str(path), 200)}: no events in this file.")
    pending.sort()

    with store.transaction():
        contacts_before = store.count("contacts")
        imp = _Importer(store, report)
        for event in pending:
            if event.key is None and event.kind not in _NO_EMAIL_OK:
                report.skip(NO_EMAIL, _where(event.loc))
                continue
            if imp.rec.seen(event.event_id):
                report.skip(DUPLICATE, _where(event.loc))
                continue
            email_id = imp.email(event.key, event.ts) if event.key is not None else None
            imp.apply(event, email_id)
        report.add("new_contacts", store.count("contacts") - contacts_before)
        advance_journeys(store, report)
    return report

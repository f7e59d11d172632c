"""Import SendGrid Event Webhook payloads (plain Python, no textual).

A file is either what a webhook receives — one JSON array of event objects (or
several arrays one after the other, as a log of webhook POST bodies one per line) — or
one JSON event object per line (NDJSON, blank lines allowed).  The first character that
is not white space decides: ``[`` is an array, ``{`` is one event per line (a file
holding a single event object, even spread over several lines, is read as that one
event).  ``-`` reads standard input.  Events already parsed elsewhere (other providers
mapped onto SendGrid's vocabulary, webhook requests) go through
:func:`import_parsed_events` with their own locations; a file import uses it too.

What fails the whole import (nothing is written, the store stays exactly as it was):

* a file that cannot be read or is not UTF-8 (an empty file, or ``[]``, holds no
  events and is only noted in the report);
* a file that is not JSON where it must be: the array is not valid JSON, or a line of
  an NDJSON file is not valid JSON, or JSON nested too deeply to read;
* a top level that is neither an array nor an object, an array element or a line that
  is not a JSON object (``[1, 2]``, a line holding ``"text"``), or a single object that
  is not an event (no ``event`` field).

The message names the file, the line (and for arrays the index of the element) and
what was expected.

What skips one event (the rest are imported; the report counts each reason and lists
the first few locations as ``FILE:LINE`` or ``FILE:LINE [index N]``):

* a missing or wrong ``event``, ``timestamp`` (unix seconds, as a number or a string
  of digits; a value that looks like milliseconds is refused), or ``email``;
* a timestamp more than a day after the import runs (it would move the journeys'
  evaluation clock into the future);
* a ``click`` without ``url``, a ``group_unsubscribe``/``group_resubscribe`` without an
  integer ``asm_group_id``, an ``asm_group_id`` outside SQLite's 64-bit integers, a
  ``bounce`` whose ``type`` is not ``bounce``/``blocked``;
* an unknown event type (``account_status_change`` is not about an email: "ignored");
* an event that belongs to no email (see below) and carries no ``sg_message_id`` —
  except unsubscribes and spam reports, which always act on the contact (PRODUCT.md
  §2).  One that carries a message id nobody has named yet waits in
  ``parked_events`` until an import names that message (or gives ``--email``), so
  events split over several imports in any order give what one import gives;
* an event already imported: the same ``sg_event_id`` *and* event type (so importing
  a file twice changes nothing; documentation examples that reuse one placeholder id
  for every event type still import).  Without ``sg_event_id`` an event is
  deduplicated by a hash of its whole content.

Which email an event belongs to, first match wins: ``singlesend_name``/``_id`` (a
Single Send); ``mc_auto_name``/``_id`` (an Automation; with ``mc_auto_step_id`` one
email per step, named ``AUTOMATION · step STEP_ID``); ``marketing_campaign_name`` /
``_id`` (legacy campaigns; an A/B test's versions stay one email); the *message join*:
another event of the same message (``sg_message_id`` up to its first ``.``) that one of
these named, in this import or an earlier one; the category rule: a category string,
or a list of one, names the email; a list of several names the email by all of them
joined with `` / `` in the given order (so ``["newsletter","week-1"]`` and
``["newsletter","week-2"]`` stay two emails); the message join to a category;
else ``--email NAME``.  An email not yet in the store is created with status ``sent``
and ``send_at`` = its earliest imported event.

A send is a message: ``processed``, ``delivered``, ``deferred``, ``bounce`` and
``dropped`` each prove one; all events of one message (per recipient) are one send,
whatever order they arrive in, in one import or several.  Its status is the strongest
outcome on record (dropped > bounced hard > bounced soft > delivered); a drop is not
a send (counted apart).  An open or click of a recipient with no send of that email on
record proves a delivered send (the report counts these), and so does an unsubscribe
or spam report through an email: so no rate exceeds 100 %.  Bounce reason,
classification and status, and the drop reason, are stored on the send.

Mapping: ``bounce`` with type ``bounce`` (or none) → hard bounce, ``blocked`` → soft;
``open`` (``sg_machine_open: true`` → a machine open); ``click`` on ``url``;
``unsubscribe`` → from all; ``group_unsubscribe`` → from the list of its
``asm_group_id``; ``group_resubscribe`` → back on that list; ``spamreport`` → spam
report.  An address not yet known becomes a contact without tracking consent.  Events
are applied in (timestamp, file order).  All writes go through
:class:`journeytui.store.Recorder`, which applies the consent rule.
"""

from __future__ import annotations

import contextvars
import gc
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from journeytui.errors import UserError
from journeytui.importers._common import STDIN, STDIN_NAME, is_address, read_text
from journeytui.importers._report import (
    ImportReport,
    advance_journeys,
    dry_run_preview,
    printable,
    snapshot,
)
from journeytui.store import ContactRef, Recorder, Store
from journeytui.store.recorder import SendDetail

__all__ = ["LABELS", "Location", "import_parsed_events", "import_sendgrid", "read_events"]

# Timestamps above this are taken for milliseconds (year 5138 in seconds).
_MAX_SECONDS = 100_000_000_000
#: Events dated more than this after the import runs are skipped.
FUTURE_HORIZON_S = 86_400
_INT64 = 2**63

MESSAGE_KINDS = frozenset({"processed", "delivered", "deferred", "bounce", "dropped"})
HANDLED = MESSAGE_KINDS | frozenset(
    {"open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe", "spamreport"}
)
#: Events that are not about an email: read and deliberately left out.
NOT_ABOUT_AN_EMAIL = frozenset({"account_status_change"})
# Events that act on the contact even when no email can be found for them.
_NO_EMAIL_OK = frozenset({"unsubscribe", "group_unsubscribe", "group_resubscribe", "spamreport"})

#: Labels for the text report, in the order the kinds are added.
LABELS = {
    "sent": "sends (messages new to the store)",
    "processed": "processed",
    "inferred": "sends inferred from an open, click, unsubscribe or spam report",
    "delivered": "deliveries",
    "deferred": "deferrals",
    "dropped": "dropped (not sent: counted apart from Sent)",
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
    "no_email": "unsubscribes/spam reports acting on the contact only (no email found)",
    "parked": "waiting for their message's email (kept for a later import)",
    "unparked": "applied from earlier imports (their message is named now)",
    "new_contacts": "new contacts (without tracking consent)",
    "new_emails": "new emails",
    "new_lists": "new lists",
}

NO_EMAIL = (
    "no email (no singlesend, mc_auto or marketing_campaign name or id, no known "
    "sg_message_id, no category; give --email NAME)"
)
DUPLICATE = "duplicate sg_event_id and event type (already imported)"
FUTURE = "dated more than a day after this import (a clock error?); not imported"
_TOO_DEEP = "JSON nested too deeply to be a SendGrid event"
_IGNORE_PREFIX = "ignored: "
_DETAIL_KINDS = frozenset({"bounce", "dropped", "deferred"})
# address as written -> as stored, for addresses already found valid (a cache)
_ADDRESSES: dict[str, str] = {}

_NAMES_LISTED = 10
#: The page cache of an import of more than _BIG_IMPORT events (negative: KiB).
IMPORT_CACHE_KIB = -65_536
_BIG_IMPORT = 10_000
# event_sources rows are written every this many
_SOURCES_CHUNK = 8_192

_WS = re.compile(r"[ \t\n\r]*")

# A location: (file name, line, array index or None); formatted only when needed.
Loc = tuple[str, int, int | None]
#: Where an event came from, as :func:`import_parsed_events` takes it: (file name as the
#: user gave it, or ``<stdin>``, or a webhook request's label; line from 1; and the
#: index in a JSON array, or None) — the index may be left out.
Location = tuple[str, int] | tuple[str, int, int | None]
# Which email: ("name", name, campaign_id) | ("cid", campaign_id) | ("named", name)
#              | ("id", email_id)  (found through a message of an earlier import)
EmailKey = tuple[Any, ...]


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
    name = STDIN_NAME if str(path) == STDIN else str(path)
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
                except RecursionError:
                    raise _fail(name, line, _TOO_DEEP + f" (array element index {index})") from None
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
    except (json.JSONDecodeError, RecursionError):
        whole = None  # read line by line below, which names the line
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
    decode = json.JSONDecoder().raw_decode  # json.loads without its per-call wrapping
    ws = _WS.match
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        try:
            obj, end = decode(line)
            if end != len(line):  # what json.loads says of a second value on the line
                end = ws(line, end).end()  # type: ignore[union-attr]
                raise json.JSONDecodeError("Extra data", line, end)
        except json.JSONDecodeError as exc:
            raise _fail(
                name,
                number,
                f"not valid JSON ({exc.msg}, column {exc.colno}); each line must hold one "
                "JSON event object",
            ) from None
        except RecursionError:
            raise _fail(name, number, _TOO_DEEP) from None
        if not isinstance(obj, dict):
            raise _fail(name, number, f"{_type_name(obj)}, not an event object")
        yield obj, (name, number, None)


# -- checking one event -----------------------------------------------------------------
def _timestamp(value: Any) -> int | str:
    """The time in seconds, or the reason it is refused."""
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        value = int(value.strip())
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
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        value = int(value.strip())
    if isinstance(value, int) and -_INT64 <= value < _INT64:
        return value
    return None


class _Event(NamedTuple):
    """What pass 2 needs of one checked event (small, so big files fit in memory).

    Sorting these sorts by (timestamp, order in the files): ``order`` is unique.
    """

    ts: int
    order: int
    kind: str
    address: str
    key: EmailKey | None  # named by the event itself (singlesend, automation, campaign)
    cat: EmailKey | None  # the category rule's answer
    msg: str | None  # sg_message_id up to its first '.'
    event_id: str
    url: str | None  # click
    flag: bool  # open: machine open; bounce: hard
    group: int | None  # asm_group_id
    detail: SendDetail | None  # bounce, dropped, deferred
    loc: Loc
    variant: str | None = None  # the A/B test variant of the message


def _check(ev: dict[str, Any], latest: int) -> tuple[str, int, str] | str:
    """(kind, timestamp, address) of an event worth applying, or the reason to skip it.

    A reason starting with ``ignored: `` is an event left out by design."""
    kind = ev.get("event")
    if kind is None:
        return "missing field 'event'"
    if not isinstance(kind, str):
        return "field 'event' is not a string"
    if kind not in HANDLED:
        kind = kind.strip().lower()  # "Processed" in SendGrid's own examples
    if kind not in HANDLED:
        if kind in NOT_ABOUT_AN_EMAIL:
            return f"{_IGNORE_PREFIX}{kind} (not about an email)"
        return f"unknown event type '{printable(ev['event'], 40)}'"
    if "timestamp" not in ev:
        return "missing field 'timestamp'"
    ts = ev["timestamp"]
    if ts.__class__ is not int or not 0 <= ts < _MAX_SECONDS:  # the common case is quick
        ts = _timestamp(ts)
        if isinstance(ts, str):
            return ts
    if ts > latest:
        return FUTURE
    address = ev.get("email")
    if address is None or address == "":
        return "missing field 'email'"
    if address.__class__ is not str:
        return "field 'email' is not an email address"
    known = _ADDRESSES.get(address)
    if known is None:
        if not is_address(address):
            return "field 'email' is not an email address"
        if len(_ADDRESSES) > 1_000_000:
            _ADDRESSES.clear()
        known = _ADDRESSES[address] = address.strip().lower()
    group = ev.get("asm_group_id")
    if group is not None and _group_id(group) is None:
        if isinstance(group, int) and not isinstance(group, bool):
            return "field 'asm_group_id' is out of range (not a 64-bit integer)"
        if kind in ("group_unsubscribe", "group_resubscribe"):
            return f"field 'asm_group_id' is not an integer ({kind})"
    if kind == "click":
        url = ev.get("url")
        if url is None or url == "":
            return "missing field 'url' (click)"
        if not isinstance(url, str):
            return "field 'url' is not a string (click)"
    elif kind in ("group_unsubscribe", "group_resubscribe"):
        if group is None:
            return f"missing field 'asm_group_id' ({kind})"
    elif kind == "bounce":
        btype = ev.get("type", "bounce")
        if btype not in ("bounce", "blocked", None):
            return f"bounce of unknown type '{printable(btype, 30)}' (expected bounce or blocked)"
    return kind, ts, known


def _event_id(ev: dict[str, Any], kind: str) -> str:
    """The deduplication key: the provider's event id with the event type."""
    eid = ev.get("sg_event_id")
    if isinstance(eid, int) and not isinstance(eid, bool):
        eid = str(eid)
    if isinstance(eid, str) and eid:
        return f"{eid}\x1f{kind}"
    canonical = json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _legacy_id(event_id: str) -> str | None:
    """The key an older journeytui kept for *event_id* (the bare sg_event_id)."""
    return event_id.split("\x1f", 1)[0] if "\x1f" in event_id else None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _message(ev: dict[str, Any]) -> str | None:
    """The message an event is about: ``sg_message_id`` up to its first ``.``."""
    mid = ev.get("sg_message_id")
    if not isinstance(mid, str):
        return None
    head = mid.partition(".")[0].strip()
    return head or None


def _own_key(ev: dict[str, Any]) -> EmailKey | None:
    """The email the event names itself (Single Send, Automation, legacy campaign)."""
    get = ev.get
    name, sid = get("singlesend_name"), get("singlesend_id")
    if name is not None or sid is not None:
        name, sid = _text(name), _text(sid)
        if name:
            return ("name", name, sid or "")
        if sid:
            return ("cid", sid)
    name, aid = get("mc_auto_name"), get("mc_auto_id")
    if name is not None or aid is not None:
        name, aid = _text(name), _text(aid)
    step = _text(get("mc_auto_step_id")) if name or aid else None
    if name or aid:
        base = name or aid
        if step:  # one email per automation step
            return ("name", f"{base} · step {step}", f"{aid or base}:{step}")
        return ("name", base, aid or "") if name else ("cid", aid)
    name = _text(ev.get("marketing_campaign_name"))
    cid = _text(ev.get("marketing_campaign_id"))
    if name:
        return ("name", name, cid or "")
    if cid:
        return ("cid", cid)
    return None


#: The user's own attribution rule (``--email-by``), set for the length of an import.
_EMAIL_BY: contextvars.ContextVar[Callable[[dict[str, Any]], EmailKey | None] | None] = (
    contextvars.ContextVar("email_by", default=None))


def parse_email_by(spec: str) -> Callable[[dict[str, Any]], EmailKey | None]:
    """``custom_arg:NAME`` (a custom argument SendGrid sends at the top level of the
    event, or inside ``unique_args``) or ``category:N`` (the N-th category, from 1):
    the field that names the email, tried before the built-in order."""
    kind, _, arg = spec.partition(":")
    kind, arg = kind.strip(), arg.strip()
    if kind == "custom_arg" and arg:
        def by_arg(ev: dict[str, Any]) -> EmailKey | None:
            value = _text(ev.get(arg))
            if value is None and isinstance(ev.get("unique_args"), dict):
                value = _text(ev["unique_args"].get(arg))
            return ("named", value) if value else None

        return by_arg
    if kind == "category" and arg.isdigit() and int(arg) >= 1:
        n = int(arg)

        def by_category(ev: dict[str, Any]) -> EmailKey | None:
            category = ev.get("category")
            tags = category if isinstance(category, list) else [category]
            value = _text(tags[n - 1]) if len(tags) >= n else None
            return ("named", value) if value else None

        return by_category
    raise UserError(
        f"--email-by {printable(spec, 60)}: expected custom_arg:NAME (a custom argument "
        "of the events) or category:N (the N-th category, from 1)"
    )


def _category_key(ev: dict[str, Any]) -> EmailKey | None:
    """A category string (or a list of one) names the email; a list of several names
    it by all of them, joined, so tag-style categories keep emails apart."""
    category = ev.get("category")
    if isinstance(category, list):
        tags = [t for t in (_text(c) for c in category) if t]
        if not tags:
            return None
        return ("named", " / ".join(tags))
    cat = _text(category)
    return ("named", cat) if cat else None


def _variant(ev: dict[str, Any]) -> str | None:
    """The A/B test variant the event's message belongs to: the version's name (legacy
    ``marketing_campaign_version``, e.g. ``B``), else ``split`` and the split's id."""
    version = _text(ev.get("marketing_campaign_version"))
    if version:
        return printable(version, 60)
    split = _text(ev.get("marketing_campaign_split_id"))
    return f"split {printable(split, 40)}" if split else None


def _detail(ev: dict[str, Any], kind: str) -> SendDetail | None:
    if kind == "deferred":
        reason = _text(ev.get("response")) or _text(ev.get("reason"))
        return SendDetail(printable(reason, 500)) if reason else None
    if kind not in ("bounce", "dropped"):
        return None
    reason, cls, status = (
        _text(ev.get("reason")), _text(ev.get("bounce_classification")), _text(ev.get("status"))
    )
    if not (reason or cls or status):
        return None
    return SendDetail(
        printable(reason, 500) if reason else None,
        printable(cls, 100) if cls else None,
        printable(status, 40) if status else None,
    )


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
        self.remembered: set[str] = set()
        self.legacy_seen = store.meta("seen_events_legacy") is not None
        # provenance: the batch, its files, and one event_sources row per write
        self.batch_id = 0
        self.files: dict[str, int] = {}
        self.sources: list[tuple[Any, ...]] = []
        self.traced = 0
        self.rec.touched = []
        self.rec.counts = {}  # email_stats counters written once, in finish()

    def start_batch(self, kind: str, label: str, files: list[str], at: int) -> None:
        """The import_batches row this import's event sources point at."""
        self.files = {name: i for i, name in enumerate(files)}
        cur = self.c.execute(
            "INSERT INTO import_batches(started_at, kind, label, files) VALUES (?, ?, ?, ?)",
            (at, kind, label, json.dumps(files, ensure_ascii=False)),
        )
        self.batch_id = int(cur.lastrowid or 0)

    def trace(self, ev: _Event) -> None:
        """Record where *ev* came from for every row it wrote (see event_sources)."""
        touched = self.rec.touched
        assert touched is not None
        name, line, index = ev.loc
        file_no = self.files.get(name)
        if file_no is None:  # an event parked by an earlier import: its file then
            file_no = self.files[name] = len(self.files)
        batch, kind, at, event_id = self.batch_id, ev.kind, ev.ts, ev.event_id
        self.traced += 1
        add = self.sources.append
        if len(touched) == 1 and touched[0][3] is None:  # the common case: one row
            target, row, email, _ = touched[0]
            add((batch, target, row, email, kind, at, file_no, line, index, event_id, None))
            touched.clear()
            if len(self.sources) >= _SOURCES_CHUNK:
                self.flush_sources()
            return
        for target, row, email, mark in touched:
            if mark is None:
                add((batch, target, row, email, kind, at, file_no, line, index, event_id, None))
            elif mark == "inferred":
                if self.contacts[ev.address].consent:
                    add((batch, "s", row, email, "inferred", at, file_no, line, index,
                         event_id, None))
                else:  # no place or id: they would name the anonymous event
                    add((batch, "s", row, email, "inferred", at, None, None, None, None, None))
            elif mark == "quiet":
                add((batch, target, row, None, kind, 0, None, None, None, None, None))
            else:  # 'u' / 'p': the recipient token, no row
                add((batch, target, None, email, kind, at, file_no, line, index, event_id,
                     mark))
        touched.clear()
        if len(self.sources) >= _SOURCES_CHUNK:
            self.flush_sources()

    def flush_sources(self) -> None:
        """Write the event_sources rows gathered so far (in chunks: few rows in memory)."""
        self.c.executemany(
            "INSERT INTO event_sources(batch_id, target, row_id, email_id, kind, at, file_no,"
            " line, idx, event_id, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.sources,
        )
        self.sources = []

    def write_sources(self) -> None:
        if not self.traced:  # nothing applied (e.g. every event a duplicate): no batch
            self.c.execute("DELETE FROM import_batches WHERE id = ?", (self.batch_id,))
            self.batch_id = 0
            return
        self.flush_sources()
        self.c.execute(
            "UPDATE import_batches SET events = ?, files = ? WHERE id = ?",
            (self.traced,
             json.dumps(sorted(self.files, key=self.files.__getitem__), ensure_ascii=False),
             self.batch_id),
        )
        self.sources = []

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
        if kind == "id":
            self.emails[key] = int(key[1])
            return int(key[1])
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

    def know_contacts(self, pending: list[_Event]) -> None:
        """Look up, in one go, the contacts the events name that are in the store."""
        if _has_rows(self.store, "contacts"):
            self.contacts = self.rec.known_contacts(sorted({ev.address for ev in pending}))

    def contact(self, addr: str, at: int) -> ContactRef:
        ref = self.contacts.get(addr)
        if ref is None:
            # not in the store (know_contacts): created without consent; new ones are
            # counted once at the end
            ref = self.contacts[addr] = self.rec.new_contact(addr, at)
        return ref

    def park(self, ev: _Event) -> None:
        """Keep *ev* until an import names its message's email (see parked_events)."""
        contact = self.contact(ev.address, ev.ts)
        d = ev.detail
        payload = [ev.kind, ev.url, ev.flag, ev.group,
                   None if d is None else [d.reason, d.classification, d.status], list(ev.loc),
                   ev.variant]
        self.c.execute(
            "INSERT OR REPLACE INTO parked_events(event_id, message_id, contact_id, at, event)"
            " VALUES (?, ?, ?, ?, ?)",
            (ev.event_id, ev.msg, contact.id, ev.ts, json.dumps(payload, ensure_ascii=False)),
        )

    def prepare_seen(self, event_ids: set[str]) -> None:
        """Look up, in one go, which events of this import were imported before."""
        self.now: set[str] = set()
        if not _has_rows(self.store, "seen_events"):  # a store that saw no event yet
            self.before: set[str] = set()
            return
        ids = sorted(event_ids)
        self.before = self.rec.already_seen(ids)
        if self.legacy_seen:  # an older store remembered bare sg_event_ids
            bare: dict[str, list[str]] = {}
            for event_id in ids:
                legacy = _legacy_id(event_id)
                if legacy is not None:
                    bare.setdefault(legacy, []).append(event_id)
            for legacy in self.rec.already_seen(sorted(bare)):
                self.before.update(bare[legacy])

    def seen(self, event_id: str) -> bool:
        """True if *event_id* was imported before (or earlier in this import)."""
        if event_id in self.before or event_id in self.now:
            return True
        self.now.add(event_id)
        return False

    def finish(self) -> None:
        self.rec.flush_counts()
        self.write_sources()
        self.rec.mark_seen(self.now)
        self.rec.flush_messages()

    def apply(self, ev: _Event, email_id: int | None) -> None:
        rec = self.rec
        added = self.report.added  # every LABELS key is there (0 at the start)
        kind, at, group, msg = ev.kind, ev.ts, ev.group, ev.msg
        contact = self.contacts.get(ev.address) or self.contact(ev.address, at)
        if email_id is not None:
            if msg is not None and msg not in self.remembered:
                self.remembered.add(msg)
                rec.remember_message(msg, email_id)
            if (
                group is not None
                and email_id in self.created_emails
                and email_id not in self.email_has_list
            ):
                self.email_has_list.add(email_id)
                rec.fill_list(email_id, self.list_for_group(group))
        if kind in MESSAGE_KINDS:
            assert email_id is not None
            _, created = rec.message_event(
                email_id, contact, kind, at, message_id=msg, hard=ev.flag, detail=ev.detail
            )
            if created and kind != "dropped":
                added["sent"] += 1
            if kind == "bounce":
                added["bounced_hard" if ev.flag else "bounced_soft"] += 1
            else:
                added[kind] += 1
        elif kind == "open":
            assert email_id is not None
            if rec.infer_send(email_id, contact, at, msg):
                added["inferred"] += 1
            rec.open(email_id, contact, at, machine=ev.flag)
            added["machine_opens" if ev.flag else "opens"] += 1
            if not contact.consent:
                added["anonymous"] += 1
        elif kind == "click":
            assert email_id is not None and ev.url is not None
            if rec.infer_send(email_id, contact, at, msg):
                added["inferred"] += 1
            bot = rec.click(email_id, contact, ev.url, at)
            added["bot_clicks" if bot else "clicks"] += 1
            if not contact.consent:
                added["anonymous"] += 1
        else:
            if email_id is None:
                added["no_email"] += 1
            elif kind != "group_resubscribe" and rec.infer_send(email_id, contact, at, msg):
                # unsubscribing or reporting spam through an email proves it arrived too
                added["inferred"] += 1
            if kind == "unsubscribe":
                rec.unsubscribe(contact, at, email_id=email_id)
                added["unsubscribes_all"] += 1
            elif kind == "group_unsubscribe":
                assert group is not None
                list_id = self.list_for_group(group)
                rec.unsubscribe(contact, at, email_id=email_id, list_id=list_id)
                added["unsubscribes_list"] += 1
            elif kind == "group_resubscribe":
                assert group is not None
                list_id = self.list_for_group(group)
                rec.resubscribe(contact, list_id, at, email_id=email_id)
                added["resubscribes"] += 1
            elif kind == "spamreport":
                rec.spam_report(email_id, contact, at)
                added["spam_reports"] += 1
            else:  # pragma: no cover - _check lets only HANDLED kinds through
                raise AssertionError(kind)
        if ev.variant is not None and email_id is not None:
            rec.set_variant(email_id, contact, msg, ev.variant)


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
        try:
            event_id = _event_id(ev, kind)
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
                                    or "marketing_campaign_split_id" in ev) else None)
        )
    report.records += order
    pending.sort()
    return pending


def _has_rows(store: Store, table: str) -> bool:
    """Whether *table* (one of the importer's own) holds any row: an import into a new
    store needs no lookups."""
    return store.conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0] == 1


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
        return _apply_all(store, pending, default, report, dry_run, source, now, progress)
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")


def _apply_all(
    store: Store,
    pending: list[_Event],
    default: EmailKey | None,
    report: ImportReport,
    dry_run: bool,
    source: tuple[str, str],
    now: int | None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> ImportReport:
    try:
        with store.transaction():
            before = snapshot(store) if dry_run else None
            contacts_before = store.count("contacts")
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
                    f"{waiting:,} event{'s' if waiting != 1 else ''} name no email and "
                    "belong to messages no import has named yet: kept aside, applied when "
                    "a later import names the message (or give --email NAME)."
                )
            imp.finish()
            report.batch_id = imp.batch_id
            report.add("new_contacts", store.count("contacts") - contacts_before)
            if progress is not None:
                progress("advancing the journeys", 0, None)
            advance_journeys(store, report)
            if before is not None:
                report.preview = dry_run_preview(before, snapshot(store))
                raise _DryRun
    except _DryRun:
        pass
    return report

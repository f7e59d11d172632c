"""The SendGrid event vocabulary and the checks of one event: which fields it needs,
its deduplication key, its message, and the email it names (see the package docstring)."""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from journeytui.errors import UserError
from journeytui.importers._common import is_address
from journeytui.importers._report import (
    printable,
)
from journeytui.store.recorder import SendDetail

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
#: The key of an event mapped from another provider holding the provider's own name of
#: it ("Postmark Delivery"): the name its provenance shows (never part of its identity).
PROVIDER_EVENT = "_journeytui_provider_event"
_DETAIL_KINDS = frozenset({"bounce", "dropped", "deferred"})
# address as written -> as stored, for addresses already found valid (a cache)
_ADDRESSES: dict[str, str] = {}


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
    own: str | None = None  # another provider's own name of the event (PROVIDER_EVENT)


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


"""Events of Mailgun, Postmark, Amazon SES, Mandrill and Brevo, imported through the
SendGrid importer (plain Python, no textual).

One event model, several providers: each provider's webhook body is mapped onto the
SendGrid Event Webhook vocabulary that :mod:`journeytui.importers.sendgrid` already
imports (``processed``, ``delivered``, ``deferred``, ``bounce`` with ``type``
``bounce``/``blocked``, ``dropped``, ``open`` with ``sg_machine_open``, ``click`` with
``url``, ``spamreport``, ``unsubscribe``), written to a private NDJSON spool file and
imported by :func:`journeytui.importers.sendgrid.import_sendgrid`: the same checks, the
same Recorder (consent rule, statistics, bot clicks), the same dedup, journeys advanced
in the same transaction.  The importer is not changed.

Namespacing: every event id and message id is prefixed with the provider
(``mailgun:…``), so ids of different providers never collide; a ``.`` in a provider's
message id is written ``%2E`` (the SendGrid importer reads a message id up to its first
``.``).  Events without an id of their own are deduplicated by the whole mapped event
(which names the provider).  Skip locations in the report name the original file and
line, not the spool.

Which provider a file is: :func:`sniff` reads the shape of each body.  The README
(section Imports, "Other providers") has the mapping table, each provider's dedup key
and which field names the email.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from journeytui.errors import UserError
from journeytui.importers._common import STDIN, STDIN_NAME, read_text
from journeytui.importers._report import ImportReport, printable
from journeytui.store import Store

PROVIDERS = ("sendgrid", "mailgun", "postmark", "ses", "mandrill", "brevo")
NAMES = {
    "sendgrid": "SendGrid (Event Webhook)",
    "mailgun": "Mailgun (webhook event-data)",
    "postmark": "Postmark (webhook RecordType)",
    "ses": "Amazon SES (SNS notification)",
    "mandrill": "Mandrill (mandrill_events)",
    "brevo": "Brevo (transactional webhook)",
}

Body = Any
Loc = tuple[int, int | None]  # line, index in an array on that line (or None)


# -- reading ------------------------------------------------------------------------------
def read_bodies(path: str | os.PathLike[str]) -> tuple[str, str, list[tuple[Body, Loc]]]:
    """The webhook bodies of a file (one per line, a JSON array of bodies, or one
    pretty-printed body), each with its line.  Mandrill's form-encoded
    ``mandrill_events=…`` lines are decoded.  Raises UserError for text that is not
    JSON, naming file and line."""
    name = STDIN_NAME if str(path) == STDIN else str(path)
    text = read_text(path, "an events file")
    out: list[tuple[Body, Loc]] = []
    stripped = text.strip()
    if not stripped:
        return name, text, out
    whole: Any = None
    if stripped[0] in "[{":
        try:
            whole = json.loads(stripped)
        except (ValueError, RecursionError):
            whole = None
    if whole is not None and not _several_lines_of_json(stripped):
        first_line = text[: len(text) - len(text.lstrip())].count("\n") + 1
        if isinstance(whole, list) and whole and all(isinstance(b, dict) for b in whole) \
                and not _is_mandrill_array(whole):
            out.extend((b, (first_line, i)) for i, b in enumerate(whole))
        else:
            out.append((whole, (first_line, None)))
        return name, text, out
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("mandrill_events="):
            values = parse_qs(line).get("mandrill_events")
            line = values[0] if values else ""
        try:
            out.append((json.loads(line), (n, None)))
        except (ValueError, RecursionError) as exc:
            raise UserError(
                f"{name}: line {n}: not JSON ({printable(str(exc), 80)}); expected one "
                "webhook body per line. Nothing was imported."
            ) from None
    return name, text, out


def _several_lines_of_json(text: str) -> bool:
    """True when the first line alone is a whole JSON value (a log of bodies, one per
    line, that happens to parse as one value is impossible, but a one-line file is one
    body either way)."""
    first, _, rest = text.partition("\n")
    if not rest.strip():
        return False
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def _is_mandrill_array(value: list[Any]) -> bool:
    return any(
        isinstance(b, dict) and ("msg" in b or ("type" in b and "action" in b)) for b in value
    )


# -- sniffing -----------------------------------------------------------------------------
def sniff_body(body: Body) -> str | None:
    """The provider whose webhook body this looks like, or None."""
    if isinstance(body, list):
        kinds = {sniff_body(b) for b in body if isinstance(b, dict)}
        kinds.discard(None)
        return kinds.pop() if len(kinds) == 1 else None
    if not isinstance(body, dict):
        return None
    keys = body.keys()
    if "event-data" in keys:
        return "mailgun"
    if "RecordType" in keys:
        return "postmark"
    if body.get("Type") in ("Notification", "SubscriptionConfirmation",
                            "UnsubscribeConfirmation") and ("TopicArn" in keys or "Message" in keys):
        return "ses"
    if ("notificationType" in keys or "eventType" in keys) and "mail" in keys:
        return "ses"
    if "msg" in keys and "event" in keys or ("type" in keys and "action" in keys
                                            and "reject" in keys or "entry" in keys):
        return "mandrill"
    if "event" in keys:
        if any(k.startswith("sg_") for k in keys) or "smtp-id" in keys:
            return "sendgrid"
        if "message-id" in keys or "ts_epoch" in keys or "ts_event" in keys \
                or "X-Mailin-custom" in keys:
            return "brevo"
        if "timestamp" in keys and "email" in keys:
            return "sendgrid"
    return None


def sniff_file(bodies: list[tuple[Body, Loc]]) -> tuple[str | None, dict[str, int]]:
    """The provider most bodies of a file look like (None: none recognised), and how
    many bodies look like each provider."""
    counts: dict[str, int] = {}
    for body, _ in bodies:
        p = sniff_body(body)
        if p is not None:
            counts[p] = counts.get(p, 0) + 1
    if not counts:
        return None, counts
    return max(counts, key=lambda p: (counts[p], -PROVIDERS.index(p))), counts


def sniff_path(path: str | os.PathLike[str]) -> str | None:
    """The provider a file looks like, judged from its first body (None: not
    recognised, not JSON or not readable; the importer then says what is wrong).  Only
    the head of the file is read, so a check before a large import costs nothing."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 20)
    except OSError:
        return None
    text = head.decode("utf-8-sig", "replace")
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    for candidate in (first, text.strip()):
        if candidate.startswith("mandrill_events="):
            candidate = (parse_qs(candidate).get("mandrill_events") or [""])[0]
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, list) and value and not _is_mandrill_array(value):
            value = value[0]
        return sniff_body(value)
    return None


def refuse_other(path: str, expected: str, found: str | None) -> None:
    """Raise UserError when a file given as *expected* looks like another provider's."""
    if found is None or found == expected:
        return
    hint = (f"import it with 'journeytui import events --provider {found}' (or --provider "
            "auto)")
    raise UserError(
        f"{printable(path, 200)}: this looks like {NAMES[found]} events, not "
        f"{NAMES[expected]}; {hint}. Nothing was imported."
    )


# -- mapping helpers ---------------------------------------------------------------------
_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def _iso(value: Any) -> int | None:
    """Unix seconds of an ISO 8601 time (any fraction, offset or Z; naive = UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _FRACTION.sub(lambda m: m.group(1), value.strip(), count=1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def _seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        value = float(value)
    if isinstance(value, int | float):
        return int(value)
    return None


def _msg(provider: str, value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip().strip("<>").strip()
    return f"{provider}:{value.replace('.', '%2E')}" if value else None


def _str(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _tags(value: Any) -> list[str] | None:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                return [text]
        else:
            return [text] if text else None
    if isinstance(value, list):
        tags = [t for t in (_str(v) for v in value) if t]
        return tags or None
    return None


_ANGLE = re.compile(r"<([^<>]+)>")


def _address(value: Any) -> Any:
    """The address inside ``Name <addr>`` (or the value as it is)."""
    if isinstance(value, str):
        m = _ANGLE.search(value)
        if m:
            return m.group(1).strip()
    return value


class Out:
    """The SendGrid-vocabulary events of one body (or why it was left out)."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.events: list[dict[str, Any]] = []
        self.ignored: str | None = None
        self.skipped: str | None = None

    def add(
        self,
        kind: str,
        email: Any,
        ts: int | None,
        *,
        event_id: str | None = None,
        message: str | None = None,
        name: dict[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        ev: dict[str, Any] = {"event": kind, "provider": self.provider}
        if email is not None:
            ev["email"] = email
        if ts is not None:
            ev["timestamp"] = ts
        if event_id:
            ev["sg_event_id"] = f"{self.provider}:{event_id}"
        if message:
            ev["sg_message_id"] = message
        if name:
            ev.update(name)
        ev.update({k: v for k, v in fields.items() if v is not None})
        self.events.append(ev)


def _naming(campaign: Any = None, campaign_id: Any = None, tags: list[str] | None = None,
            subject: Any = None) -> dict[str, Any]:
    """The fields that name the email: a campaign (name/id) first, else the tags, else
    the subject (as SendGrid categories: several tags name the email together)."""
    name, cid = _str(campaign), _str(campaign_id)
    if name or cid:
        out: dict[str, Any] = {}
        if name:
            out["marketing_campaign_name"] = name
        if cid:
            out["marketing_campaign_id"] = cid
        return out
    if tags:
        return {"category": tags}
    subj = _str(subject)
    return {"category": subj} if subj else {}


# -- Mailgun ------------------------------------------------------------------------------
def _mailgun(body: dict[str, Any], out: Out) -> None:
    data = body.get("event-data")
    if not isinstance(data, dict):
        out.skipped = "Mailgun body without an 'event-data' object"
        return
    kind = _str(data.get("event"))
    headers = (data.get("message") or {}).get("headers") or {}
    if not isinstance(headers, dict):
        headers = {}
    email = data.get("recipient") or _address(headers.get("to"))
    ts = _seconds(data.get("timestamp"))
    campaigns = data.get("campaigns") or []
    first = campaigns[0] if isinstance(campaigns, list) and campaigns else {}
    if not isinstance(first, dict):
        first = {}
    common: dict[str, Any] = {
        "event_id": _str(data.get("id")),
        "message": _msg("mailgun", headers.get("message-id")),
        "name": _naming(first.get("name"), first.get("id"), _tags(data.get("tags")),
                        headers.get("subject")),
    }
    status = data.get("delivery-status") or {}
    if not isinstance(status, dict):
        status = {}
    reason = _str(status.get("message")) or _str(status.get("description")) \
        or _str(data.get("reason"))
    if kind == "accepted":
        out.add("processed", email, ts, **common)
    elif kind == "delivered":
        out.add("delivered", email, ts, **common)
    elif kind == "failed":
        severity = data.get("severity")
        if severity not in ("permanent", "temporary"):
            out.skipped = "Mailgun 'failed' without severity permanent or temporary"
            return
        out.add("bounce", email, ts, type="bounce" if severity == "permanent" else "blocked",
                reason=reason, status=_str(status.get("code")), **common)
    elif kind == "rejected":
        rej = data.get("reject") or {}
        out.add("dropped", email, ts,
                reason=_str(rej.get("reason")) if isinstance(rej, dict) else None, **common)
    elif kind == "complained":
        out.add("spamreport", email, ts, **common)
    elif kind == "unsubscribed":
        out.add("unsubscribe", email, ts, **common)
    elif kind == "opened":
        out.add("open", email, ts, sg_machine_open=_machine_flag(data), **common)
    elif kind == "clicked":
        out.add("click", email, ts, url=data.get("url"), **common)
    elif kind in ("stored", "list_member_uploaded", "list_member_upload_error",
                  "list_uploaded"):
        out.ignored = f"Mailgun {kind} (not about a sent email)"
    else:
        out.skipped = f"unknown Mailgun event '{printable(kind or '', 30)}'"


def _machine_flag(data: dict[str, Any]) -> bool:
    """A provider's own machine-open flag (Mailgun: ``client-info.bot`` or
    ``is-machine-open``; absent in the real payloads, so opens are human)."""
    info = data.get("client-info")
    if isinstance(info, dict) and info.get("bot") in (True, "apple", "gmail", "generic"):
        return True
    return data.get("is-machine-open") is True


# -- Postmark -----------------------------------------------------------------------------
_PM_HARD = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})
_PM_SOFT = frozenset({"SoftBounce", "Transient", "DnsError", "Blocked", "DMARCPolicy",
                      "VirusNotification", "Undeliverable", "Unknown"})


def _postmark(body: dict[str, Any], out: Out) -> None:
    record = body.get("RecordType")
    msg = _msg("postmark", body.get("MessageID"))
    name = _naming(tags=_tags(body.get("Tag")), subject=body.get("Subject"))
    common: dict[str, Any] = {"message": msg, "name": name}
    if record == "Bounce":
        btype = _str(body.get("Type")) or ""
        ts = _iso(body.get("BouncedAt"))
        email = body.get("Email")
        eid = _str(body.get("ID"))
        if btype in _PM_HARD or btype in _PM_SOFT:
            out.add("bounce", email, ts, event_id=eid,
                    type="bounce" if btype in _PM_HARD else "blocked",
                    reason=_str(body.get("Details")) or _str(body.get("Description")),
                    bounce_classification=btype, **common)
        elif btype == "Unsubscribe":
            out.add("unsubscribe", email, ts, event_id=eid, **common)
        elif btype == "SpamComplaint":
            out.add("spamreport", email, ts, event_id=eid, **common)
        else:
            out.ignored = f"Postmark Bounce of type {printable(btype or '(none)', 30)} " \
                          "(not a failed delivery)"
    elif record == "SpamComplaint":
        out.add("spamreport", body.get("Email"), _iso(body.get("BouncedAt")),
                event_id=_str(body.get("ID")), **common)
    elif record == "Delivery":
        out.add("delivered", body.get("Recipient"), _iso(body.get("DeliveredAt")), **common)
    elif record == "Open":
        out.add("open", body.get("Recipient"), _iso(body.get("ReceivedAt")),
                sg_machine_open=body.get("MachineOpen") is True or None, **common)
    elif record == "Click":
        out.add("click", body.get("Recipient"), _iso(body.get("ReceivedAt")),
                url=body.get("OriginalLink"), **common)
    elif record == "SubscriptionChange":
        reason = body.get("SuppressionReason")
        if body.get("SuppressSending") is True and reason == "ManualSuppression":
            out.add("unsubscribe", body.get("Recipient"), _iso(body.get("ChangedAt")),
                    **common)
        elif body.get("SuppressSending") is True and reason == "SpamComplaint":
            out.add("spamreport", body.get("Recipient"), _iso(body.get("ChangedAt")),
                    **common)
        elif body.get("SuppressSending") is True:
            out.ignored = ("Postmark SubscriptionChange suppressing after a "
                           f"{printable(reason or 'bounce', 30)} (the bounce itself is the event)")
        else:
            out.ignored = ("Postmark SubscriptionChange reactivation (no list to "
                           "resubscribe to; unsubscribed-from-all is kept)")
    elif record in ("Inbound", "SMTPAPIError"):
        out.ignored = f"Postmark {record} (not about a sent email)"
    else:
        out.skipped = f"unknown Postmark RecordType '{printable(str(record), 30)}'"


# -- Amazon SES (inside SNS) -------------------------------------------------------------
def _ses(body: dict[str, Any], out: Out) -> None:
    envelope_ts: int | None = None
    sns_id = ""
    if "Type" in body:
        if body.get("Type") != "Notification":
            out.ignored = f"SNS {printable(str(body.get('Type')), 30)} (not an SES event)"
            return
        envelope_ts = _iso(body.get("Timestamp"))
        sns_id = _str(body.get("MessageId")) or ""
        raw = body.get("Message")
        try:
            message = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            message = None
        if not isinstance(message, dict):
            out.skipped = "SNS Notification whose 'Message' is not an SES event (JSON)"
            return
    else:
        message = body
    kind = _str(message.get("eventType")) or _str(message.get("notificationType"))
    mail = message.get("mail") or {}
    if not isinstance(mail, dict):
        mail = {}
    mid = _str(mail.get("messageId"))
    msg = _msg("ses", mid)
    headers = mail.get("commonHeaders") or {}
    raw_tags = mail.get("tags")
    tags: dict[str, Any] = raw_tags if isinstance(raw_tags, dict) else {}
    campaign = None
    for key in ("campaign", "Campaign", "email"):
        vals = tags.get(key)
        if isinstance(vals, list) and vals:
            campaign = vals[0]
            break
    name = _naming(campaign, None, None,
                   headers.get("subject") if isinstance(headers, dict) else None)
    destination = [d for d in mail.get("destination") or [] if isinstance(d, str)]
    mail_ts = _iso(mail.get("timestamp"))

    def add(kind: str, recipients: list[Any], ts: int | None, **fields: Any) -> None:
        when = ts or mail_ts or envelope_ts
        if not recipients:
            out.skipped = f"SES {kind} event without recipients"
            return
        for r in recipients:
            addr = r.get("emailAddress") if isinstance(r, dict) else r
            eid = f"{sns_id}:{mid}:{addr}" if sns_id and mid else None
            out.add(kind, addr, when, event_id=eid, message=msg, name=name, **fields)

    part: dict[str, Any] = {}
    for key in ("bounce", "complaint", "delivery", "open", "click", "reject",
                "deliveryDelay", "subscription"):
        if isinstance(message.get(key), dict):
            part = message[key]
            break
    ts = _iso(part.get("timestamp"))
    if kind == "Bounce":
        btype = part.get("bounceType")
        recipients = part.get("bouncedRecipients") or []
        reason = None
        if recipients and isinstance(recipients[0], dict):
            reason = _str(recipients[0].get("diagnosticCode"))
        add("bounce", recipients, ts, type="bounce" if btype == "Permanent" else "blocked",
            bounce_classification=_str(part.get("bounceSubType")), reason=reason)
    elif kind == "Complaint":
        add("spamreport", part.get("complainedRecipients") or [], ts)
    elif kind == "Delivery":
        add("delivered", part.get("recipients") or destination, ts,
            response=_str(part.get("smtpResponse")))
    elif kind == "Send":
        add("processed", destination, ts)
    elif kind == "Reject":
        add("dropped", destination, ts, reason=_str(part.get("reason")))
    elif kind == "DeliveryDelay":
        add("deferred", part.get("delayedRecipients") or destination, ts,
            reason=_str(part.get("delayType")))
    elif kind == "Open":
        add("open", destination, ts)
    elif kind == "Click":
        add("click", destination, ts, url=part.get("link"))
    elif kind == "Subscription":
        add("unsubscribe", destination, ts)
    elif kind in ("Rendering Failure", "AMAZON_SES_SETUP_NOTIFICATION"):
        out.ignored = f"SES {kind} (no message was sent)"
    else:
        out.skipped = f"unknown SES event type '{printable(kind or '', 30)}'"


# -- Mandrill -----------------------------------------------------------------------------
_MANDRILL = {
    "send": "processed", "deferral": "deferred", "hard_bounce": "bounce",
    "soft_bounce": "bounce", "open": "open", "click": "click", "spam": "spamreport",
    "unsub": "unsubscribe", "reject": "dropped",
}


def _mandrill(body: Any, out: Out) -> None:
    events = body if isinstance(body, list) else [body]
    for ev in events:
        if not isinstance(ev, dict):
            out.skipped = "Mandrill event that is not an object"
            continue
        kind = _str(ev.get("event"))
        if kind is None and "type" in ev:
            out.ignored = "Mandrill sync (not about an email)"
            continue
        mapped = _MANDRILL.get(kind or "")
        if mapped is None:
            out.skipped = f"unknown Mandrill event '{printable(kind or '', 30)}'"
            continue
        raw_msg = ev.get("msg")
        m: dict[str, Any] = raw_msg if isinstance(raw_msg, dict) else {}
        ts = _seconds(ev.get("ts"))
        mid = _str(ev.get("_id")) or _str(m.get("_id"))
        eid = f"{mid}:{ts}:{kind}" if mid else None
        if kind == "click" and eid:
            eid += f":{ev.get('url')}"
        fields: dict[str, Any] = {}
        if kind in ("hard_bounce", "soft_bounce"):
            fields = {"type": "bounce" if kind == "hard_bounce" else "blocked",
                      "reason": _str(m.get("diag")) or _str(m.get("bounce_description"))}
        elif kind == "click":
            fields = {"url": ev.get("url")}
        elif kind == "reject":
            fields = {"reason": _str(m.get("reject", {}).get("reason"))
                      if isinstance(m.get("reject"), dict) else None}
        out.add(mapped, m.get("email"), ts, event_id=eid, message=_msg("mandrill", m.get("_id")),
                name=_naming(tags=_tags(m.get("tags")), subject=m.get("subject")), **fields)
        if out.ignored and len(events) > 1:
            out.ignored = None


# -- Brevo --------------------------------------------------------------------------------
_BREVO = {
    "request": "processed", "sent": "processed", "delivered": "delivered",
    "hard_bounce": "bounce", "soft_bounce": "bounce", "blocked": "dropped",
    "invalid_email": "dropped", "error": "dropped", "deferred": "deferred",
    "spam": "spamreport", "complaint": "spamreport", "opened": "open",
    "unique_opened": "open", "proxy_open": "open", "unique_proxy_open": "open",
    "click": "click", "unsubscribed": "unsubscribe", "unsubscribe": "unsubscribe",
}


def _brevo(body: dict[str, Any], out: Out) -> None:
    kind = _str(body.get("event")) or ""
    mapped = _BREVO.get(kind)
    if mapped is None:
        if kind in ("list_addition", "contact_updated", "contact_deleted"):
            out.ignored = f"Brevo {kind} (not about an email)"
        else:
            out.skipped = f"unknown Brevo event '{printable(kind, 30)}'"
        return
    ts = _seconds(body.get("ts_event"))
    if ts is None:
        ts = _seconds(body.get("ts"))
    if ts is None:
        ms = _seconds(body.get("ts_epoch"))
        ts = ms // 1000 if ms is not None else None
    tags = _tags(body.get("tags")) or _tags(body.get("tag"))
    name = _naming(body.get("campaign name"), body.get("camp_id"), tags, body.get("subject"))
    fields: dict[str, Any] = {}
    if kind in ("hard_bounce", "soft_bounce"):
        fields = {"type": "bounce" if kind == "hard_bounce" else "blocked"}
    if mapped in ("bounce", "dropped", "deferred"):
        fields["reason"] = _str(body.get("reason"))
    if mapped == "open" and kind in ("proxy_open", "unique_proxy_open"):
        fields["sg_machine_open"] = True
    if mapped == "click":
        fields["url"] = body.get("link") or body.get("url")
    # no event id: dedup by the mapped event, so 'unique_opened' and the 'opened' of the
    # same open (same message, address, second) are one open
    out.add(mapped, body.get("email"), ts, message=_msg("brevo", body.get("message-id")),
            name=name, **fields)


# -- SendGrid (passed through) -------------------------------------------------------------
def _sendgrid(body: Any, out: Out) -> None:
    out.events.extend(body if isinstance(body, list) else [body])


MAPPERS: dict[str, Callable[[Any, Out], None]] = {
    "sendgrid": _sendgrid, "mailgun": _mailgun, "postmark": _postmark, "ses": _ses,
    "mandrill": _mandrill, "brevo": _brevo,
}

# -- importing ---------------------------------------------------------------------------
def import_events(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    provider: str = "auto",
    default_email: str | None = None,
    *,
    now: int | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import provider event files (each one provider, recognised per file with
    ``auto``) into *store* in one transaction, through the SendGrid importer."""
    from journeytui.importers.sendgrid import import_sendgrid

    if not paths:
        raise UserError("no files to import; name one or more event files")
    if provider != "auto" and provider not in PROVIDERS:
        raise UserError(f"--provider: unknown provider '{printable(provider, 30)}'; "
                        f"choose auto or one of {', '.join(PROVIDERS)}")
    chosen: list[tuple[str, str]] = []
    spool_lines: list[str] = []
    locs: list[str] = []  # spool line (1-based index) -> original location
    direct: list[str | os.PathLike[str]] = []  # SendGrid files, read by the importer
    stdin_text: str | None = None
    ignored: dict[str, int] = {}
    skipped: list[tuple[str, str]] = []
    bodies_read = 0
    for path in paths:
        name, text, bodies = read_bodies(path)
        found, _ = sniff_file(bodies)
        if provider == "auto":
            if found is None:
                if not bodies:
                    chosen.append((name, "none"))
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
        chosen.append((name, use))
        if use == "sendgrid":
            if str(path) == STDIN:
                stdin_text = text
            else:
                direct.append(path)
            continue
        mapper = MAPPERS[use]
        for body, (line, index) in bodies:
            where = f"{name}:{line}" + (f" [index {index}]" if index is not None else "")
            bodies_read += 1
            out = Out(use)
            looks = sniff_body(body)
            if looks not in (use, None):
                skipped.append((f"not a {NAMES[use]} body (looks like {NAMES[looks]})", where))
                continue
            mapper(body, out)
            if out.skipped:
                skipped.append((out.skipped, where))
            if out.ignored and not out.events:
                ignored[out.ignored] = ignored.get(out.ignored, 0) + 1
            for ev in out.events:
                spool_lines.append(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
                locs.append(where)
    with tempfile.TemporaryDirectory(prefix="journeytui-events-") as tmp:
        spool = Path(tmp) / "mapped-events.ndjson"
        files: list[str | os.PathLike[str]] = []
        if spool_lines:
            spool.write_text("\n".join(spool_lines) + "\n", "utf-8")
            files.append(spool)
        if stdin_text is not None:
            piped = Path(tmp) / "stdin.json"
            piped.write_text(stdin_text, "utf-8")
            files.append(piped)
        files.extend(direct)
        if not files:  # nothing to map: an empty spool keeps the report's shape
            spool.write_text("", "utf-8")
            files.append(spool)
        hidden = {str(spool): "(mapped events)", str(Path(tmp) / "stdin.json"): STDIN_NAME}
        try:
            report = import_sendgrid(store, files, default_email, now=now, dry_run=dry_run)
        except UserError as exc:
            text_ = str(exc)
            for k, v in hidden.items():
                text_ = text_.replace(k, v)
            raise UserError(text_) from None
    report.source = "events"
    report.files = [name for name, _ in chosen]
    report.notes = [n for n in report.notes if not any(k in n for k in hidden)]
    for name, use in reversed(chosen):
        how = "recognised as" if provider == "auto" else "read as"
        what = "no events" if use == "none" else NAMES[use]
        report.notes.insert(0, f"{printable(name, 200)}: {how} {what}.")
    if bodies_read:
        report.notes.append(
            f"{bodies_read:,} webhook bodies of other providers gave {len(spool_lines):,} "
            "events (mapped onto SendGrid's event types: README, Imports)."
        )
    _relocate(report, str(spool), locs, hidden)
    for reason, where in skipped:
        report.skip(reason, where)
    for reason, n in ignored.items():
        report.ignored[reason] = report.ignored.get(reason, 0) + n
    return report


_SPOOL_LOC = re.compile(r":(\d+)$")


def _relocate(report: ImportReport, shown: str, locs: list[str], hidden: dict[str, str]) -> None:
    """Skip locations in the spool -> the original file and line."""
    for entry in report.skipped.values():
        fixed = []
        for loc in entry.locations:
            m = _SPOOL_LOC.search(loc)
            if loc.startswith(shown + ":") and m and 0 < int(m.group(1)) <= len(locs):
                fixed.append(locs[int(m.group(1)) - 1])
            else:
                for k, v in hidden.items():
                    loc = loc.replace(k, v)
                fixed.append(loc)
        entry.locations = fixed

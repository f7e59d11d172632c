"""Mandrill webhook bodies (``mandrill_events``: an array of events, form-encoded or
as JSON) mapped onto SendGrid's event types (see the package docstring and the README's
mapping table).  Each event's location is its body's line, with its index in the
``mandrill_events`` array when the array holds several events."""

from __future__ import annotations

from typing import Any

from journeytui.importers._report import printable
from journeytui.importers.providers._base import Out, Terms, msg, naming, seconds, tags, text

TERMS = Terms(
    name="Mandrill",
    no_email=("Mandrill event naming no email (no 'msg.tags' or 'msg.subject', and no "
              "'msg._id' to join another event of its message); give --email NAME"),
    duplicate=("duplicate Mandrill event (the same '_id', 'ts' and event (and 'url' for a "
               "click), already imported)"),
    naming="'msg.tags', else 'msg.subject'",
)

_KINDS = {
    "send": "processed", "deferral": "deferred", "hard_bounce": "bounce",
    "soft_bounce": "bounce", "open": "open", "click": "click", "spam": "spamreport",
    "unsub": "unsubscribe", "reject": "dropped",
}


def map_body(body: Any, out: Out) -> None:
    events = body if isinstance(body, list) else [body]
    several = isinstance(body, list) and len(body) > 1
    for i, ev in enumerate(events):
        out.index = i if several else None
        if not isinstance(ev, dict):
            out.skip("Mandrill event that is not an object")
            continue
        kind = text(ev.get("event"))
        if kind is None and "type" in ev:
            out.ignored = "Mandrill sync (not about an email)"
            continue
        mapped = _KINDS.get(kind or "")
        if mapped is None:
            out.skip(f"unknown Mandrill event '{printable(kind or '', 30)}'")
            continue
        out.about(f"Mandrill '{kind}'", "msg.email", "ts")
        raw_msg = ev.get("msg")
        m: dict[str, Any] = raw_msg if isinstance(raw_msg, dict) else {}
        ts = seconds(ev.get("ts"))
        mid = text(ev.get("_id")) or text(m.get("_id"))
        eid = f"{mid}:{ts}:{kind}" if mid else None
        if kind == "click" and eid:
            eid += f":{ev.get('url')}"
        fields: dict[str, Any] = {}
        if kind in ("hard_bounce", "soft_bounce"):
            fields = {"type": "bounce" if kind == "hard_bounce" else "blocked",
                      "reason": text(m.get("diag")) or text(m.get("bounce_description"))}
        elif kind == "click":
            fields = {"url": ev.get("url")}
        elif kind == "reject":
            rej = m.get("reject")
            fields = {"reason": text(rej.get("reason")) if isinstance(rej, dict) else None}
        out.add(mapped, m.get("email"), ts, event_id=eid, message=msg("mandrill", m.get("_id")),
                name=naming(tag_list=tags(m.get("tags")), subject=m.get("subject")), **fields)
    if out.events and out.ignored:
        out.ignored = None

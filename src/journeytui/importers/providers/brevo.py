"""Brevo transactional webhook bodies mapped onto SendGrid's event types (see the
package docstring and the README's mapping table)."""

from __future__ import annotations

from typing import Any

from journeytui.importers._report import printable
from journeytui.importers.providers._base import Out, Terms, msg, naming, seconds, tags, text

TERMS = Terms(
    name="Brevo",
    no_email=("Brevo event naming no email (no 'campaign name', 'camp_id', 'tags', 'tag' or "
              "'subject', and no 'message-id' to join another event of its message); give "
              "--email NAME"),
    duplicate=("duplicate Brevo event (the same 'message-id', 'email', time and event — "
               "'unique_opened' repeats 'opened' — already imported)"),
    naming="'campaign name' or 'camp_id', else 'tags' (or 'tag'), else 'subject'",
)

KINDS = {
    "request": "processed", "sent": "processed", "delivered": "delivered",
    "hard_bounce": "bounce", "soft_bounce": "bounce", "blocked": "dropped",
    "invalid_email": "dropped", "error": "dropped", "deferred": "deferred",
    "spam": "spamreport", "complaint": "spamreport", "opened": "open",
    "unique_opened": "open", "proxy_open": "open", "unique_proxy_open": "open",
    "click": "click", "unsubscribed": "unsubscribe", "unsubscribe": "unsubscribe",
}


def map_body(body: dict[str, Any], out: Out) -> None:
    kind = text(body.get("event")) or ""
    mapped = KINDS.get(kind)
    if mapped is None:
        if kind in ("list_addition", "contact_updated", "contact_deleted"):
            out.ignored = f"Brevo {kind} (not about an email)"
        elif not kind:
            out.skip("Brevo event without 'event'")
        else:
            out.skip(f"unknown Brevo event '{printable(kind, 30)}'")
        return
    out.about(f"Brevo '{kind}'", "email", ("ts_event", "ts", "ts_epoch"), "link")
    ts = seconds(body.get("ts_event"))
    if ts is None:
        ts = seconds(body.get("ts"))
    if ts is None:
        ms = seconds(body.get("ts_epoch"))
        ts = ms // 1000 if ms is not None else None
    tag_list = tags(body.get("tags")) or tags(body.get("tag"))
    name = naming(body.get("campaign name"), body.get("camp_id"), tag_list, body.get("subject"))
    fields: dict[str, Any] = {}
    if kind in ("hard_bounce", "soft_bounce"):
        fields = {"type": "bounce" if kind == "hard_bounce" else "blocked"}
    if mapped in ("bounce", "dropped", "deferred"):
        fields["reason"] = text(body.get("reason"))
    if mapped == "open" and kind in ("proxy_open", "unique_proxy_open"):
        fields["sg_machine_open"] = True
    if mapped == "click":
        fields["url"] = body.get("link") or body.get("url")
    # no event id: dedup by the mapped event, so 'unique_opened' and the 'opened' of the
    # same open (same message, address, second) are one open
    out.add(mapped, body.get("email"), ts, message=msg("brevo", body.get("message-id")),
            name=name, **fields)

"""Mailgun webhook bodies (``{"signature": …, "event-data": {…}}``) mapped onto
SendGrid's event types (see the package docstring and the README's mapping table)."""

from __future__ import annotations

from typing import Any

from journeytui.importers._report import printable
from journeytui.importers.providers._base import (
    Out,
    Terms,
    address,
    msg,
    naming,
    seconds,
    tags,
    text,
)

TERMS = Terms(
    name="Mailgun",
    no_email=("Mailgun event naming no email (no 'campaigns', 'tags' or subject in "
              "'message.headers', and no 'message.headers.message-id' to join another "
              "event of its message); give --email NAME"),
    duplicate="duplicate Mailgun event (the same 'event-data.id' and event, already imported)",
    naming="a campaign in 'campaigns', else 'tags', else the subject in 'message.headers'",
)


def map_body(body: dict[str, Any], out: Out) -> None:
    data = body.get("event-data")
    if not isinstance(data, dict):
        out.skip("Mailgun body without an 'event-data' object")
        return
    kind = text(data.get("event"))
    out.about(f"Mailgun '{printable(kind or '', 30)}'", ("event-data.recipient",
              "message.headers.to"), "event-data.timestamp", "event-data.url")
    message = data.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    if not isinstance(headers, dict):
        headers = {}
    email = data.get("recipient") or address(headers.get("to"))
    ts = seconds(data.get("timestamp"))
    campaigns = data.get("campaigns") or []
    first = campaigns[0] if isinstance(campaigns, list) and campaigns else {}
    if not isinstance(first, dict):
        first = {}
    common: dict[str, Any] = {
        "event_id": text(data.get("id")),
        "message": msg("mailgun", headers.get("message-id")),
        "name": naming(first.get("name"), first.get("id"), tags(data.get("tags")),
                       headers.get("subject")),
    }
    status = data.get("delivery-status") or {}
    if not isinstance(status, dict):
        status = {}
    reason = text(status.get("message")) or text(status.get("description")) \
        or text(data.get("reason"))
    if kind == "accepted":
        out.add("processed", email, ts, **common)
    elif kind == "delivered":
        out.add("delivered", email, ts, **common)
    elif kind == "failed" and str(data.get("reason") or "").startswith("suppress-"):
        # suppress-bounce / -unsubscribe / -complaint: Mailgun did not send it (the
        # address is on a suppression list): a drop, not a bounce
        why = text(data.get("reason"))
        out.add("dropped", email, ts, reason=f"{why}: {reason}" if reason != why else why,
                **common)
    elif kind == "failed":
        severity = data.get("severity")
        if severity not in ("permanent", "temporary"):
            out.skip("Mailgun 'failed' without 'severity' permanent or temporary")
            return
        out.add("bounce", email, ts, type="bounce" if severity == "permanent" else "blocked",
                reason=reason, status=text(status.get("code")), **common)
    elif kind == "rejected":
        rej = data.get("reject") or {}
        out.add("dropped", email, ts,
                reason=text(rej.get("reason")) if isinstance(rej, dict) else None, **common)
    elif kind == "complained":
        out.add("spamreport", email, ts, **common)
    elif kind == "unsubscribed":
        out.add("unsubscribe", email, ts, **common)
    elif kind == "opened":
        out.add("open", email, ts, sg_machine_open=machine_flag(data), **common)
    elif kind == "clicked":
        out.add("click", email, ts, url=data.get("url"), **common)
    elif kind in ("stored", "list_member_uploaded", "list_member_upload_error",
                  "list_uploaded"):
        out.ignored = f"Mailgun {kind} (not about a sent email)"
    else:
        out.skip(f"unknown Mailgun event '{printable(kind or '', 30)}' in 'event-data.event'")


def machine_flag(data: dict[str, Any]) -> bool:
    """Mailgun's own machine-open flag (``client-info.bot`` or ``is-machine-open``;
    absent in the real payloads, so their opens are human)."""
    info = data.get("client-info")
    if isinstance(info, dict) and info.get("bot") in (True, "apple", "gmail", "generic"):
        return True
    return data.get("is-machine-open") is True

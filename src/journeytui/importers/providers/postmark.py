"""Postmark webhook bodies (``RecordType``) mapped onto SendGrid's event types (see the
package docstring and the README's mapping table).

Postmark suppresses a recipient per message stream: an unsubscribe (a
``SubscriptionChange`` with ``SuppressSending`` true for ManualSuppression, or a Bounce of
Type Unsubscribe) is an unsubscribe from the list of its stream ("Postmark stream:
outbound"), and a reactivation (``SuppressSending`` false) is a resubscribe to it.
"""

from __future__ import annotations

from typing import Any

from journeytui.importers._report import printable
from journeytui.importers.providers._base import Out, Terms, group_of, iso, msg, naming, tags, text

TERMS = Terms(
    name="Postmark",
    no_email=("Postmark record naming no email (no 'Tag' or 'Subject', and no 'MessageID' "
              "to join another record of its message); give --email NAME"),
    duplicate=("duplicate Postmark record (the same 'ID' and RecordType, or without 'ID' the "
               "same record, already imported)"),
    naming="'Tag', else 'Subject'",
)

_HARD = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})
_SOFT = frozenset({"SoftBounce", "Transient", "DnsError", "Blocked", "DMARCPolicy",
                   "VirusNotification", "Undeliverable", "Unknown"})
#: Postmark's default stream, for a record that names none
DEFAULT_STREAM = "outbound"


def stream_list(body: dict[str, Any]) -> str:
    return f"Postmark stream: {text(body.get('MessageStream')) or DEFAULT_STREAM}"


def map_body(body: dict[str, Any], out: Out) -> None:
    record = body.get("RecordType")
    common: dict[str, Any] = {
        "message": msg("postmark", body.get("MessageID")),
        "name": naming(tag_list=tags(body.get("Tag")), subject=body.get("Subject")),
    }
    shown = printable(str(record), 30)
    if record == "Bounce":
        btype = text(body.get("Type")) or ""
        out.about(f"Postmark Bounce ({printable(btype or 'no Type', 30)})", "Email",
                  "BouncedAt")
        ts = iso(body.get("BouncedAt"))
        email = body.get("Email")
        eid = text(body.get("ID"))
        if btype in _HARD or btype in _SOFT:
            out.add("bounce", email, ts, event_id=eid,
                    type="bounce" if btype in _HARD else "blocked",
                    reason=text(body.get("Details")) or text(body.get("Description")),
                    bounce_classification=btype, **common)
        elif btype == "Unsubscribe":
            out.add("group_unsubscribe", email, ts, event_id=eid,
                    asm_group_id=group_of(out, stream_list(body)), **common)
        elif btype == "SpamComplaint":
            out.add("spamreport", email, ts, event_id=eid, **common)
        else:
            out.ignored = f"Postmark Bounce of type {printable(btype or '(none)', 30)} " \
                          "(not a failed delivery)"
    elif record == "SpamComplaint":
        out.about("Postmark SpamComplaint", "Email", "BouncedAt")
        out.add("spamreport", body.get("Email"), iso(body.get("BouncedAt")),
                event_id=text(body.get("ID")), **common)
    elif record == "Delivery":
        out.about("Postmark Delivery", "Recipient", "DeliveredAt")
        out.add("delivered", body.get("Recipient"), iso(body.get("DeliveredAt")), **common)
    elif record == "Open":
        out.about("Postmark Open", "Recipient", "ReceivedAt")
        out.add("open", body.get("Recipient"), iso(body.get("ReceivedAt")),
                sg_machine_open=body.get("MachineOpen") is True or None, **common)
    elif record == "Click":
        out.about("Postmark Click", "Recipient", "ReceivedAt", "OriginalLink")
        out.add("click", body.get("Recipient"), iso(body.get("ReceivedAt")),
                url=body.get("OriginalLink"), **common)
    elif record == "SubscriptionChange":
        _subscription(body, out, common)
    elif record in ("Inbound", "SMTPAPIError"):
        out.ignored = f"Postmark {record} (not about a sent email)"
    elif record is None:
        out.skip("Postmark record without 'RecordType'")
    else:
        out.skip(f"unknown Postmark RecordType '{shown}'")


def _subscription(body: dict[str, Any], out: Out, common: dict[str, Any]) -> None:
    reason = body.get("SuppressionReason")
    suppress = body.get("SuppressSending")
    email, ts = body.get("Recipient"), iso(body.get("ChangedAt"))
    what = "reactivation" if suppress is False else printable(str(reason), 30)
    out.about(f"Postmark SubscriptionChange ({what})", "Recipient", "ChangedAt")
    if suppress is True and reason == "ManualSuppression":
        out.add("group_unsubscribe", email, ts, asm_group_id=group_of(out, stream_list(body)),
                **common)
    elif suppress is True and reason == "SpamComplaint":
        out.add("spamreport", email, ts, **common)
    elif suppress is True:
        out.ignored = ("Postmark SubscriptionChange suppressing after a "
                       f"{printable(reason or 'bounce', 30)} (the bounce itself is the event)")
    elif suppress is False:
        out.add("group_resubscribe", email, ts, asm_group_id=group_of(out, stream_list(body)),
                **common)
    else:
        out.skip("Postmark SubscriptionChange without 'SuppressSending' true or false")

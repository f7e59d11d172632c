"""Amazon SES events (inside SNS ``Notification`` envelopes, or raw) mapped onto
SendGrid's event types (see the package docstring and the README's mapping table).

SES subscription management: a ``Subscription`` event compares the contact's old and
new topic preferences; ``unsubscribeAll`` is an unsubscribe from the list of its
contact list ("SES contact list: NAME"), a topic set to OptOut an unsubscribe from the
topic's list ("SES topic: NAME"), and the reverse changes resubscribe.
"""

from __future__ import annotations

import json
from typing import Any

from journeytui.importers._report import printable
from journeytui.importers.providers._base import Out, Terms, group_of, iso, msg, naming, text

TERMS = Terms(
    name="Amazon SES",
    no_email=("SES event naming no email (no 'campaign' tag in 'mail.tags' and no "
              "'mail.commonHeaders.subject', and no 'mail.messageId' to join another event "
              "of its message); give --email NAME"),
    duplicate=("duplicate SES event (the same SNS 'MessageId', 'mail.messageId', recipient "
               "and event type, already imported)"),
    naming="a 'campaign' tag in 'mail.tags', else 'mail.commonHeaders.subject'",
)

#: Bounce subtypes meaning SES suppressed the send (its own or the account's list)
_SUPPRESSED = frozenset({"Suppressed", "OnAccountSuppressionList"})
_PARTS = ("bounce", "complaint", "delivery", "open", "click", "reject", "deliveryDelay",
          "subscription", "send")


def map_body(body: dict[str, Any], out: Out) -> None:
    envelope_ts: int | None = None
    sns_id = ""
    if "Type" in body:
        if body.get("Type") != "Notification":
            out.ignored = f"SNS {printable(str(body.get('Type')), 30)} (not an SES event)"
            return
        envelope_ts = iso(body.get("Timestamp"))
        sns_id = text(body.get("MessageId")) or ""
        raw = body.get("Message")
        try:
            message = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            message = None
        if not isinstance(message, dict):
            out.skip("SNS Notification whose 'Message' is not an SES event (JSON)")
            return
    else:
        message = body
    kind = text(message.get("eventType")) or text(message.get("notificationType"))
    mail = message.get("mail") or {}
    if not isinstance(mail, dict):
        mail = {}
    mid = text(mail.get("messageId"))
    headers = mail.get("commonHeaders") or {}
    raw_tags = mail.get("tags")
    tag_map: dict[str, Any] = raw_tags if isinstance(raw_tags, dict) else {}
    campaign = None
    for key in ("campaign", "Campaign", "email"):
        vals = tag_map.get(key)
        if isinstance(vals, list) and vals:
            campaign = vals[0]
            break
    name = naming(campaign, None, None,
                  headers.get("subject") if isinstance(headers, dict) else None)
    destination = [d for d in _list(mail.get("destination")) if isinstance(d, str)]
    mail_ts = iso(mail.get("timestamp"))
    part: dict[str, Any] = {}
    part_key = ""
    for key in _PARTS:
        if isinstance(message.get(key), dict):
            part, part_key = message[key], key
            break
    times = (f"{part_key or 'event'}.timestamp", "mail.timestamp", "Timestamp")

    def add(kind_: str, recipients: list[Any], where: str, **fields: Any) -> None:
        out.about(f"SES {printable(kind or '', 30)}", where, times,
                  f"{part_key or 'click'}.link")
        when = iso(part.get("timestamp")) or mail_ts or envelope_ts
        if not recipients:
            out.skip(f"SES {printable(kind or '', 30)} without recipients in '{where}'")
            return
        for r in recipients:
            addr = r.get("emailAddress") if isinstance(r, dict) else r
            eid = f"{sns_id}:{mid}:{addr}" if sns_id and mid else None
            if eid and "asm_group_id" in fields:  # one event per changed preference
                eid += f":{fields['asm_group_id']}"
            out.add(kind_, addr, when, event_id=eid, message=msg("ses", mid), name=name,
                    **fields)

    if kind == "Bounce":
        btype = part.get("bounceType")
        recipients = _list(part.get("bouncedRecipients"))
        reason = None
        if recipients and isinstance(recipients[0], dict):
            reason = text(recipients[0].get("diagnosticCode"))
        subtype = text(part.get("bounceSubType"))
        if subtype in _SUPPRESSED:  # SES did not send to a suppressed address: a drop
            add("dropped", recipients, "bounce.bouncedRecipients",
                reason=f"{subtype}: {reason}" if reason else subtype)
        else:
            add("bounce", recipients, "bounce.bouncedRecipients",
                type="bounce" if btype == "Permanent" else "blocked",
                bounce_classification=subtype, reason=reason)
    elif kind == "Complaint":
        add("spamreport", _list(part.get("complainedRecipients")),
            "complaint.complainedRecipients")
    elif kind == "Delivery":
        add("delivered", _list(part.get("recipients")) or destination, "delivery.recipients",
            response=text(part.get("smtpResponse")))
    elif kind == "Send":
        add("processed", destination, "mail.destination")
    elif kind == "Reject":
        add("dropped", destination, "mail.destination", reason=text(part.get("reason")))
    elif kind == "DeliveryDelay":
        add("deferred", _list(part.get("delayedRecipients")) or destination,
            "deliveryDelay.delayedRecipients", reason=text(part.get("delayType")))
    elif kind in ("Open", "Click", "Subscription") and len(destination) > 1:
        # SES says the message, not which of its recipients opened, clicked or changed
        # a preference: counting it for each would invent engagement
        out.skip(f"SES {kind} of a message to several recipients ('mail.destination'): "
                 "SES does not say which one")
    elif kind == "Open":
        add("open", destination, "mail.destination")
    elif kind == "Click":
        add("click", destination, "mail.destination", url=part.get("link"))
    elif kind == "Subscription":
        changes = _subscription_changes(part, out)
        if not changes:
            out.ignored = "SES Subscription that changes no preference"
        for event, group in changes:
            add(event, destination, "mail.destination", asm_group_id=group)
    elif kind in ("Rendering Failure", "AMAZON_SES_SETUP_NOTIFICATION"):
        out.ignored = f"SES {kind} (no message was sent)"
    elif kind is None:
        out.skip("SES event without 'eventType' or 'notificationType'")
    else:
        out.skip(f"unknown SES event type '{printable(kind or '', 30)}'")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _topics(prefs: Any) -> tuple[bool, dict[str, str]]:
    if not isinstance(prefs, dict):
        return False, {}
    status = {}
    for t in _list(prefs.get("topicSubscriptionStatus")):
        if isinstance(t, dict) and text(t.get("topicName")):
            status[str(t["topicName"]).strip()] = str(t.get("subscriptionStatus"))
    return prefs.get("unsubscribeAll") is True, status


def _subscription_changes(part: dict[str, Any], out: Out) -> list[tuple[str, int]]:
    """(group_unsubscribe | group_resubscribe, list group) of each changed preference."""
    old_all, old = _topics(part.get("oldTopicPreferences"))
    new_all, new = _topics(part.get("newTopicPreferences"))
    changes: list[tuple[str, int]] = []
    contact_list = text(part.get("contactList")) or "(unnamed)"
    if new_all != old_all:
        group = group_of(out, f"SES contact list: {contact_list}")
        changes.append(("group_unsubscribe" if new_all else "group_resubscribe", group))
    for topic, status in new.items():
        before = old.get(topic)
        if status == before or status not in ("OptIn", "OptOut"):
            continue
        if status == "OptIn" and before != "OptOut":
            continue  # a first opt-in is not a resubscribe
        group = group_of(out, f"SES topic: {topic}")
        changes.append(("group_unsubscribe" if status == "OptOut" else "group_resubscribe",
                        group))
    return changes

"""The event stream the simulation produces and the writers consume."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

# Event kinds (the first element of every event tuple is the time).
SEND, OPEN, CLICK, UNSUB, SPAM, CONFIRM, FORM, VISIT, CONSENT, SUBSCRIBE, END = (
    "send", "open", "click", "unsubscribe", "spam", "confirm", "form", "visit",
    "consent", "subscribe", "end",
)

Event = tuple[int, str, int, int, Any]  # (at, kind, email index or -1, contact index, extra)

# Send statuses in a SendBatch
DELIVERED, BOUNCED_HARD, BOUNCED_SOFT, DROPPED = range(4)
SEND_STATUS = ("delivered", "bounced_hard", "bounced_soft", "dropped")
# sends.proofs the Recorder writes for each (processed; + bounce; + dropped)
SEND_PROOFS = (1, 9, 9, 17)


@dataclass
class SendBatch:
    """The send log of one campaign, in send order (the extra of a SEND event)."""

    contacts: array[int]
    times: array[int]
    statuses: bytearray  # DELIVERED, BOUNCED_HARD, …


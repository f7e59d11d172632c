"""A contact's delivery log: every send with its outcome and reason, and why the
person gets no mail (if so).

Sending is not tracking (PRODUCT.md §1): sends are known for every recipient, so the
log is shown with or without tracking consent.  It never lists opens or clicks (those
follow the consent rule and live in the activity history).

Outcome of one send (``sends.status`` and ``sends.proofs``):

* ``dropped`` — the provider refused to send it (suppressed or invalid address);
* ``bounced_hard`` / ``bounced_soft`` — the receiving server refused it;
* ``deferred`` — the provider reported a deferral (greylisting, a full mailbox …) and
  no delivery yet: counted in Delivered (Delivered = Sent − bounced) until a bounce
  says otherwise;
* ``delivered`` — everything else: a delivery reported, or only "processed" (the
  provider accepted it and told of no failure), or inferred from an open, click,
  unsubscribe or spam report (``evidence`` says which).

Why no mail, first that applies: unsubscribed from all; a spam report; the address is
marked bounced from outside any one send (``contacts.bounced_at``, e.g. Mailchimp's
"cleaned" export) unless a send was delivered after that date; the latest send
hard-bounced; the latest send was dropped (a suppression or refused address).  A
contact's bounce reason is written ``WHO: WHY`` ("cleaned by Mailchimp: hard bounce"),
shown as "address cleaned by Mailchimp on DATE: hard bounce".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from journeytui.store import Store
from journeytui.store.recorder import (
    BOUNCE,
    DEFERRED,
    DELIVERED,
    DROPPED,
    INFERRED,
    PROCESSED,
)
from journeytui.timefmt import fmt_time, iso_time

OUTCOME_WORDS = {
    "delivered": "delivered",
    "bounced_hard": "bounced (hard)",
    "bounced_soft": "bounced (soft)",
    "dropped": "dropped",
    "deferred": "deferred",
}
_EVIDENCE = (
    (PROCESSED, "processed"), (DEFERRED, "deferred"), (DELIVERED, "delivered"),
    (BOUNCE, "bounce"), (DROPPED, "dropped"), (INFERRED, "inferred from engagement"),
)


def outcome_of(status: str, proofs: int) -> str:
    """The outcome code of a send (see the module docstring)."""
    if status == "delivered" and proofs & DEFERRED and not proofs & DELIVERED:
        return "deferred"
    return status


def evidence_of(proofs: int) -> list[str]:
    """The provider events on record about a send, as words."""
    return [word for bit, word in _EVIDENCE if proofs & bit]


@dataclass(frozen=True)
class DeliveryRow:
    send_id: int
    email: str
    at: int
    outcome: str
    evidence: tuple[str, ...]
    delivered_at: int | None = None
    reason: str | None = None
    classification: str | None = None
    smtp_status: str | None = None
    message_id: str | None = None

    @property
    def outcome_word(self) -> str:
        return OUTCOME_WORDS.get(self.outcome, self.outcome)

    @property
    def reason_text(self) -> str:
        """Reason with classification and SMTP status, as one short text ('' if none)."""
        parts = [p for p in (self.smtp_status, self.classification) if p]
        text = self.reason or ""
        if parts:
            text = f"{text} ({', '.join(parts)})" if text else ", ".join(parts)
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "time": iso_time(self.at),
            "outcome": self.outcome,
            "delivered_at": iso_time(self.delivered_at),
            "reason": self.reason,
            "bounce_classification": self.classification,
            "smtp_status": self.smtp_status,
            "evidence": list(self.evidence),
            "message_id": self.message_id,
        }


@dataclass(frozen=True)
class NoMail:
    """Why the person gets no mail: *kind* is ``unsubscribed_all``, ``spam_report``,
    ``bounced`` (the address, from outside any one send), ``hard_bounce`` or
    ``dropped``."""

    kind: str
    at: int | None
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "since": iso_time(self.at), "text": self.text}


@dataclass
class DeliveryLog:
    contact_id: int
    sends: list[DeliveryRow] = field(default_factory=list)  # newest first
    no_mail: NoMail | None = None

    def counts(self) -> dict[str, int]:
        """Sends per outcome, in OUTCOME_WORDS order (outcomes with none left out)."""
        out = dict.fromkeys(OUTCOME_WORDS, 0)
        for s in self.sends:
            out[s.outcome] = out.get(s.outcome, 0) + 1
        return {k: v for k, v in out.items() if v}

    def summary(self) -> str:
        """``12 sends: 10 delivered, 1 bounced (soft), 1 dropped`` (or ``no sends``)."""
        if not self.sends:
            return "no sends on record"
        n = len(self.sends)
        parts = ", ".join(f"{v} {OUTCOME_WORDS[k]}" for k, v in self.counts().items())
        return f"{n} send{'s' if n != 1 else ''}: {parts}"

    def to_json(self) -> dict[str, Any]:
        return {
            "sends": [s.to_json() for s in self.sends],
            "counts": self.counts(),
            "no_mail": None if self.no_mail is None else self.no_mail.to_json(),
        }


def _bounced_text(at: int, reason: str | None) -> str:
    """``address cleaned by Mailchimp on DATE: hard bounce`` from a ``WHO: WHY`` reason."""
    who, sep, why = (reason or "").partition(": ")
    if not sep:
        who, why = "bounced", reason or ""
    return f"address {who} on {fmt_time(at)}" + (f": {why}" if why else "")


def _no_mail(
    unsub_all: bool, unsub_at: int | None, spam_at: int | None, latest: DeliveryRow | None,
    bounced_at: int | None = None, bounce_reason: str | None = None,
) -> NoMail | None:
    if unsub_all:
        return NoMail("unsubscribed_all", unsub_at,
                      f"unsubscribed from all on {fmt_time(unsub_at)}")
    if spam_at is not None:
        return NoMail("spam_report", spam_at,
                      f"reported spam on {fmt_time(spam_at)}: no further mail")
    if bounced_at is not None and not (
        latest is not None and latest.at > bounced_at
        and latest.outcome in ("delivered", "deferred")
    ):
        return NoMail("bounced", bounced_at, _bounced_text(bounced_at, bounce_reason))
    if latest is not None and latest.outcome == "bounced_hard":
        why = f": {latest.reason_text}" if latest.reason_text else ""
        return NoMail("hard_bounce", latest.at,
                      f"the latest send hard-bounced on {fmt_time(latest.at)}{why}")
    if latest is not None and latest.outcome == "dropped":
        why = f": {latest.reason_text}" if latest.reason_text else ""
        return NoMail("dropped", latest.at,
                      f"the latest send was dropped by the provider on {fmt_time(latest.at)}"
                      f" (suppressed or refused address){why}")
    return None


def delivery_log(store: Store, contact_id: int) -> DeliveryLog:
    """The contact's sends, newest first, and why no mail reaches the contact (if so)."""
    c = store.conn
    rows = [
        DeliveryRow(
            r[0], r[1], r[2], outcome_of(r[3], r[4]), tuple(evidence_of(r[4])), r[5], r[6],
            r[7], r[8], r[9],
        )
        for r in c.execute(
            "SELECT s.id, e.name, s.at, s.status, s.proofs, s.delivered_at, s.reason,"
            " s.bounce_class, s.smtp_status, s.message_id FROM sends s"
            " JOIN emails e ON e.id = s.email_id WHERE s.contact_id = ?"
            " ORDER BY s.at DESC, s.id DESC",
            (contact_id,),
        )
    ]
    log = DeliveryLog(contact_id, rows)
    who = c.execute(
        "SELECT unsubscribed_all, unsubscribed_all_at, spam_reported_at, bounced_at,"
        " bounce_reason FROM contacts WHERE id = ?", (contact_id,)
    ).fetchone()
    if who is not None:
        log.no_mail = _no_mail(bool(who[0]), who[1], who[2], rows[0] if rows else None,
                               who[3], who[4])
    return log

"""The four kinds of finding, with the numbers each rests on and its one-sentence
reading, and the insights of a journey (its findings, kind by kind)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from journeytui.domain.insights import limits
from journeytui.domain.insights.limits import CLICK_FLAG, STALL_FLAG
from journeytui.domain.stats import UNSUB_WARN_FACTOR, UNSUB_WARN_MIN
from journeytui.textsafe import safe_text
from journeytui.timefmt import iso_time

KINDS = ("stall", "clicks", "unsubscribes", "dormant")


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.0f} %"


def _share(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _q(name: str) -> str:
    return f"“{safe_text(name)}”"


@dataclass(frozen=True)
class StallFinding:
    id: str
    email: str
    stage: str
    sent_at: int
    sent: int  # delivered E while in the stage (at E's send time)
    stalled: int  # … of them not moved on D days later
    baseline: int  # in the stage then, not sent E
    baseline_stalled: int
    days: int
    kind: str = "stall"

    @property
    def share(self) -> float | None:
        return _share(self.stalled, self.sent)

    @property
    def baseline_share(self) -> float | None:
        return _share(self.baseline_stalled, self.baseline)

    @property
    def difference(self) -> float:
        return round((self.share or 0.0) - (self.baseline_share or 0.0), 4)

    @property
    def flagged(self) -> bool:
        return self.difference >= STALL_FLAG

    @property
    def reading(self) -> str:
        pts = self.difference * 100
        return (f"{_pct(self.share)} of the {self.sent:,} contacts in {safe_text(self.stage)} "
                f"sent {_q(self.email)} had not moved on {self.days} days later, against "
                f"{_pct(self.baseline_share)} of the {self.baseline:,} in "
                f"{safe_text(self.stage)} not sent it ({f'{pts:+.0f}'.replace('-', '−')} points)"
                + (": look at its content and tone." if self.flagged else "."))

    @property
    def contacts(self) -> int:
        return self.stalled

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "email": self.email, "stage": self.stage,
            "sent_at": iso_time(self.sent_at), "days": self.days,
            "sent": self.sent, "stalled": self.stalled, "share": self.share,
            "baseline": self.baseline, "baseline_stalled": self.baseline_stalled,
            "baseline_share": self.baseline_share, "difference": self.difference,
            "flagged": self.flagged, "reading": self.reading,
        }


@dataclass(frozen=True)
class ClickFinding:
    id: str
    email: str
    url: str
    stage: str
    clickers: int  # contacts who clicked the link while in the stage
    not_moved: int  # … and had not moved on D days later
    days: int
    kind: str = "clicks"

    @property
    def share(self) -> float | None:
        return _share(self.not_moved, self.clickers)

    @property
    def flagged(self) -> bool:
        return (self.share or 0.0) >= CLICK_FLAG

    @property
    def reading(self) -> str:
        return (f"{self.not_moved:,} of the {self.clickers:,} contacts in "
                f"{safe_text(self.stage)} who clicked {safe_text(self.url)} in "
                f"{_q(self.email)} had not moved on {self.days} days later "
                f"({_pct(self.share)})"
                + (": review that page." if self.flagged else "."))

    @property
    def contacts(self) -> int:
        return self.not_moved

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "email": self.email, "url": self.url,
            "stage": self.stage, "days": self.days, "clickers": self.clickers,
            "not_moved": self.not_moved, "share": self.share, "flagged": self.flagged,
            "reading": self.reading,
        }


@dataclass(frozen=True)
class UnsubFinding:
    id: str
    email: str
    list: str
    sent_at: int | None
    delivered: int
    unsubscribed: int
    list_median: float  # median unsubscribe rate of the list's other emails
    others: int  # how many other emails that median is over
    listed: int  # unsubscribers with tracking consent (the contacts that can be listed)
    kind: str = "unsubscribes"

    @property
    def rate(self) -> float | None:
        return _share(self.unsubscribed, self.delivered)

    @property
    def times_median(self) -> float | None:
        r = self.rate
        return None if r is None or not self.list_median else round(r / self.list_median, 1)

    @property
    def flagged(self) -> bool:
        r = self.rate or 0.0
        return (r >= UNSUB_WARN_MIN and r > UNSUB_WARN_FACTOR * self.list_median
                and self.unsubscribed >= limits.MIN_EVENTS)

    @property
    def reading(self) -> str:
        times = self.times_median
        vs = (f"{times:.1f} × the median" if times is not None else "against a median")
        return (f"{_q(self.email)}: {self.unsubscribed:,} of {self.delivered:,} delivered "
                f"unsubscribed ({(self.rate or 0) * 100:.1f} %), {vs} of "
                f"{self.list_median * 100:.1f} % for the {safe_text(self.list)} list's other "
                f"{self.others} emails"
                + ("; rethink its targeting or frequency." if self.flagged else "."))

    @property
    def contacts(self) -> int:
        return self.listed

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "email": self.email, "list": self.list,
            "sent_at": iso_time(self.sent_at), "delivered": self.delivered,
            "unsubscribed": self.unsubscribed, "rate": self.rate,
            "list_median": round(self.list_median, 4), "other_emails": self.others,
            "times_median": self.times_median, "flagged": self.flagged,
            "contacts_with_consent": self.listed, "reading": self.reading,
        }


@dataclass(frozen=True)
class DormantFinding:
    id: str
    email: str
    stage: str  # the exit stage
    sent_at: int
    recipients: int  # in the exit stage when the email was sent, delivered it
    reengaged: int  # … who clicked it before leaving the stage
    back: int  # … of whom came back to the main line within D days of the click
    days: int
    kind: str = "dormant"

    @property
    def share(self) -> float | None:
        return _share(self.reengaged, self.recipients)

    @property
    def flagged(self) -> bool:
        return True

    @property
    def reading(self) -> str:
        return (f"{self.reengaged:,} of the {self.recipients:,} contacts in "
                f"{safe_text(self.stage)} when {_q(self.email)} was sent clicked it "
                f"({_pct(self.share)}); {self.back:,} of them came back to the main line "
                f"within {self.days} days.")

    @property
    def contacts(self) -> int:
        return self.reengaged

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "email": self.email, "stage": self.stage,
            "sent_at": iso_time(self.sent_at), "days": self.days,
            "recipients": self.recipients, "reengaged": self.reengaged,
            "share": self.share, "back": self.back, "flagged": True,
            "reading": self.reading,
        }


Finding = StallFinding | ClickFinding | UnsubFinding | DormantFinding


@dataclass
class Insights:
    journey: str
    evaluated_at: int
    days: int
    stall: list[StallFinding] = field(default_factory=list)
    clicks: list[ClickFinding] = field(default_factory=list)
    unsubscribes: list[UnsubFinding] = field(default_factory=list)
    dormant: list[DormantFinding] = field(default_factory=list)
    # per kind: how many candidates were left out for resting on too few contacts
    left_out: dict[str, int] = field(default_factory=dict)

    def all(self) -> list[Finding]:
        return [*self.stall, *self.clicks, *self.unsubscribes, *self.dormant]

    def find(self, finding_id: str) -> Finding | None:
        return next((f for f in self.all() if f.id == finding_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "evaluated_at": iso_time(self.evaluated_at),
            "days": self.days,
            "min_count": limits.MIN_COUNT,
            "min_events": limits.MIN_EVENTS,
            "stall": [f.to_json() for f in self.stall],
            "clicks": [f.to_json() for f in self.clicks],
            "unsubscribes": [f.to_json() for f in self.unsubscribes],
            "dormant": [f.to_json() for f in self.dormant],
            "left_out": {k: self.left_out.get(k, 0) for k in KINDS},
        }

"""When an email is opened and clicked, and a list's emails side by side.

**Timing** (:func:`timing`): an email's opens and clicks by hour after the send (the
first :data:`HOURS` hours) and by day after the send (days 0 … :data:`DAYS` − 1, then
one bucket for later).  The send time is the email's own (``emails.send_at``), else
its earliest send on record.  Only contact activities are read — opens and clicks of
contacts with tracking consent (PRODUCT.md §2: an anonymous open has no time that can
be shown per person, and the journeys see the same) — without machine opens and
suspected bot clicks; how many opens and clicks the statistics hold beyond them
(anonymous) is said beside.  An event stamped before the send time (a clock off at the
provider) is counted apart, never in hour 0.

**Series** (:func:`series`): the last N sent emails of a list, by send time, with their
statistics (PRODUCT.md §3: every recipient, anonymous ones included) and, for each, the
change from the email of the list sent before it (rates in percentage points).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from journeytui.domain.stats import EmailStats, email_stats, find_email
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.textsafe import safe_text
from journeytui.timefmt import iso_time

HOUR = 3_600
DAY = 86_400
HOURS = 24
DAYS = 14


@dataclass
class Timing:
    email: str
    send_at: int | None
    # per hour after the send, 0 … HOURS − 1: opens, clicks (events)
    hour_opens: list[int] = field(default_factory=lambda: [0] * HOURS)
    hour_clicks: list[int] = field(default_factory=lambda: [0] * HOURS)
    # per day after the send, 0 … DAYS − 1, then DAYS = "later"
    day_opens: list[int] = field(default_factory=lambda: [0] * (DAYS + 1))
    day_clicks: list[int] = field(default_factory=lambda: [0] * (DAYS + 1))
    before_send: int = 0
    openers: int = 0
    clickers: int = 0
    median_hours_to_first_open: float | None = None
    median_hours_to_first_click: float | None = None
    # from the statistics: what the consented activities do not show
    anonymous_opens: int = 0
    anonymous_clicks: int = 0

    @property
    def opens(self) -> int:
        return sum(self.day_opens)

    @property
    def clicks(self) -> int:
        return sum(self.day_clicks)

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "send_at": iso_time(self.send_at),
            "consented_only": True,
            "opens": self.opens,
            "clicks": self.clicks,
            "openers": self.openers,
            "clickers": self.clickers,
            "anonymous_opens": self.anonymous_opens,
            "anonymous_clicks": self.anonymous_clicks,
            "before_send": self.before_send,
            "median_hours_to_first_open": self.median_hours_to_first_open,
            "median_hours_to_first_click": self.median_hours_to_first_click,
            "by_hour": [{"hour": h, "opens": o, "clicks": c} for h, (o, c)
                        in enumerate(zip(self.hour_opens, self.hour_clicks, strict=True))],
            "by_day": [{"day": d if d < DAYS else f"{DAYS}+", "opens": o, "clicks": c}
                       for d, (o, c)
                       in enumerate(zip(self.day_opens, self.day_clicks, strict=True))],
        }


def _median_hours(values: list[int]) -> float | None:
    return round(statistics.median(values) / HOUR, 1) if values else None


def timing(store: Store, name: str) -> Timing:
    """The timing of the email called *name* (see the module docstring)."""
    email_id, _, status = find_email(store, name)
    if status == "draft":
        raise UserError(f"{name!r} is a draft: drafts have no statistics")
    conn = store.conn
    send_at = conn.execute("SELECT send_at FROM emails WHERE id = ?", (email_id,)).fetchone()[0]
    if send_at is None:
        send_at = conn.execute("SELECT min(at) FROM sends WHERE email_id = ?",
                               (email_id,)).fetchone()[0]
    t = Timing(name, send_at)
    first: dict[str, dict[int, int]] = {"open": {}, "click": {}}
    for kind, contact, at in conn.execute(
        "SELECT kind, contact_id, at FROM activities WHERE email_id = ?"
        " AND ((kind = 'open' AND machine = 0) OR (kind = 'click' AND bot = 0))",
        (email_id,),
    ):
        if send_at is None:  # (no send time at all: nothing to measure from)
            t.before_send += 1
            continue
        after = at - send_at
        if after < 0:
            t.before_send += 1
            continue
        seen = first[kind]
        if contact not in seen or after < seen[contact]:
            seen[contact] = after
        h, d = after // HOUR, min(after // DAY, DAYS)
        if kind == "open":
            t.day_opens[d] += 1
            if h < HOURS:
                t.hour_opens[h] += 1
        else:
            t.day_clicks[d] += 1
            if h < HOURS:
                t.hour_clicks[h] += 1
    t.openers, t.clickers = len(first["open"]), len(first["click"])
    t.median_hours_to_first_open = _median_hours(list(first["open"].values()))
    t.median_hours_to_first_click = _median_hours(list(first["click"].values()))
    row = conn.execute("SELECT anonymous_opens, anonymous_clicks FROM email_stats"
                       " WHERE email_id = ?", (email_id,)).fetchone()
    if row is not None:
        t.anonymous_opens, t.anonymous_clicks = int(row[0] or 0), int(row[1] or 0)
    return t


# -- series ----------------------------------------------------------------------------
SERIES_FIGURES = ("open_rate", "click_rate", "click_to_open", "unsubscribe_rate", "spam_rate")


@dataclass
class SeriesEmail:
    stats: EmailStats
    # figure -> change from the email before in the series (None: first, or no rate)
    delta: dict[str, float | None]

    def to_json(self) -> dict[str, Any]:
        s = self.stats
        out: dict[str, Any] = {"name": s.name, "send_at": iso_time(s.send_at), "sent": s.sent,
                               "delivered": s.delivered, "opened": s.opened,
                               "clicked": s.clicked, "unsubscribed": s.unsubscribed,
                               "spam_reports": s.spam_reports}
        for f in SERIES_FIGURES:
            out[f] = getattr(s, f)
        out["delta"] = dict(self.delta)
        return out


def series(store: Store, list_name: str, *, last: int = 5) -> list[SeriesEmail]:
    """The last *last* sent emails of the list *list_name*, oldest first."""
    if last < 1:
        raise UserError(f"--last {last}: at least 1")
    lists = [r[0] for r in store.conn.execute("SELECT name FROM lists ORDER BY name")]
    if list_name not in lists:
        have = ", ".join(f"'{safe_text(n)}'" for n in lists) or "none"
        raise UserError(f"no list named '{safe_text(list_name)}'; lists: {have}")
    sent = [s for s in email_stats(store)
            if s.list_name == list_name and s.status == "sent" and s.send_at is not None]
    out: list[SeriesEmail] = []
    prev: EmailStats | None = None
    for s in sent:  # (the first one shown compares with the one sent before it, if any)
        delta: dict[str, float | None] = {}
        for f in SERIES_FIGURES:
            a = getattr(prev, f) if prev is not None else None
            b = getattr(s, f)
            delta[f] = None if a is None or b is None else round(b - a, 4)
        out.append(SeriesEmail(s, delta))
        prev = s
    return out[-last:]

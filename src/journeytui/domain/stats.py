"""Per-email statistics (PRODUCT.md §3), read from the counters the recorder keeps.

Sent counts delivered and bounced sends; a dropped message (the provider refused to
send it, e.g. to a suppressed address) is not a send and is counted apart in
``dropped``, so the delivery rate and its warning reflect this email's deliverability,
not the list's suppressions.  Delivered = sent − bounced (hard + soft).

Every rate names its denominator: delivery rate = delivered / sent; open, click,
unsubscribe and spam rates = count / delivered; click-to-open = unique clickers /
unique openers.  A rate whose denominator is 0 is ``None``.  Machine opens are left
out of ``opened`` / ``opens_total`` and counted in ``machine_opens``; suspected bot
clicks are left out of ``clicked`` / ``clicks_total`` and counted in ``bot_clicks``.

A/B tests stay one email; an email whose sends carry two or more variants gets one
:class:`VariantStats` per variant (and one for sends without a variant, if any): Sent
and Delivered count every recipient, like the totals; Opened, Clicked, Unsubscribed and
Spam count the contacts with tracking consent (their activities name the contact, so
they can be matched to the variant the contact was sent; an anonymous open cannot).

Warnings (PRODUCT.md §3 "worth a glance"):
* delivery rate below 95 %;
* more than ``SPAM_WARN_COUNT`` spam reports on one email;
* an unsubscribe rate above ``UNSUB_WARN_FACTOR`` × the median unsubscribe rate of
  the other sent emails of the same list (and at least 1 %).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.timefmt import iso_time

DELIVERY_WARN_BELOW = 0.95
SPAM_WARN_COUNT = 3
UNSUB_WARN_FACTOR = 3.0
UNSUB_WARN_MIN = 0.01

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def rate(count: int, denominator: int) -> float | None:
    return count / denominator if denominator else None


@dataclass
class LinkStats:
    url: str
    clicked: int
    clicks_total: int
    bot_clicks: int = 0


@dataclass
class VariantStats:
    """The figures of one A/B test variant of an email (see the module docstring).

    ``variant`` is None for the sends of the email that carry no variant.  ``sent`` and
    ``delivered`` count every recipient; ``opened``, ``clicked``, ``unsubscribed`` and
    ``spam_reports`` count unique contacts with tracking consent (machine opens and
    suspected bot clicks left out, as in the totals)."""

    variant: str | None
    sent: int
    delivered: int
    opened: int
    clicked: int
    unsubscribed: int
    spam_reports: int

    @property
    def label(self) -> str:
        return self.variant if self.variant is not None else "(no variant)"

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "sent": self.sent,
            "delivered": self.delivered,
            "opened_consented": self.opened,
            "clicked_consented": self.clicked,
            "unsubscribed_consented": self.unsubscribed,
            "spam_reports_consented": self.spam_reports,
        }


@dataclass
class EmailStats:
    id: int
    name: str
    subject: str
    status: str
    send_at: int | None
    list_name: str | None
    sent: int
    bounced_hard: int
    bounced_soft: int
    dropped: int
    opened: int
    opens_total: int
    machine_opens: int
    clicked: int
    clicks_total: int
    bot_clicks: int
    unsubscribed: int
    spam_reports: int
    anonymous_clicks: int
    anonymous_opens: int
    links: list[LinkStats] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: one per A/B test variant when the email's sends carry two or more; else empty
    variants: list[VariantStats] = field(default_factory=list)

    @property
    def bounced(self) -> int:
        """Hard + soft bounces.  Drops are apart: a dropped message was never sent."""
        return self.bounced_hard + self.bounced_soft

    @property
    def delivered(self) -> int:
        return self.sent - self.bounced

    @property
    def delivery_rate(self) -> float | None:
        return rate(self.delivered, self.sent)

    @property
    def open_rate(self) -> float | None:
        return rate(self.opened, self.delivered)

    @property
    def click_rate(self) -> float | None:
        return rate(self.clicked, self.delivered)

    @property
    def click_to_open(self) -> float | None:
        return rate(self.clicked, self.opened)

    @property
    def unsubscribe_rate(self) -> float | None:
        return rate(self.unsubscribed, self.delivered)

    @property
    def spam_rate(self) -> float | None:
        return rate(self.spam_reports, self.delivered)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of `journeytui stats --json` (its keys are a public format: keep them)."""
        return {
            "name": self.name,
            "subject": self.subject,
            "status": self.status,
            "send_at": iso_time(self.send_at),
            "list": self.list_name,
            "sent": self.sent,
            "delivered": self.delivered,
            "bounced": self.bounced,
            "bounced_hard": self.bounced_hard,
            "bounced_soft": self.bounced_soft,
            "dropped": self.dropped,
            "opened": self.opened,
            "opens_total": self.opens_total,
            "machine_opens": self.machine_opens,
            "clicked": self.clicked,
            "clicks_total": self.clicks_total,
            "bot_clicks": self.bot_clicks,
            "unsubscribed": self.unsubscribed,
            "spam_reports": self.spam_reports,
            "delivery_rate": self.delivery_rate,
            "open_rate": self.open_rate,
            "click_rate": self.click_rate,
            "click_to_open": self.click_to_open,
            "unsubscribe_rate": self.unsubscribe_rate,
            "spam_rate": self.spam_rate,
            "anonymous_clicks": self.anonymous_clicks,
            "links": [asdict(link) for link in self.links],
            "warnings": list(self.warnings),
            "variants": [v.to_json() for v in self.variants],
        }


@dataclass
class EmailRow:
    """One row of the Emails list: every email, drafts with ``stats`` None."""

    id: int
    name: str
    subject: str
    status: str
    send_at: int | None
    list_name: str | None
    stats: EmailStats | None


_STATS_SQL = """
SELECT e.id, e.name, e.subject, e.status, e.send_at, l.name,
       s.sent, s.bounced_hard, s.bounced_soft, s.dropped, s.opened, s.opens_total,
       s.machine_opens, s.clicked, s.clicks_total, s.bot_clicks, s.unsubscribed,
       s.spam_reports, s.anonymous_clicks, s.anonymous_opens
FROM emails e
LEFT JOIN lists l ON l.id = e.list_id
LEFT JOIN email_stats s ON s.email_id = e.id
"""


def _row_to_stats(row: tuple[Any, ...]) -> EmailStats:
    figures = [v or 0 for v in row[6:]]
    return EmailStats(*row[:6], *figures)


def link_key(url: str) -> str:
    """What makes two URLs one link: scheme, host case and a trailing slash ignored."""
    u = url.strip()
    m = _SCHEME.match(u)
    if m:
        u = u[m.end():]
    cut = len(u)
    for sep in ("/", "?", "#"):
        i = u.find(sep)
        if 0 <= i < cut:
            cut = i
    host, rest = u[:cut].lower(), u[cut:]
    tail = ""
    for sep in ("#", "?"):
        i = rest.find(sep)
        if i >= 0:
            rest, tail = rest[:i], rest[i:] + tail
    return host + rest.rstrip("/") + tail


def _attach_links(store: Store, by_id: dict[int, EmailStats]) -> None:
    """Per-link rows; URLs that are one link (:func:`link_key`) are one row, shown in
    their most frequent form (most clicks, bot clicks included), unique clickers
    counted once across the forms."""
    if not by_id:
        return
    rows = store.conn.execute(
        "SELECT k.email_id, k.id, k.url, ls.clicked, ls.clicks_total, ls.bot_clicks"
        " FROM links k JOIN link_stats ls ON ls.link_id = k.id ORDER BY k.email_id, k.url"
    )
    groups: dict[tuple[int, str], list[tuple[int, str, int, int, int]]] = {}
    for email_id, link_id, url, clicked, total, bots in rows:
        if email_id in by_id:
            groups.setdefault((email_id, link_key(url)), []).append(
                (link_id, url, clicked, total, bots)
            )
    for (email_id, _), forms in groups.items():
        if len(forms) == 1:
            _, url, clicked, total, bots = forms[0]
        else:
            url = min(forms, key=lambda f: (-(f[3] + f[4]), -f[3], f[1]))[1]
            total = sum(f[3] for f in forms)
            bots = sum(f[4] for f in forms)
            ids = [f[0] for f in forms]
            clicked = store.conn.execute(
                "SELECT count(DISTINCT token) FROM link_recipients WHERE clicks > 0"
                f" AND link_id IN ({', '.join('?' * len(ids))})",
                ids,
            ).fetchone()[0]
        by_id[email_id].links.append(LinkStats(url, clicked, total, bots))
    for target in by_id.values():
        target.links.sort(key=lambda k: (-k.clicked, -k.clicks_total, k.url))


_VARIANT_SENDS_SQL = """
SELECT variant, sum(status != 'dropped'), sum(status = 'delivered')
FROM sends WHERE email_id = ? GROUP BY variant
"""
# Unique consented contacts per variant: a contact counts in the variant of each of its
# (not dropped) sends of the email.
_VARIANT_ACTS_SQL = """
WITH sv AS (SELECT DISTINCT contact_id, variant FROM sends
            WHERE email_id = :e AND contact_id IS NOT NULL AND status != 'dropped')
SELECT sv.variant,
       count(DISTINCT CASE WHEN a.kind = 'open' AND a.machine = 0 THEN a.contact_id END),
       count(DISTINCT CASE WHEN a.kind = 'click' AND a.bot = 0 THEN a.contact_id END),
       count(DISTINCT CASE WHEN a.kind = 'unsubscribe' THEN a.contact_id END),
       count(DISTINCT CASE WHEN a.kind = 'spam' THEN a.contact_id END)
FROM sv JOIN activities a ON a.contact_id = sv.contact_id AND a.email_id = :e
GROUP BY sv.variant
"""


def variant_stats(store: Store, email_id: int) -> list[VariantStats]:
    """Per-variant figures of one email, by variant name (sends without one last)."""
    c = store.conn
    sends = {v: (int(sent or 0), int(delivered or 0))
             for v, sent, delivered in c.execute(_VARIANT_SENDS_SQL, (email_id,))}
    acts = {r[0]: r[1:] for r in c.execute(_VARIANT_ACTS_SQL, {"e": email_id})}
    out = []
    for v in sorted(sends, key=lambda v: (v is None, v or "")):
        sent, delivered = sends[v]
        if v is None and not sent:
            continue  # only drops without a variant: nothing to show
        opened, clicked, unsubscribed, spam = acts.get(v, (0, 0, 0, 0))
        out.append(VariantStats(v, sent, delivered, opened, clicked, unsubscribed, spam))
    return out


def _attach_variants(store: Store, by_id: dict[int, EmailStats]) -> None:
    """Per-variant figures of the emails whose sends carry two or more variants."""
    split = store.conn.execute(
        "SELECT email_id FROM sends WHERE variant IS NOT NULL GROUP BY email_id"
        " HAVING count(DISTINCT variant) >= 2"
    ).fetchall()
    for (email_id,) in split:
        target = by_id.get(email_id)
        if target is not None:
            target.variants = variant_stats(store, email_id)


def _attach_warnings(items: list[EmailStats]) -> None:
    by_list: dict[str | None, list[float]] = {}
    for s in items:
        r = s.unsubscribe_rate
        if r is not None:
            by_list.setdefault(s.list_name, []).append(r)
    for s in items:
        dr = s.delivery_rate
        if dr is not None and dr < DELIVERY_WARN_BELOW:
            s.warnings.append(
                f"delivery rate {dr * 100:.1f} % is below {DELIVERY_WARN_BELOW * 100:.0f} %"
                f" ({s.bounced:,} of {s.sent:,} sent bounced)"
            )
        if s.spam_reports > SPAM_WARN_COUNT:
            s.warnings.append(f"{s.spam_reports} spam reports")
        ur = s.unsubscribe_rate
        others = list(by_list.get(s.list_name, []))
        if ur is not None and len(others) > 1:
            others.remove(ur)
            usual = statistics.median(others)
            if ur >= UNSUB_WARN_MIN and ur > UNSUB_WARN_FACTOR * usual:
                s.warnings.append(
                    f"unsubscribe rate {ur * 100:.1f} % is far above this list's usual "
                    f"{usual * 100:.1f} %"
                )


def email_stats(store: Store, name: str | None = None) -> list[EmailStats]:
    """Statistics of every non-draft email (or of the one named *name*), by send time."""
    sql = _STATS_SQL + " WHERE e.status != 'draft' ORDER BY e.send_at IS NULL, e.send_at, e.id"
    items = [_row_to_stats(r) for r in store.conn.execute(sql)]
    by_id = {s.id: s for s in items}
    _attach_links(store, by_id)
    _attach_variants(store, by_id)
    _attach_warnings(items)
    if name is not None:
        chosen = [s for s in items if s.name == name]
        if not chosen:
            _, _, status = find_email(store, name)  # raises for an unknown name
            raise UserError(f"{name!r} is a {status}: drafts have no statistics")
        return chosen
    return items


def list_emails(store: Store) -> list[EmailRow]:
    """Every email, drafts included (their ``stats`` is None), by send time."""
    stats = {s.id: s for s in email_stats(store)}
    rows = store.conn.execute(
        "SELECT e.id, e.name, e.subject, e.status, e.send_at, l.name FROM emails e"
        " LEFT JOIN lists l ON l.id = e.list_id"
        " ORDER BY e.send_at IS NULL, e.send_at, e.id"
    )
    return [EmailRow(r[0], r[1], r[2], r[3], r[4], r[5], stats=stats.get(r[0])) for r in rows]


def find_email(store: Store, name: str) -> tuple[int, str, str]:
    """(id, name, status) of the email called *name*; a clear error otherwise."""
    row = store.conn.execute(
        "SELECT id, name, status FROM emails WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        raise UserError(_unknown_email(store, name))
    return int(row[0]), row[1], row[2]


def _unknown_email(store: Store, name: str) -> str:
    from rapidfuzz import process

    names = [r[0] for r in store.conn.execute("SELECT name FROM emails")]
    close = [m[0] for m in process.extract(name, names, limit=3, score_cutoff=60)]
    hint = f" Did you mean: {', '.join(repr(n) for n in close)}?" if close else ""
    return f"no email named {name!r} in {store.path}.{hint}"

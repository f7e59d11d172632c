"""What an import did: the report every importer returns and the CLI prints.

Plain Python (no textual).  Reasons and locations are plain text with control
characters already escaped (see :func:`printable`), so printing them cannot send
escape sequences to a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from journeytui.store import Store
from journeytui.textsafe import safe_text

#: How many locations are kept per skip reason (the count is always exact).
LOCATIONS_KEPT = 5

#: How many bad lines a refused import lists before saying "and N more".
ERRORS_LISTED = 20


def printable(value: object, limit: int = 80) -> str:
    """*value* as one line of safe text (:func:`journeytui.textsafe.safe_text`): control
    and format characters escaped, long text cut.  A non-string is shown as its repr."""
    return safe_text(value if isinstance(value, str) else repr(value), limit)


@dataclass
class Skipped:
    """Events (or rows) left out for one reason: how many, and where the first were."""

    count: int = 0
    locations: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """The outcome of one import (one transaction).

    * ``added``: what was written, per kind (e.g. ``sent``, ``clicks``, ``new_contacts``).
    * ``skipped``: left out because of a problem in the data, per reason, with the first
      :data:`LOCATIONS_KEPT` locations (``file:line``).
    * ``ignored``: read but deliberately not counted (e.g. SendGrid ``delivered``).
    * ``notes``: anything else worth saying (a store created, an email marked sent).
    """

    source: str
    files: list[str] = field(default_factory=list)
    records: int = 0
    added: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, Skipped] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    #: what a dry run would change (see :func:`dry_run_preview`); None otherwise
    preview: dict[str, Any] | None = None
    #: the import_batches row of this import (0: none recorded, e.g. a dry run)
    batch_id: int = 0

    def add(self, kind: str, n: int = 1) -> None:
        self.added[kind] = self.added.get(kind, 0) + n

    def skip(self, reason: str, location: str) -> None:
        entry = self.skipped.get(reason)
        if entry is None:
            entry = self.skipped[reason] = Skipped()
        entry.count += 1
        if len(entry.locations) < LOCATIONS_KEPT:
            entry.locations.append(location)

    def ignore(self, kind: str) -> None:
        self.ignored[kind] = self.ignored.get(kind, 0) + 1

    @property
    def skipped_total(self) -> int:
        return sum(s.count for s in self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "files": list(self.files),
            "records": self.records,
            "added": dict(self.added),
            "skipped": [
                {"reason": reason, "count": s.count, "locations": list(s.locations)}
                for reason, s in self.skipped.items()
            ],
            "skipped_total": self.skipped_total,
            "ignored": dict(self.ignored),
            "notes": list(self.notes),
            "dry_run": self.dry_run,
            **({"would_change": self.preview} if self.preview is not None else {}),
        }

    def lines(self, labels: dict[str, str] | None = None, unit: str = "events") -> list[str]:
        """The report as text lines for a terminal (plain text, never markup)."""
        labels = labels or {}
        out: list[str] = []
        shown = [printable(f, 200) for f in self.files]
        if len(shown) > 3:
            files = f"{len(shown)} files ({shown[0]}, {shown[1]}, …, {shown[-1]})"
        else:
            files = ", ".join(shown)

        def units(n: int) -> str:
            return f"{n} {unit[:-1] if n == 1 and unit.endswith('s') else unit}"

        if self.dry_run:
            out.append("DRY RUN: nothing was changed; this is what the import would do.")
        out.append(f"Read {units(self.records)} from {files}.")
        out.extend(self.notes)
        nonzero = [(k, v) for k, v in self.added.items() if v]
        if nonzero:
            out.append("Added:")
            width = max(len(labels.get(k, k)) for k, _ in nonzero)
            for kind, n in nonzero:
                out.append(f"  {labels.get(kind, kind):<{width}}  {n}")
        else:
            out.append("Added: nothing.")
        if self.ignored:
            parts = ", ".join(f"{k} {v}" for k, v in self.ignored.items())
            out.append(f"Ignored (not counted by design): {parts}")
        if self.skipped:
            out.append(f"Skipped {units(self.skipped_total)}:")
            for reason, s in self.skipped.items():
                where = ", ".join(s.locations)
                more = s.count - len(s.locations)
                if more > 0:
                    where += f", … ({more} more)"
                out.append(f"  {reason}: {s.count}, at {where}")
        else:
            out.append("Skipped: nothing.")
        if self.preview is not None:
            out.extend(preview_lines(self.preview))
        return out


def advance_journeys(store: Store, report: ImportReport) -> None:
    """Advance every journey with what the import added (inside its transaction)."""
    from journeytui.domain.engine import advance_all

    for r in advance_all(store):
        how = "re-evaluated" if r.full else "advanced"
        report.notes.append(
            f"journey {printable(r.journey, 80)!s} {how}: {r.moves:,} new move"
            f"{'' if r.moves == 1 else 's'}"
        )


# -- dry runs ---------------------------------------------------------------------------
_FIGURES = (
    "sent", "delivered", "bounced_hard", "bounced_soft", "dropped", "opened", "opens_total",
    "machine_opens", "clicked", "clicks_total", "bot_clicks", "unsubscribed", "spam_reports",
)


def snapshot(store: Store) -> dict[str, Any]:
    """What a dry run compares: every email's figures, the counts of contacts and
    emails, and how many contacts stand in each journey stage."""
    c = store.conn
    emails: dict[str, dict[str, int]] = {}
    for row in c.execute(
        "SELECT e.name, s.sent, s.bounced_hard, s.bounced_soft, s.dropped, s.opened,"
        " s.opens_total, s.machine_opens, s.clicked, s.clicks_total, s.bot_clicks,"
        " s.unsubscribed, s.spam_reports FROM emails e JOIN email_stats s ON s.email_id = e.id"
    ):
        name, sent, hard, soft, *rest = row
        emails[name] = dict(
            zip(_FIGURES, (sent, sent - hard - soft, hard, soft, *rest), strict=True)
        )
    stages: dict[str, int] = {}
    for journey, stage, n in c.execute(
        "SELECT j.name, p.stage, count(*) FROM journey_positions p"
        " JOIN journeys j ON j.id = p.journey_id WHERE p.stage IS NOT NULL"
        " GROUP BY j.name, p.stage"
    ):
        stages[f"{journey} / {stage}"] = n
    moves = c.execute("SELECT count(*) FROM journey_moves WHERE provisional = 0").fetchone()[0]
    return {
        "emails": emails,
        "contacts": store.count("contacts"),
        "email_count": store.count("emails"),
        "stages": stages,
        "moves": moves,
    }


def dry_run_preview(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed from *before* to *after* (both from :func:`snapshot`)."""
    emails = []
    for name, figs in after["emails"].items():
        old = before["emails"].get(name)
        changed = {
            k: [0 if old is None else old[k], v]
            for k, v in figs.items()
            if (v != 0 if old is None else old[k] != v)
        }
        if changed or old is None:
            emails.append({"email": name, "new": old is None, "figures": changed})
    stages = {
        key: [before["stages"].get(key, 0), after["stages"].get(key, 0)]
        for key in sorted(set(before["stages"]) | set(after["stages"]))
        if before["stages"].get(key, 0) != after["stages"].get(key, 0)
    }
    return {
        "new_contacts": after["contacts"] - before["contacts"],
        "new_emails": after["email_count"] - before["email_count"],
        "emails": emails,
        "journey_stages": stages,
        "journey_moves": after["moves"] - before["moves"],
    }


def preview_lines(preview: dict[str, Any]) -> list[str]:
    """A dry run's preview as text lines (plain text, never markup)."""
    out = [
        f"Would add {preview['new_contacts']:,} contacts and {preview['new_emails']:,} emails.",
    ]
    if preview["emails"]:
        out.append("Figures per email (before → after):")
        for item in preview["emails"]:
            parts = ", ".join(f"{k} {a:,} → {b:,}" for k, (a, b) in item["figures"].items())
            new = " (new)" if item["new"] else ""
            out.append(f"  {printable(item['email'], 60)}{new}: {parts}")
    else:
        out.append("Figures per email: no change.")
    if preview["journey_stages"]:
        out.append(
            f"Journeys ({preview['journey_moves']:,} new moves), contacts per stage "
            "(before → after):"
        )
        for key, (a, b) in preview["journey_stages"].items():
            out.append(f"  {printable(key, 80)}: {a:,} → {b:,}")
    else:
        out.append("Journeys: no contact would change stage.")
    return out

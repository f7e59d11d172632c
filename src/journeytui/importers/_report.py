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

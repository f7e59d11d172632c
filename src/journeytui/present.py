"""How figures, rates, times, durations and activities read — the same in the CLI's
text output and in the terminal app (plain strings, never markup).

One wording per thing: an empty figure or rate is "—" (never "n/a"); a rate is
``12.3 %`` (a space before the sign); a difference of rates is ``+1.2 pts``; a time
is ``YYYY-MM-DD HH:MM`` UTC; days in a stage are whole days completed; a duration such
as a median is ``< 0.1``, one decimal below 10 days, whole days above; a suspected bot
click is "click (bot?)", a machine open "machine open".  JSON keeps the raw values.
"""

from __future__ import annotations

import math

from journeytui.timefmt import fmt_time

__all__ = [
    "DASH",
    "activity_label",
    "activity_label_sql",
    "days",
    "num",
    "pct",
    "plural",
    "pts",
    "size",
    "when",
    "whole_days",
]

DASH = "—"


def when(at: int | None) -> str:
    """``YYYY-MM-DD HH:MM`` UTC, or a dash."""
    return fmt_time(at)


def num(n: int | None) -> str:
    """A count with thousands separators, or a dash."""
    return DASH if n is None else f"{n:,}"


def pct(r: float | None, digits: int = 1) -> str:
    """A fraction as a percentage with a space before the sign, or a dash (no
    denominator: nothing to divide by)."""
    return DASH if r is None else f"{r * 100:.{digits}f} %"


def pts(d: float | None, digits: int = 1) -> str:
    """A difference of two rates in percentage points, signed: ``+1.2 pts``,
    ``−0.4 pts`` (a minus sign, not a hyphen)."""
    return DASH if d is None else f"{d * 100:+.{digits}f} pts".replace("-", "−")


def days(value: float | None) -> str:
    """A duration in days (a median, an average): ``< 0.1``, one decimal below 10,
    whole days from 10 on; a dash for none."""
    if value is None:
        return DASH
    if value < 0.1:
        return "< 0.1"
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def whole_days(value: float | None) -> str:
    """Days in a stage: whole days completed (298.9 → 298), or a dash."""
    return DASH if value is None else str(max(0, math.floor(value)))


def activity_label(kind: str, *, bot: bool = False, machine: bool = False) -> str:
    """One activity in a list: its kind, with a suspected bot click and a machine
    open told apart (they count in no figure)."""
    if kind == "click" and bot:
        return "click (bot?)"
    if kind == "open" and machine:
        return "machine open"
    return kind


def activity_label_sql(kind: str, bot: str, machine: str) -> str:
    """:func:`activity_label` as an SQL expression over the columns named *kind*,
    *bot* and *machine*, for a list that SQLite shapes as it reads (a test checks
    that both give the same words)."""
    return (f"CASE WHEN {kind} = 'click' AND {bot} THEN 'click (bot?)'"
            f" WHEN {kind} = 'open' AND {machine} THEN 'machine open' ELSE {kind} END")


def size(n_bytes: int) -> str:
    """A file size rounded so it stays stable while the file grows a little."""
    if n_bytes < 1024 * 1024:
        return f"{max(1, round(n_bytes / 1024))} kB"
    if n_bytes < 1024**3:
        return f"{n_bytes / 1024**2:.1f} MB"
    return f"{n_bytes / 1024**3:.2f} GB"


def plural(n: int, word: str) -> str:
    """``1 contact``, ``2 contacts``, ``2 activities`` (with thousands separators)."""
    if n == 1:
        return f"{n:,} {word}"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return f"{n:,} {word[:-1]}ies"
    return f"{n:,} {word}s"

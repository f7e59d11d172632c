"""Number, rate and time formatting shared by the panes (plain strings, no markup)."""

from __future__ import annotations

from journeytui.timefmt import fmt_time

DASH = "—"


def when(at: int | None) -> str:
    """``YYYY-MM-DD HH:MM`` UTC, or a dash."""
    return fmt_time(at)


def num(n: int | None) -> str:
    return DASH if n is None else f"{n:,}"


def pct(r: float | None, digits: int = 1) -> str:
    """A fraction as a percentage with a space before the sign, or ``n/a``."""
    return "n/a" if r is None else f"{r * 100:.{digits}f} %"


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

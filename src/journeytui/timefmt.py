"""Showing times: INTEGER seconds since the epoch, shown in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def fmt_time(ts: int | None, *, seconds: bool = False) -> str:
    """``YYYY-MM-DD HH:MM`` (UTC) or an em dash for no time."""
    if ts is None:
        return "—"
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(ts, UTC).strftime(fmt)


def iso_time(ts: int | None) -> str | None:
    """ISO 8601 UTC (``2026-03-01T09:30:00Z``) for JSON and CSV."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


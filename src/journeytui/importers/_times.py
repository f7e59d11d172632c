"""Times as the importers read them from files: ISO 8601 or unix seconds, to UTC
seconds (plain Python)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def iso_seconds(value: Any) -> int | None:
    """Unix seconds of an ISO 8601 time (``T`` or a space; any fraction, cut to six
    digits as Python reads them; an offset or ``Z``; no offset = UTC), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _FRACTION.sub(lambda m: m.group(1), value.strip(), count=1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())

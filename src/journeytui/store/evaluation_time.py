"""How a time "at the evaluation time" is stored.

The check at evaluation time makes *provisional* moves (``journey_moves.provisional =
1``), and a contact moved by one is in its stage since then.  Their time is the
journey's evaluation time (``journey_progress.evaluated_at``), which moves with every
import that brings a later event.  So that such an import rewrites one row rather than
every provisional move, ``journey_moves.at`` of a provisional move, and
``journey_positions.since`` of a contact whose stage comes from one, hold
:data:`AT_EVALUATION` instead of the time itself; every reader resolves it to the
journey's evaluation time (:func:`resolved`, :func:`resolved_sql`).

The value is larger than any real time, so it sorts where "now" sorts when now is the
latest event (the default), and the stalled filter (``since < now - N days``) leaves it
out as it leaves "now" out.  No output ever shows it.
"""

from __future__ import annotations

from typing import overload

# Larger than any time a store holds (year 9999 is 253,402,300,799 seconds).
AT_EVALUATION = 1 << 60


@overload
def resolved(t: int, now: int) -> int: ...


@overload
def resolved(t: int | None, now: int) -> int | None: ...


def resolved(t: int | None, now: int) -> int | None:
    """*t* as a time: the evaluation time *now* for :data:`AT_EVALUATION`."""
    return now if t == AT_EVALUATION else t


def resolved_sql(column: str, now: str) -> str:
    """SQL for *column* as a time, *now* (an SQL expression) for the stored marker."""
    return f"(CASE WHEN {column} = {AT_EVALUATION} THEN {now} ELSE {column} END)"

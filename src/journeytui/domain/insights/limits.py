"""How sure an insight must be, and when a finding is flagged.

``MIN_COUNT`` and ``MIN_EVENTS`` are read as ``limits.MIN_COUNT`` (at call time) by
every module of the package, so that one change here — a test's, on a small
hand-built store — holds everywhere.
"""

from __future__ import annotations

from journeytui.domain.funnel import DEFAULT_STALL_DAYS

DEFAULT_DAYS = DEFAULT_STALL_DAYS  # D: the funnel's stall threshold (30 days)
MIN_COUNT = 20  # smallest group a share is computed over
MIN_EVENTS = 5  # fewest re-engaged contacts / unsubscribes a finding is about
STALL_FLAG = 0.10  # a stall finding is flagged from +10 points over the baseline
CLICK_FLAG = 0.5  # a click finding is flagged when half or more did not move on

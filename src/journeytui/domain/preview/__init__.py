"""The live preview of a draft journey: the funnel it would give, without writing.

The condition editor asks for it at every edit, on stores of any size, so it comes
in two steps (the README's section on the condition editor says the same):

* **An estimate** (:class:`Sample`): the draft replayed over a fixed sample of the
  contacts — those whose id hashes below a threshold (:func:`contact_hash`, the same
  contacts at every edit, so figures do not flicker) — scaled up by the share
  sampled.  When the saved journey's stored results are current (nothing imported
  since its last evaluation), the sample measures only the *difference* the draft
  makes (draft − saved, per contact) and adds it to the saved figures: contacts the
  edit does not touch add no error.  Each estimated figure carries a margin of three
  standard errors (Bernoulli sampling), the variance taken at the upper end of what
  the sample allows (so a change the sample saw little of, or none, still fits).  On a store no
  larger than the sample there is no estimate: the exact funnel comes as quickly.
* **The exact funnel** (:func:`exact`): the draft replayed over every contact with
  the engine's own :class:`Runner`, one contact at a time, feeding the funnel's own
  :func:`journeytui.domain.funnel.compute` as it goes — only running totals are kept
  (no list of every move or position), so memory stays flat whatever the store's
  size.  A cancel flag is checked between contacts (an edit during a replay stops it
  within one contact), and progress is reported as the share of contact ids done.

  When the stored results are current and the draft differs from the saved journey
  only in transitions out of some stages, the contacts the saved evaluation never put
  in one of them cannot move differently: their figures are read back from the
  stored moves and positions, and only the others are replayed
  (:func:`affected_stages`; :mod:`.stored` says why that is sound).

The parts: :mod:`.sample` (the estimate), :mod:`.replay` (the exact funnel),
:mod:`.stored` (the stored results reused), :mod:`.events` (reading events),
:mod:`.cancel` (the cancel flag).
"""

from __future__ import annotations

from typing import Any

from journeytui.domain.funnel import DEFAULT_STALL_DAYS
from journeytui.domain.journey_model import Journey
from journeytui.domain.preview.cancel import Cancel, PreviewCancelled, Progress
from journeytui.domain.preview.events import CACHE_MAX_ROWS, Row
from journeytui.domain.preview.replay import exact
from journeytui.domain.preview.sample import (
    SAMPLE_CONTACTS,
    Estimate,
    Sample,
    Z,
    contact_hash,
)
from journeytui.domain.preview.stored import (
    BY_CONTACT,
    CHUNK,
    REUSE_SHARE,
    affected_stages,
    stored_current,
)
from journeytui.store import Store

# (The tunables are re-exported to be read; a test that changes one patches the
# module that reads it: preview.events, preview.sample, preview.stored.)
__all__ = [
    "BY_CONTACT", "CACHE_MAX_ROWS", "CHUNK", "REUSE_SHARE", "SAMPLE_CONTACTS", "Z", "Cancel",
    "Estimate", "PreviewCancelled", "Progress", "Row", "Sample", "affected_stages",
    "contact_hash", "exact", "preview", "stored_current",
]


def preview(
    store: Store, j: Journey, *, now: int | None = None, stall_days: int = DEFAULT_STALL_DAYS,
    validate: bool = True,
) -> dict[str, Any]:
    """The funnel *j* would give, without saving or writing anything (the exact one)."""
    return exact(store, j, now=now, stall_days=stall_days, validate=validate)

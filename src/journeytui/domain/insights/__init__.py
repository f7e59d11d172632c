"""Insights: the product does the reading of a journey.

Four patterns, per journey, each a list of findings with its numbers, a one-sentence
reading, the counts it rests on and a way to list the contacts behind it:

* **stall after a message** (``stall``) — for each sent email E and main-line stage k
  (not the goal): of the contacts who were in k when E was sent (its send time, after
  any move at that second) and were delivered E, the share still not moved on D days
  later (their stay in k had not ended with a move to a later main-line stage), against
  the same share for the contacts in k at that time who were not sent E (the stage's
  baseline, same stage, same period).  Ranked by the difference.  Only emails sent at
  least D days before the evaluation time (otherwise "D days later" is not known yet).
* **clicks without progress** (``clicks``) — per email, link and stage k: contacts who
  clicked the link while in k (the stage before the click's own moves) and had not
  moved on D days later.  The link is the post-click page to review.  Suspected bot
  clicks are left out (the engine ignores them too); clicks less than D days before the
  evaluation time are not judged yet.
* **unsubscribe spikes** (``unsubscribes``) — per list the journey's contacts were sent
  emails of: each sent email's unsubscribe rate (unsubscribed / delivered, the email
  statistics) against the median of the other sent emails of that list; flagged by the
  Emails pane's warning rule (at least 1 % and more than 3 × that median) and at least
  ``MIN_EVENTS`` unsubscribes.
* **dormant re-engaging** (``dormant``) — per exit stage X and email E: of the contacts
  who were in X when E was sent and were delivered it, those who clicked E before
  leaving X (the click that brings them back counts), and how many of them came back to
  the main line within D days of the click.

How sure: nothing is shown when a share rests on fewer than ``MIN_COUNT`` contacts
(stall: both groups; clicks: the clickers; unsubscribes: the delivered; dormant: the
recipients in X), nor a dormant finding with fewer than ``MIN_EVENTS`` re-engaged
contacts.  How many were left out is said.

Everything is read from the stored journey results (``journey_moves``), the send log,
the contact activities and the email statistics.  This package never imports textual.

The parts: :mod:`.findings` (the kinds and their wording), :mod:`.analysis` (reading
the store), :mod:`.members` (the contacts behind a finding), :mod:`.limits` (how sure).
"""

from journeytui.domain.insights.analysis import insights, parse_finding_id
from journeytui.domain.insights.findings import (
    KINDS,
    ClickFinding,
    DormantFinding,
    Finding,
    Insights,
    StallFinding,
    UnsubFinding,
)
from journeytui.domain.insights.limits import (
    CLICK_FLAG,
    DEFAULT_DAYS,
    MIN_COUNT,
    MIN_EVENTS,
    STALL_FLAG,
)
from journeytui.domain.insights.members import (
    _MEMBERS,
    TIME_LABELS,
    FindingContact,
    contacts_csv,
    count_finding_contacts,
    finding_contacts,
    finding_kind,
)

# (MIN_COUNT and MIN_EVENTS are re-exported to be read; to change them, patch
# journeytui.domain.insights.limits, where every module reads them.)
__all__ = [
    "CLICK_FLAG", "DEFAULT_DAYS", "KINDS", "MIN_COUNT", "MIN_EVENTS", "STALL_FLAG",
    "TIME_LABELS", "_MEMBERS", "ClickFinding", "DormantFinding", "Finding", "FindingContact",
    "Insights", "StallFinding", "UnsubFinding", "contacts_csv", "count_finding_contacts",
    "finding_contacts", "finding_kind", "insights", "parse_finding_id",
]

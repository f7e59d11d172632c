"""The funnel of a journey (PRODUCT.md §4), from stored results or from a preview.

Per main-line stage, in order:

* ``reached`` — contacts who ever got at least as far as this stage (a contact whose
  transition jumps ahead counts for the stages it skipped, so ``reached`` never
  grows along the main line);
* ``current`` — contacts in it as of the evaluation time;
* ``next_step_conversion`` = reached(k+1) / reached(k); ``cumulative_conversion``
  = reached(k) / reached(first stage); ``drop_off`` = reached(k) − reached(k+1);
  ``null`` where there is no next stage or the denominator is 0;
* ``median_days_to_next`` — median days from first reaching this stage to first
  reaching the next, over those who did;
* ``stalled`` — contacts currently in it for more than ``stall_days`` days
  (``null`` for the last stage: that is the goal).

Exit stages are reported apart (reached, current; ``stalled`` is ``null``: nobody is
stalled in the goal or an exit stage, in any output).  Per transition: how many moves
it made and which emails' events triggered them (``email`` null: a form, a page
visit, or the check at evaluation time).  Per stage and email: clicks by contacts
while in that stage, and how many led to no move ("many clicks, little progress").

Where each part lives: :mod:`.report` (what a funnel is computed from, the computation
from every move, the report), :mod:`.tally` (the counts kept current by evaluation and
advancement, the duration rows behind the medians), :mod:`.stored` (a saved journey's
funnel, from the kept tally or from every stored move; a draft's preview),
:mod:`.stage_contacts` (who is in a stage, as a list and as CSV), :mod:`.stage_pages`
(a stage's list a keyset page at a time, for the Journeys pane).
"""

from journeytui.domain.funnel.report import (
    DAY,
    DEFAULT_STALL_DAYS,
    FunnelData,
    compute,
)
from journeytui.domain.funnel.stage_contacts import (
    StageContact,
    contacts_csv,
    iter_stage_contacts,
    stage_contacts,
    write_contacts_csv,
)
from journeytui.domain.funnel.stage_pages import (
    STAGE_SORTS,
    StageMember,
    count_in_stage,
    iter_stage_members,
    stage_page,
)
from journeytui.domain.funnel.stored import full_funnel, funnel, preview, stored_data
from journeytui.domain.funnel.tally import (
    OPEN_FROM,
    OPEN_STEP,
    Tally,
    TallyMove,
    load_tally,
    progress_stamp,
    rebuild_tally,
    save_tally,
    stored_moves,
    write_steps,
)

__all__ = [
    "DAY",
    "DEFAULT_STALL_DAYS",
    "OPEN_FROM",
    "OPEN_STEP",
    "STAGE_SORTS",
    "FunnelData",
    "StageContact",
    "StageMember",
    "Tally",
    "TallyMove",
    "compute",
    "contacts_csv",
    "count_in_stage",
    "full_funnel",
    "funnel",
    "iter_stage_contacts",
    "iter_stage_members",
    "load_tally",
    "preview",
    "progress_stamp",
    "rebuild_tally",
    "save_tally",
    "stage_contacts",
    "stage_page",
    "stored_data",
    "stored_moves",
    "write_contacts_csv",
    "write_steps",
]

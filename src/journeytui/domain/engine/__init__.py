"""The journey engine: replays consented contacts' events and records every move.

Rules (PRODUCT.md §4), as built here — the README's "Journeys" section says the same:

* **What it reads.**  Contact activities (``activities``: consented contacts only —
  a click by a contact without tracking consent is never there, so it never moves
  anyone), minus machine opens and suspected bot clicks; and, for contacts that have
  activities, the delivered sends (``sends.status = 'delivered'``: a bounced or
  dropped send is not a campaign received, nor a check point) and every subscription
  change (``subscription_changes``: unsubscribe, resubscribe, spam report — with or
  without consent).  A contact with no activity is in no journey.
* **Order.**  Each contact's events in time order; events of the same second in
  row-id order (each table has its own ids; equal ids: the send, then the activity,
  then the subscription change).
* **Entry.**  A contact enters the first stage at its first *activity* at which the
  journey's ``entry`` condition holds (default: any open or click) — never at a send,
  nor at a subscription change recorded without consent (one recorded with consent
  is the contact's unsubscribe or spam activity, and counts as that activity).  Its
  history before that still counts for later conditions.
* **Moves (the cascade).**  After each event the transitions out of the current
  stage, and those "from any stage" (which apply in every main-line stage, not in
  exit stages), are tried in ascending priority, ties in definition order; the first
  that holds moves the contact, and the same is tried from the new stage, until none
  holds or the next move would re-enter a stage already visited at this event.
  Every transition is tried at every event, whatever its kind; the engine skips only
  those that provably cannot hold (a condition without ``not`` whose event kinds did
  not occur, when the last cascade was not cut: time only makes facts false).  Each
  move records its time and the triggering event — the activity, the send (an
  inactivity check), or nothing for a subscription change without consent and for
  the check at evaluation time — and so the email (a subscription change names its
  email only with consent).
* **Conditions** are facts about the history up to the check ("has clicked …"),
  optionally within the last D days or only since the contact entered its current
  stage (``since_stage``, strictly after the move, so the event that moved it
  does not count again).  ``unsubscribed`` reads the subscription *state* at that
  moment: an unsubscribe from the list (or from all lists) makes it true, a
  resubscribe to that list makes it false again; unsubscribed from all beats every
  list (a resubscribe to one list leaves it).  ``reported_spam`` holds from the
  report on (with or without consent; "reported email X" only with consent, as the
  email is not kept otherwise).
* **Inactivity** ("no click in the last N campaigns received") is judged at every
  delivered send — over the N campaigns received *before* that one, which have had
  their chance — and at evaluation time over the N latest campaigns received.  Any
  click clears the verdict taken at the last send.
* **Evaluation time** ("now") is a parameter; by default the time of the latest
  activity, send or subscription change in the store, so the same data always give
  the same stages.  At "now" every contact's transitions are tried once more
  (inactivity, windows, ``not``).  Those moves are *provisional*
  (``journey_moves.provisional = 1``): the next evaluation or advance redoes them,
  which is what keeps an incremental advance equal to a full replay.  Their time, and
  the ``since`` of a position one of them decides, are stored as "at the evaluation
  time" (``journeytui.store.evaluation_time``): an advance to a later time leaves
  the moves of the contacts it does not touch as they are.
* **Incremental.**  :func:`advance` (and :func:`advance_all`, for after an import)
  continues each contact from its stored state with the activities, sends and
  subscription changes added since the last run (high-water marks per journey, kept
  in ``journey_progress``).  A contact is replayed from its first event (its share of
  the click counters taken back first) when it has no state yet, when new events are
  older than what was already processed for it, or when a row already processed
  changed in place since (a send bounced, was dropped or got an earlier time; an
  activity or subscription change was removed): SQL triggers note such contacts in
  ``changed_contacts`` with a sequence number, so an advance reads exactly them — and
  the new events' contacts, and those whose time window closes before the new "now"
  (``journey_positions.recheck_at``) — and no other contact's state.  A changed
  definition, or states stored by another engine (``STATE_FORMAT``), replay the
  journey fully.
* **Writing.**  A full evaluation streams: each contact's moves, position and
  state are written in batches (:data:`BATCH_MOVES` moves) as contacts finish, and
  the journey's funnel counts (:class:`journeytui.domain.funnel.Tally`) are built on
  the way; an advance takes back and adds again the share of the contacts it
  touches.  Deleting the newest row of an event table (a forgotten contact) lets
  SQLite reuse its id below the high-water marks: an advance that has not seen that
  deletion (``freed_ids``) replays the journey fully.
* **Known limits.**  After a contact revokes consent its clicks are no longer seen
  while campaigns keep being sent, so an inactivity exit can follow.  Forgetting a
  contact deletes its positions and moves (the per-stage click counters, which name
  no contact, keep its clicks until the journey is evaluated again).  Events later
  than an evaluation time given by hand are still replayed (``--now`` sets when the
  final check happens, not a cut-off).

Where each part lives: :mod:`.events` (the event rows read, in order),
:mod:`.runner` (the replay), :mod:`.results` (moves, click counters, states written),
:mod:`.full` (the full evaluation), :mod:`.incremental` (the advance), :mod:`.marks`
(high-water marks, the change sequence, the state format).  The tunables (batch sizes,
thresholds) are read in the module that uses them: set them there.
"""

from journeytui.domain.compiler import compile_journey
from journeytui.domain.engine.events import (
    _ACT,
    _CHANGE,
    _CHANGE_HAS_ACTIVITY,
    _ORDER,
    _SEND,
    CHANGES_SQL,
    CONTACT_EVENTS_SQL,
    EVENTS_SQL,
    NEW_EVENTS_FEW_SQL,
    NEW_EVENTS_SQL,
    Changes,
    _cache,
    _merged,
    default_now,
)
from journeytui.domain.engine.full import (
    EvaluateOne,
    Evaluation,
    Progress,
    contacts_to_evaluate,
    evaluate,
    evaluate_all,
    evaluation_transaction,
)
from journeytui.domain.engine.incremental import AdvanceReport, advance, advance_all
from journeytui.domain.engine.marks import (
    STATE_FORMAT,
    Hwm,
    change_seq,
    compact_changes,
    high_water,
    hwm_params,
)
from journeytui.domain.engine.results import _dump_state
from journeytui.domain.engine.runner import Move, Replay, Runner, replay

# What the rest of journeytui uses; the underscored names are the engine's own, shared
# with the worker processes' replay (journeytui.domain.replay_workers), the journeys'
# save (journeytui.domain.journeys) and the benchmarks.
__all__ = [
    "CHANGES_SQL",
    "CONTACT_EVENTS_SQL",
    "EVENTS_SQL",
    "NEW_EVENTS_FEW_SQL",
    "NEW_EVENTS_SQL",
    "STATE_FORMAT",
    "AdvanceReport",
    "Changes",
    "Evaluation",
    "Hwm",
    "EvaluateOne",
    "Move",
    "Progress",
    "Replay",
    "Runner",
    "_ACT",
    "_CHANGE",
    "_CHANGE_HAS_ACTIVITY",
    "_ORDER",
    "_SEND",
    "_cache",
    "_dump_state",
    "_merged",
    "advance",
    "advance_all",
    "change_seq",
    "compact_changes",
    "compile_journey",
    "contacts_to_evaluate",
    "default_now",
    "evaluate",
    "evaluate_all",
    "evaluation_transaction",
    "high_water",
    "hwm_params",
    "replay",
]

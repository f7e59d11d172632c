"""Import SendGrid Event Webhook payloads (plain Python, no textual).

A file is either what a webhook receives — one JSON array of event objects (or
several arrays one after the other, as a log of webhook POST bodies one per line) — or
one JSON event object per line (NDJSON, blank lines allowed).  The first character that
is not white space decides: ``[`` is an array, ``{`` is one event per line (a file
holding a single event object, even spread over several lines, is read as that one
event).  ``-`` reads standard input.  Events already parsed elsewhere (other providers
mapped onto SendGrid's vocabulary, webhook requests) go through
:func:`import_parsed_events` with their own locations; a file import uses it too.

What fails the whole import (nothing is written, the store stays exactly as it was):

* a file that cannot be read or is not UTF-8 (an empty file, or ``[]``, holds no
  events and is only noted in the report);
* a file that is not JSON where it must be: the array is not valid JSON, or a line of
  an NDJSON file is not valid JSON, or JSON nested too deeply to read;
* a top level that is neither an array nor an object, an array element or a line that
  is not a JSON object (``[1, 2]``, a line holding ``"text"``), or a single object that
  is not an event (no ``event`` field).

The message names the file, the line (and for arrays the index of the element) and
what was expected.

What skips one event (the rest are imported; the report counts each reason and lists
the first few locations as ``FILE:LINE`` or ``FILE:LINE [index N]``):

* a missing or wrong ``event``, ``timestamp`` (unix seconds, as a number or a string
  of digits; a value that looks like milliseconds is refused), or ``email``;
* a timestamp more than a day after the import runs (it would move the journeys'
  evaluation clock into the future);
* a ``click`` without ``url``, a ``group_unsubscribe``/``group_resubscribe`` without an
  integer ``asm_group_id``, an ``asm_group_id`` outside SQLite's 64-bit integers, a
  ``bounce`` whose ``type`` is not ``bounce``/``blocked``;
* an unknown event type (``account_status_change`` is not about an email: "ignored");
* an event that belongs to no email (see below) and carries no ``sg_message_id`` —
  except unsubscribes and spam reports, which always act on the contact (PRODUCT.md
  §2).  One that carries a message id nobody has named yet waits in
  ``parked_events`` until an import names that message (or gives ``--email``), so
  events split over several imports in any order give what one import gives;
* an event already imported: the same ``sg_event_id`` *and* event type (so importing
  a file twice changes nothing; documentation examples that reuse one placeholder id
  for every event type still import).  Without ``sg_event_id`` an event is
  deduplicated by a hash of its whole content.

Which email an event belongs to, first match wins: ``singlesend_name``/``_id`` (a
Single Send); ``mc_auto_name``/``_id`` (an Automation; with ``mc_auto_step_id`` one
email per step, named ``AUTOMATION · step STEP_ID``); ``marketing_campaign_name`` /
``_id`` (legacy campaigns; an A/B test's versions stay one email); the *message join*:
another event of the same message (``sg_message_id`` up to its first ``.``) that one of
these named, in this import or an earlier one; the category rule: a category string,
or a list of one, names the email; a list of several names the email by all of them
joined with `` / `` in the given order (so ``["newsletter","week-1"]`` and
``["newsletter","week-2"]`` stay two emails); the message join to a category;
else ``--email NAME``.  An email not yet in the store is created with status ``sent``
and ``send_at`` = its earliest imported event.

A send is a message: ``processed``, ``delivered``, ``deferred``, ``bounce`` and
``dropped`` each prove one; all events of one message (per recipient) are one send,
whatever order they arrive in, in one import or several.  Its status is the strongest
outcome on record (dropped > bounced hard > bounced soft > delivered); a drop is not
a send (counted apart).  An open or click of a recipient with no send of that email on
record proves a delivered send (the report counts these), and so does an unsubscribe
or spam report through an email: so no rate exceeds 100 %.  Bounce reason,
classification and status, and the drop reason, are stored on the send.

Mapping: ``bounce`` with type ``bounce`` (or none) → hard bounce, ``blocked`` → soft;
``open`` (``sg_machine_open: true`` → a machine open); ``click`` on ``url``;
``unsubscribe`` → from all; ``group_unsubscribe`` → from the list of its
``asm_group_id``; ``group_resubscribe`` → back on that list; ``spamreport`` → spam
report.  An address not yet known becomes a contact without tracking consent.  Events
are applied in (timestamp, file order).  All writes go through
:class:`journeytui.store.Recorder`, which applies the consent rule.

The package: ``_read`` reads files, ``_events`` checks one event and finds the email it
names, ``_apply`` writes through the Recorder (with each event's source), ``_run`` is the
import (read and check everything, attribute, apply in one transaction).
"""

from journeytui.importers.sendgrid._events import (
    DUPLICATE,
    FUTURE,
    FUTURE_HORIZON_S,
    HANDLED,
    LABELS,
    MESSAGE_KINDS,
    NO_EMAIL,
    NOT_ABOUT_AN_EMAIL,
    Location,
    parse_email_by,
)
from journeytui.importers.sendgrid._read import read_events
from journeytui.importers.sendgrid._run import (
    IMPORT_CACHE_KIB,
    import_parsed_events,
    import_sendgrid,
)

__all__ = [
    "DUPLICATE",
    "FUTURE",
    "FUTURE_HORIZON_S",
    "HANDLED",
    "IMPORT_CACHE_KIB",
    "LABELS",
    "MESSAGE_KINDS",
    "NOT_ABOUT_AN_EMAIL",
    "NO_EMAIL",
    "Location",
    "import_parsed_events",
    "import_sendgrid",
    "parse_email_by",
    "read_events",
]

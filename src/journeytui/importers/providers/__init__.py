"""Events of Mailgun, Postmark, Amazon SES, Mandrill and Brevo, imported through the
SendGrid importer (plain Python, no textual).

One event model, several providers: each provider's webhook body is mapped (one module
per provider) onto the SendGrid Event Webhook vocabulary that
:mod:`journeytui.importers.sendgrid` imports (``processed``, ``delivered``,
``deferred``, ``bounce`` with ``type`` ``bounce``/``blocked``, ``dropped``, ``open``
with ``sg_machine_open``, ``click`` with ``url``, ``spamreport``, ``unsubscribe``,
``group_unsubscribe``/``group_resubscribe`` for a provider's own lists), and the events
are handed, each with its location, to
:func:`journeytui.importers.sendgrid.import_parsed_events`: the same checks, the same
Recorder (consent rule, statistics, bot clicks), the same dedup, journeys advanced in
the same transaction.

Locations: an event's location is the user's file, the line its webhook body starts
on, and an index — the body's index when a line (or the file) holds a JSON array of
bodies, or the event's index in a Mandrill ``mandrill_events`` array of several
events.  Provenance (``journeytui explain``) and skip reasons name it.  Skip reasons
use the provider's own field and event names (an address, time or link missing is
found while mapping; "no email" and duplicates are reworded from the importer's).

Namespacing: every event id and message id is prefixed with the provider
(``mailgun:…``), so ids of different providers never collide; a ``.`` in a provider's
message id is written ``%2E`` (the SendGrid importer reads a message id up to its first
``.``).  Events without an id of their own are deduplicated by the whole mapped event
(which names the provider).  A provider's own lists (Postmark message streams, SES
contact lists and topics) are lists named after them ("Postmark stream: outbound"),
whose unsubscribe group is a negative number derived from the name.

Which provider a file is: :func:`sniff_path` / the package's sniffing reads the shape of
each body.  The README (section Imports, "Other providers") has the mapping table, each
provider's dedup key and which field names the email.
"""

from journeytui.importers.providers._import import ensure_lists, import_events, read_files
from journeytui.importers.providers._read import (
    NAMES,
    PROVIDERS,
    read_bodies,
    refuse_other,
    sniff_body,
    sniff_path,
)

__all__ = ["NAMES", "PROVIDERS", "ensure_lists", "import_events", "read_bodies", "read_files",
           "refuse_other", "sniff_body", "sniff_path"]

"""What every provider's mapper shares: the mapped events of one body (:class:`Out`),
each provider's own words for what the SendGrid importer decides (:class:`Terms`), and
small readers of provider fields (times, ids, tags, addresses)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from journeytui.importers._common import is_address
from journeytui.importers._report import printable
from journeytui.importers._times import iso_seconds
from journeytui.importers.sendgrid._events import PROVIDER_EVENT

#: A field name, or several (the first found is used).
Fields = str | tuple[str, ...]

# Timestamps at or above this are taken for milliseconds (as the SendGrid importer does).
_MAX_SECONDS = 100_000_000_000


@dataclass(frozen=True)
class Terms:
    """How a provider's file speaks of what the SendGrid importer decides, so that a
    user reads every skip reason in the provider's own fields.

    * *no_email*: why an event names no email (which fields would have named it);
    * *duplicate*: what makes two events the same (the dedup key);
    * *naming*: the fields that name the email, for the summary's hint.
    """

    name: str
    no_email: str
    duplicate: str
    naming: str


class Out:
    """The SendGrid-vocabulary events of one body, each with its place in the body (an
    index in a Mandrill array, else None), and the reasons some were left out.

    Before a mapper adds an event it says, with :meth:`about`, how the provider names
    the event and the fields it read the address, the time and the URL from; an event
    whose address, time or URL is missing or wrong is then skipped with a reason in
    those terms (never in SendGrid's).
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.events: list[tuple[dict[str, Any], int | None]] = []
        self.skips: list[tuple[str, int | None]] = []
        self.ignored: str | None = None
        self.index: int | None = None
        #: the provider's own lists the events name: unsubscribe group -> list name
        self.lists: dict[int, str] = {}
        self.what = provider
        self.fields = ("'email'", "'time'", "'url'")

    def about(self, what: str, email: Fields, time: Fields, url: Fields = "url") -> None:
        """The event's name as the provider says it (``Postmark Bounce``), and the
        fields of its address, time and URL (as the provider writes them; several
        fields: the first found is used)."""
        self.what = what
        self.fields = (_quoted(email), _quoted(time), _quoted(url))

    def skip(self, reason: str) -> None:
        self.skips.append((reason, self.index))

    def add(
        self,
        kind: str,
        email: Any,
        ts: int | None,
        *,
        event_id: str | None = None,
        message: str | None = None,
        name: dict[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        problem = self._problem(kind, email, ts, fields.get("url"))
        if problem:
            self.skip(f"{self.what}: {problem}")
            return
        ev: dict[str, Any] = {"event": kind, "provider": self.provider, "email": email,
                              "timestamp": ts,
                              PROVIDER_EVENT: self.what.replace("'", "")}
        if event_id:
            ev["sg_event_id"] = f"{self.provider}:{event_id}"
        if message:
            ev["sg_message_id"] = message
        if name:
            ev.update(name)
        ev.update({k: v for k, v in fields.items() if v is not None})
        self.events.append((ev, self.index))

    def _problem(self, kind: str, email: Any, ts: int | None, url: Any) -> str | None:
        email_field, time_field, url_field = self.fields
        if email is None or email == "":
            return f"no recipient address in {email_field}"
        if not isinstance(email, str) or not is_address(email):
            return f"{email_field} is not an email address ({printable(email, 60)})"
        if ts is None:
            return f"no time in {time_field}"
        if not 0 <= ts < _MAX_SECONDS:
            return f"{time_field} is not a time in seconds ({ts})"
        if kind == "click":
            if url is None or url == "":
                return f"no link in {url_field}"
            if not isinstance(url, str):
                return f"{url_field} is not a link ({printable(url, 60)})"
        return None


def _quoted(fields: Fields) -> str:
    """``'a'``, or ``'a', 'b' or 'c'``."""
    names = [fields] if isinstance(fields, str) else list(fields)
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


# -- readers of provider fields -----------------------------------------------------------
def iso(value: Any) -> int | None:
    """Unix seconds of an ISO 8601 time (any fraction, offset or Z; naive = UTC)."""
    return iso_seconds(value)


def seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        value = float(value)
    if isinstance(value, int | float):
        return int(value)
    return None


def msg(provider: str, value: Any) -> str | None:
    """The message id namespaced by the provider; a ``.`` is written ``%2E`` (the
    SendGrid importer reads a message id up to its first ``.``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip().strip("<>").strip()
    return f"{provider}:{value.replace('.', '%2E')}" if value else None


def text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def tags(value: Any) -> list[str] | None:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except ValueError:
                return [stripped]
        else:
            return [stripped] if stripped else None
    if isinstance(value, list):
        found = [t for t in (text(v) for v in value) if t]
        return found or None
    return None


_ANGLE = re.compile(r"<([^<>]+)>")


def address(value: Any) -> Any:
    """The address inside ``Name <addr>`` (or the value as it is)."""
    if isinstance(value, str):
        m = _ANGLE.search(value)
        if m:
            return m.group(1).strip()
    return value


def naming(campaign: Any = None, campaign_id: Any = None, tag_list: list[str] | None = None,
           subject: Any = None) -> dict[str, Any]:
    """The fields that name the email: a campaign (name/id) first, else the tags, else
    the subject (as SendGrid categories: several tags name the email together)."""
    name, cid = text(campaign), text(campaign_id)
    if name or cid:
        out: dict[str, Any] = {}
        if name:
            out["marketing_campaign_name"] = name
        if cid:
            out["marketing_campaign_id"] = cid
        return out
    if tag_list:
        return {"category": tag_list}
    subj = text(subject)
    return {"category": subj} if subj else {}


def group_of(out: Out, list_name: str) -> int:
    """The unsubscribe group of a provider's own list (e.g. a Postmark message stream),
    noted in *out* with the list's name: a negative number (SendGrid's are positive),
    the same in every import."""
    digest = hashlib.blake2b(f"{out.provider}:{list_name}".encode(), digest_size=7).digest()
    group = -1 - int.from_bytes(digest, "big")
    out.lists[group] = list_name
    return group

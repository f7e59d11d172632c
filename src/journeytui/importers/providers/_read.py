"""Reading webhook bodies from a file, and recognising which provider wrote them."""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import parse_qs

from journeytui.errors import UserError
from journeytui.importers._common import STDIN, STDIN_NAME, read_text
from journeytui.importers._report import printable

PROVIDERS = ("sendgrid", "mailgun", "postmark", "ses", "mandrill", "brevo")
NAMES = {
    "sendgrid": "SendGrid (Event Webhook)",
    "mailgun": "Mailgun (webhook event-data)",
    "postmark": "Postmark (webhook RecordType)",
    "ses": "Amazon SES (SNS notification)",
    "mandrill": "Mandrill (mandrill_events)",
    "brevo": "Brevo (transactional webhook)",
}

Body = Any
Loc = tuple[int, int | None]  # line, index in an array on that line (or None)


# -- reading ------------------------------------------------------------------------------
def read_bodies(path: str | os.PathLike[str]) -> tuple[str, str, list[tuple[Body, Loc]]]:
    """The webhook bodies of a file (one per line, a JSON array of bodies, or one
    pretty-printed body), each with its line.  Mandrill's form-encoded
    ``mandrill_events=…`` lines are decoded.  Raises UserError for text that is not
    JSON, naming file and line."""
    name = STDIN_NAME if str(path) == STDIN else str(path)
    text = read_text(path, "an events file")
    out: list[tuple[Body, Loc]] = []
    stripped = text.strip()
    if not stripped:
        return name, text, out
    whole: Any = None
    if stripped[0] in "[{":
        try:
            whole = json.loads(stripped)
        except (ValueError, RecursionError):
            whole = None
    if whole is not None and not _several_lines_of_json(stripped):
        first_line = text[: len(text) - len(text.lstrip())].count("\n") + 1
        if isinstance(whole, list) and whole and all(isinstance(b, dict) for b in whole) \
                and not _is_mandrill_array(whole):
            lines = _element_lines(text)
            out.extend((b, (lines[i], i)) for i, b in enumerate(whole))
        else:
            out.append((whole, (first_line, None)))
        return name, text, out
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("mandrill_events="):
            values = parse_qs(line).get("mandrill_events")
            line = values[0] if values else ""
        try:
            out.append((json.loads(line), (n, None)))
        except (ValueError, RecursionError) as exc:
            raise UserError(
                f"{name}: line {n}: not JSON ({printable(str(exc), 80)}); expected one "
                "webhook body per line. Nothing was imported."
            ) from None
    return name, text, out


_WS = re.compile(r"[ \t\n\r]*")


def _element_lines(text: str) -> list[int]:
    """The line each element of the JSON array *text* (valid JSON) starts on."""
    decoder = json.JSONDecoder()
    lines: list[int] = []
    pos = text.index("[") + 1
    line, counted = 1, 0
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith("]", pos):
            return lines
        line += text.count("\n", counted, pos)
        counted = pos
        lines.append(line)
        _, pos = decoder.raw_decode(text, pos)
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if not text.startswith(",", pos):
            return lines
        pos += 1


def _several_lines_of_json(text: str) -> bool:
    """True when the first line alone is a whole JSON value (a log of bodies, one per
    line, that happens to parse as one value is impossible, but a one-line file is one
    body either way)."""
    first, _, rest = text.partition("\n")
    if not rest.strip():
        return False
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def _is_mandrill_array(value: list[Any]) -> bool:
    return any(
        isinstance(b, dict) and ("msg" in b or ("type" in b and "action" in b)) for b in value
    )


# -- sniffing -----------------------------------------------------------------------------
def sniff_body(body: Body) -> str | None:
    """The provider whose webhook body this looks like, or None."""
    if isinstance(body, list):
        kinds = {sniff_body(b) for b in body if isinstance(b, dict)}
        kinds.discard(None)
        return kinds.pop() if len(kinds) == 1 else None
    if not isinstance(body, dict):
        return None
    keys = body.keys()
    if "event-data" in keys:
        return "mailgun"
    if "RecordType" in keys:
        return "postmark"
    if body.get("Type") in ("Notification", "SubscriptionConfirmation",
                            "UnsubscribeConfirmation") and ("TopicArn" in keys or "Message" in keys):
        return "ses"
    if ("notificationType" in keys or "eventType" in keys) and "mail" in keys:
        return "ses"
    if "msg" in keys and "event" in keys or ("type" in keys and "action" in keys
                                            and "reject" in keys or "entry" in keys):
        return "mandrill"
    if "event" in keys:
        if any(k.startswith("sg_") for k in keys) or "smtp-id" in keys:
            return "sendgrid"
        if "message-id" in keys or "ts_epoch" in keys or "ts_event" in keys \
                or "X-Mailin-custom" in keys:
            return "brevo"
        if "timestamp" in keys and "email" in keys:
            return "sendgrid"
    return None


def sniff_file(bodies: list[tuple[Body, Loc]]) -> tuple[str | None, dict[str, int]]:
    """The provider most bodies of a file look like (None: none recognised), and how
    many bodies look like each provider."""
    counts: dict[str, int] = {}
    for body, _ in bodies:
        p = sniff_body(body)
        if p is not None:
            counts[p] = counts.get(p, 0) + 1
    if not counts:
        return None, counts
    return max(counts, key=lambda p: (counts[p], -PROVIDERS.index(p))), counts


def sniff_path(path: str | os.PathLike[str]) -> str | None:
    """The provider a file looks like, judged from its first body (None: not
    recognised, not JSON or not readable; the importer then says what is wrong).  Only
    the head of the file is read, so a check before a large import costs nothing."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 20)
    except OSError:
        return None
    text = head.decode("utf-8-sig", "replace")
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    for candidate in (first, text.strip()):
        if candidate.startswith("mandrill_events="):
            candidate = (parse_qs(candidate).get("mandrill_events") or [""])[0]
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, list) and value and not _is_mandrill_array(value):
            value = value[0]
        return sniff_body(value)
    return None


def refuse_other(path: str, expected: str, found: str | None) -> None:
    """Raise UserError when a file given as *expected* looks like another provider's."""
    if found is None or found == expected:
        return
    hint = (f"import it with 'journeytui import events --provider {found}' (or --provider "
            "auto)")
    raise UserError(
        f"{printable(path, 200)}: this looks like {NAMES[found]} events, not "
        f"{NAMES[expected]}; {hint}. Nothing was imported."
    )

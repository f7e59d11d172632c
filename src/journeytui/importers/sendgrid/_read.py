"""Reading SendGrid event files: a JSON array (or several in a row), one event per line,
or one event object; each event with its location (see the package docstring)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

from journeytui.importers._common import STDIN, STDIN_NAME, read_text
from journeytui.importers._report import (
    printable,
)
from journeytui.importers.sendgrid._events import (
    _TOO_DEEP,
    PROVIDER_EVENT,
    Loc,
    _fail,
    _type_name,
)

_WS = re.compile(r"[ \t\n\r]*")


# -- reading files --------------------------------------------------------------------
def _untrusted(
    pairs: Iterator[tuple[dict[str, Any], Loc]],
) -> Iterator[tuple[dict[str, Any], Loc]]:
    """The events of a file as their sender wrote them: a key only the provider
    mappers may set (the provider's own event name shown by explain) is dropped, so a
    file cannot dress its events up as another provider's."""
    for ev, loc in pairs:
        if PROVIDER_EVENT in ev:
            del ev[PROVIDER_EVENT]
        yield ev, loc


def read_events(path: str | os.PathLike[str]) -> Iterator[tuple[dict[str, Any], Loc]]:
    """Each event object of one payload file with its location.

    Raises :class:`UserError` (naming file, line and what was expected) for a file that
    is structurally not an event payload; see the module docstring.
    """
    name = STDIN_NAME if str(path) == STDIN else str(path)
    text = read_text(path, "a SendGrid event file")
    start = _WS.match(text, 0)
    pos = start.end() if start else 0
    if pos >= len(text):
        return  # an empty file holds no events (import_sendgrid notes it)
    first = text[pos]
    if first == "[":
        yield from _untrusted(_read_array(text, pos, name))
    elif first == "{":
        yield from _untrusted(_read_lines(text, name))
    else:
        line = text.count("\n", 0, pos) + 1
        raise _fail(
            name,
            line,
            f"starts with '{printable(first)}'; expected a JSON array of SendGrid events "
            "('[') or one JSON event per line ('{')",
        )


def _read_array(text: str, pos: int, name: str) -> Iterator[tuple[dict[str, Any], Loc]]:
    """One JSON array of events — or several in a row (one webhook POST body per line)."""
    decoder = json.JSONDecoder()
    ws = _WS.match
    n = len(text)
    line, counted = 1, 0
    while pos < n:  # at a '['
        pos = ws(text, pos + 1).end()  # type: ignore[union-attr]
        if text.startswith("]", pos):
            pos += 1
        else:
            index = 0
            while True:
                line += text.count("\n", counted, pos)
                counted = pos
                try:
                    obj, end = decoder.raw_decode(text, pos)
                except json.JSONDecodeError as exc:
                    raise _fail(
                        name,
                        exc.lineno,
                        f"not valid JSON ({exc.msg}, column {exc.colno}, in array element "
                        f"index {index})",
                    ) from None
                except RecursionError:
                    raise _fail(name, line, _TOO_DEEP + f" (array element index {index})") from None
                if not isinstance(obj, dict):
                    raise _fail(
                        name,
                        line,
                        f"array element index {index} is {_type_name(obj)}, not an event object",
                    )
                yield obj, (name, line, index)
                pos = ws(text, end).end()  # type: ignore[union-attr]
                ch = text[pos : pos + 1]
                if ch == ",":
                    pos = ws(text, pos + 1).end()  # type: ignore[union-attr]
                    index += 1
                    continue
                if ch == "]":
                    pos += 1
                    break
                at = text.count("\n", 0, pos) + 1
                if not ch:
                    raise _fail(name, at, "not valid JSON (the array is not closed with ']')")
                raise _fail(name, at, f"not valid JSON (expected ',' or ']' after index {index})")
        pos = ws(text, pos).end()  # type: ignore[union-attr]
        if pos < n and text[pos] != "[":
            raise _fail(
                name,
                text.count("\n", 0, pos) + 1,
                "not valid JSON (text after the closing ']' that does not start another array)",
            )


def _read_lines(text: str, name: str) -> Iterator[tuple[dict[str, Any], Loc]]:
    # A single event object spread over several lines is one event, not NDJSON.
    try:
        whole = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        whole = None  # read line by line below, which names the line
    if isinstance(whole, dict):
        if "event" not in whole:
            raise _fail(
                name,
                1,
                "a JSON object that is not a SendGrid event (no 'event' field); expected "
                "a JSON array of events or one event per line",
            )
        yield whole, (name, 1, None)
        return
    decode = json.JSONDecoder().raw_decode  # json.loads without its per-call wrapping
    ws = _WS.match
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        try:
            obj, end = decode(line)
            if end != len(line):  # what json.loads says of a second value on the line
                end = ws(line, end).end()  # type: ignore[union-attr]
                raise json.JSONDecodeError("Extra data", line, end)
        except json.JSONDecodeError as exc:
            raise _fail(
                name,
                number,
                f"not valid JSON ({exc.msg}, column {exc.colno}); each line must hold one "
                "JSON event object",
            ) from None
        except RecursionError:
            raise _fail(name, number, _TOO_DEEP) from None
        if not isinstance(obj, dict):
            raise _fail(name, number, f"{_type_name(obj)}, not an event object")
        yield obj, (name, number, None)


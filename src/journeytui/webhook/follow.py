"""Follow a stream of SendGrid events (``tail -f webhooks.ndjson | …``): one transaction
per batch of lines.

A batch is the complete lines that arrived together (one ``read`` of the pipe), so a
live ``tail -f`` commits what it has as soon as it has it, and a long file read through
a pipe is committed in large batches.  Each batch goes through
:func:`journeytui.importers.sendgrid.import_sendgrid` like a file (dedup, Recorder,
journeys advanced).  A batch that holds a malformed line is not imported at all (the
message names the line, counted from the start of the stream) and following goes on;
:func:`follow` returns how many batches were refused.

``journeytui import sendgrid -`` calls :func:`follow` when its standard input is a pipe
or a terminal (cli/import_cmd.py).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from journeytui.errors import UserError
from journeytui.importers._report import ImportReport
from journeytui.store import Store
from journeytui.store.db import StoreError

READ_SIZE = 1 << 20


@dataclass
class Batch:
    first_line: int
    last_line: int
    report: ImportReport | None = None
    error: str | None = None


def _runs(lines: list[bytes]) -> list[list[bytes]]:
    """Consecutive lines of one shape (arrays ``[`` or event objects ``{``): the
    importer reads a file of one shape."""
    runs: list[list[bytes]] = []
    shape = None
    for line in lines:
        s = line.lstrip()[:1]
        if runs and s == shape:
            runs[-1].append(line)
        else:
            runs.append([line])
            shape = s
    return runs


def follow(store: Store, fd: int, on_batch: Callable[[Batch], None],
           default_email: str | None = None) -> int:
    """Import what arrives on file descriptor *fd* until end of file; returns the number
    of batches refused."""
    from journeytui.importers.sendgrid import import_sendgrid

    refused = 0
    pending = b""
    line_no = 0
    with tempfile.TemporaryDirectory(prefix="journeytui-follow-") as tmp:
        spool = Path(tmp) / "batch.json"

        def run(lines: list[bytes]) -> None:
            nonlocal refused, line_no
            start = line_no + 1
            line_no += len(lines)
            offset = start - 1
            for run_lines in _runs(lines):
                batch = Batch(offset + 1, offset + len(run_lines))
                if any(line.strip() for line in run_lines):
                    spool.write_bytes(b"\n".join(run_lines) + b"\n")
                    try:
                        batch.report = import_sendgrid(store, [spool], default_email)
                    except StoreError:
                        raise
                    except UserError as exc:
                        refused += 1
                        text = str(exc).replace(str(spool), "<stdin>")
                        def renumber(m: re.Match[str], shift: int = offset) -> str:
                            return f"line {int(m.group(1)) + shift}"

                        batch.error = re.sub(r"line (\d+)", renumber, text, count=1)
                    on_batch(batch)
                offset += len(run_lines)

        while True:
            data = os.read(fd, READ_SIZE)
            if not data:
                break
            pending += data
            cut = pending.rfind(b"\n")
            if cut < 0:
                continue
            complete, pending = pending[:cut], pending[cut + 1 :]
            run(complete.split(b"\n"))
        if pending.strip():
            run([pending])
    return refused

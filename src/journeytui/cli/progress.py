"""Progress on long work, said on standard error so standard output stays the answer.

Long work (a big demo store, a large import, a full evaluation) reports through one
plain callable that the lower layers accept without knowing the terminal::

    report(stage: str, done: int, total: int | None) -> None

``stage`` is what is being done, in words ("simulating the year", "recording
events"); ``done`` of ``total`` in the stage's own unit (``total`` None when not
known). A new ``stage`` ends the previous one. It may name journeys and files, so it is
shown as text: never read as Rich markup, control characters made visible. Call it as often as convenient: it
is cheap, and drawing is throttled here.

:func:`progress_for` picks how it is shown:

- on a terminal: a ``rich.progress`` bar per stage, with the elapsed time;
- output not a terminal (a log, a pipe, CI): plain lines — a stage's start, every
  tenth of the way (or every 100,000 when the total is unknown), and its end;
- ``--json`` (or ``quiet``): nothing at all.

Nothing shows before the work has run for a second (``JOURNEYTUI_PROGRESS_AFTER``
seconds): a quick import says only its answer, and an error that comes at once is
the only line on standard error.

Use it as a context manager so the bar is closed (and the last line said) even when
the work fails::

    with progress_for(args) as report:
        generate(path, progress=report)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

from journeytui.textsafe import safe_text

__all__ = ["Progress", "ProgressFn", "progress_for"]

ProgressFn = Callable[[str, int, "int | None"], None]

_UNKNOWN_STEP = 100_000  # a plain line every this many when the total is unknown
_AFTER_S = 1.0  # nothing shows before the work has run this long


class Progress:
    """The callable given to long work; see the module docstring."""

    def __init__(self, mode: str, stream: IO[str] | None = None, *, after: float = 0.0) -> None:
        if mode not in ("bar", "lines", "off"):
            raise ValueError(f"progress mode must be bar, lines or off, not {mode!r}")
        self.mode = mode
        self.stream = stream if stream is not None else sys.stderr
        self._show_at = time.monotonic() + after
        self._shown = after <= 0
        self._stage: str | None = None
        self._label = ""  # the stage as shown: text, control characters made visible
        self._total: int | None = None
        self._done = 0
        self._said = -1  # the last tenth (or step) said in plain lines
        self._started = 0.0
        self._bar: Any = None  # rich.progress.Progress, made on first use
        self._task: Any = None

    # -- the callable -------------------------------------------------------------------
    def __call__(self, stage: str, done: int, total: int | None = None) -> None:
        if self.mode == "off":
            return
        if stage != self._stage:
            self._end_stage()
            self._start_stage(stage, total)
        self._done, self._total = done, total
        if not self._shown:
            if time.monotonic() < self._show_at:
                return
            self._shown = True
            self._open_stage()
        if self.mode == "bar":
            self._bar.update(self._task, completed=done, total=total)
        else:
            self._line_if_due()

    # -- context manager ----------------------------------------------------------------
    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(failed=exc_type is not None)

    def close(self, *, failed: bool = False) -> None:
        """End the current stage (said as done unless *failed*) and remove the bar."""
        self._end_stage(failed=failed)
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    # -- stages ---------------------------------------------------------------------------
    def _start_stage(self, stage: str, total: int | None) -> None:
        self._stage, self._total, self._done, self._said = stage, total, 0, -1
        self._label = safe_text(stage)
        self._started = time.monotonic()
        if self._shown:
            self._open_stage()

    def _open_stage(self) -> None:
        label, total = self._label, self._total
        if self.mode == "bar":
            if self._bar is None:
                self._bar = _rich_bar(self.stream)
                self._bar.start()
            self._task = self._bar.add_task(label, total=total)
        else:
            self._say(f"{label} …")

    def _end_stage(self, *, failed: bool = False) -> None:
        if self._stage is None or not self._shown:
            self._stage = None
            return
        if self.mode == "bar":
            if not failed:
                self._bar.update(self._task, completed=self._total or self._done)
        elif not failed:
            took = time.monotonic() - self._started
            amount = f"{self._done:,}, " if self._total is None else f"{self._total:,}, "
            self._say(f"{self._label}: done ({'' if amount == '0, ' else amount}{took:.1f} s)")
        self._stage = None

    def _line_if_due(self) -> None:
        done, total = self._done, self._total
        if total:
            tenth = min(10, done * 10 // total)
            if tenth > self._said and 0 < tenth < 10:
                self._said = tenth
                self._say(f"{self._label}: {tenth * 10} % ({done:,} of {total:,})")
        elif total is None:
            step = done // _UNKNOWN_STEP
            if step > self._said and step > 0:
                self._said = step
                self._say(f"{self._label}: {done:,}")

    def _say(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _rich_bar(stream: IO[str]) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    # a stage names journeys and files (from data): its text is shown as text, never
    # read as Rich markup ("[bold]x", "a[1].json", a stray "[/]")
    return RichProgress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=stream, markup=False, highlight=False),
        transient=False,
    )


def progress_for(args: argparse.Namespace | None = None, *, quiet: bool = False,
                 stream: IO[str] | None = None) -> Progress:
    """The progress display for a command: off with ``--json`` or *quiet*, a bar when
    *stream* (default standard error) is a terminal, plain lines otherwise; shown once
    the work has run ``JOURNEYTUI_PROGRESS_AFTER`` seconds (default 1)."""
    out = stream if stream is not None else sys.stderr
    if quiet or (args is not None and getattr(args, "json", False)):
        return Progress("off", out)
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    try:
        after = float(os.environ.get("JOURNEYTUI_PROGRESS_AFTER", _AFTER_S))
    except ValueError:
        after = _AFTER_S
    return Progress("bar" if tty else "lines", out, after=after)

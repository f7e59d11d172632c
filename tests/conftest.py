"""Fixtures shared by the TUI tests (tests/tui and tests/tui_journeys).

* ``config_dir``: an empty temporary config directory, exported as
  ``JOURNEYTUI_CONFIG_DIR`` so nothing reads the user's keymap, themes or settings;
  ``NO_COLOR`` unset; the working directory is the test's temporary directory (CSV
  exports land there).
* ``app_factory``: ``make_app`` with that config, a fixed theme and no cursor blink.
* ``settle``: ``await settle(pilot)`` waits until every worker is done (failed and
  cancelled ones too), its messages are handled and the status line says "Ready".
* ``until``: ``await until(pilot, condition, what)`` waits until *condition()* holds,
  letting the app run between looks (``pilot.pause()``: until the app is idle, no fixed
  sleep); for conditions ``settle`` cannot wait for (a worker that is held).
* ``wait_until``: the same, settling between looks (workers done, then timers: a
  debounced preview, the store watcher).
  How long either takes never fails a test: only a condition that does not hold after
  two minutes does (the suite's timeout is four).

Textual's pilot, after each simulated key and at each ``pause()``, waits until the
process looks idle: it sleeps 20 ms at a time until one of those sleeps passes with
under 1 ms of CPU used.  Those sleeps were three quarters of the TUI tests' time.  Here
the pilot looks every 2 ms instead (idle: under 0.1 ms of CPU in 2 ms) and, since a
20 ms sleep also let a timer of the app due within it fire first (a retry 10 ms later),
it also waits while a timer of the event loop is due within 25 ms.  No
test relies on how long a wait lasts: workers and timers are waited for by ``settle``
and ``until`` (conditions, not times).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import textual.app
import textual.pilot
from textual.app import App
from textual.pilot import Pilot

from journeytui.tui.app import JourneyApp, make_app

IDLE_STEP = 0.002  # seconds between the pilot's looks for idle (Textual's: 20 ms)
IDLE_CPU = IDLE_STEP / 20  # CPU used in a step below which nothing ran (Textual's share)
TIMER_HORIZON = 0.025  # seconds: a timer due this soon is waited for


def _timer_due(loop: asyncio.AbstractEventLoop) -> bool:
    """A timer of the event loop is due within TIMER_HORIZON, other than the screen's
    repaint (``pause()`` repaints when it ends; a key needs no repaint to be handled)."""
    soon = loop.time() + TIMER_HORIZON
    return any(not h.cancelled() and h.when() < soon and _woken(h) != "screen_update"
               for h in getattr(loop, "_scheduled", ()))  # asyncio's own timer heap


def _woken(handle: asyncio.TimerHandle) -> str:
    """The name of the task a sleep's timer wakes ("" when it wakes no task)."""
    future = handle._args[0] if handle._args else None  # type: ignore[attr-defined]
    for callback, _ in getattr(future, "_callbacks", None) or ():
        task = getattr(callback, "__self__", None)
        if isinstance(task, asyncio.Task):
            return task.get_name()
    return ""


async def _wait_for_idle(min_sleep: float = IDLE_STEP, max_sleep: float = 1.0) -> None:
    """Textual's ``wait_for_idle`` (same arguments, same meaning) at a finer step."""
    loop = asyncio.get_running_loop()
    start = time.monotonic()
    while True:
        cpu = time.process_time()
        await asyncio.sleep(IDLE_STEP)
        elapsed = time.monotonic() - start
        if elapsed >= max_sleep:
            return
        if (elapsed > min_sleep and time.process_time() - cpu < IDLE_CPU
                and not _timer_due(loop)):
            return


for _module in (textual.app, textual.pilot):  # the two users of Textual's idle wait
    assert hasattr(_module, "wait_for_idle"), "Textual's idle wait moved: see above"
    _module.wait_for_idle = _wait_for_idle  # type: ignore[attr-defined]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "config"
    directory.mkdir()
    monkeypatch.setenv("JOURNEYTUI_CONFIG_DIR", str(directory))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.chdir(tmp_path)
    yield directory


@pytest.fixture
def app_factory(config_dir: Path) -> Callable[..., JourneyApp]:
    def build(db: Path, theme: str = "journey-dark") -> JourneyApp:
        return make_app(db, theme=theme, config_dir=config_dir, blink=False)

    return build


async def _workers_done(app: App[object]) -> None:
    """Every worker running now has ended, failed and cancelled ones too (a save that
    meets a conflict fails by design; an exclusive worker cancels the one before): what
    a failure shows is the app's to say and the test's to check."""
    await asyncio.gather(*(w.wait() for w in list(app.workers)), return_exceptions=True)


async def _settle(pilot: Pilot[object]) -> None:
    app = pilot.app
    for _ in range(400):
        await _workers_done(app)
        await pilot.pause()
        busy = any(w.is_running for w in app.workers)
        status = getattr(app, "status_text", lambda: "Ready")()
        if not busy and status == "Ready":
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                return
    raise AssertionError(f"app did not settle: {list(app.workers)}")


@pytest.fixture
def settle():  # type: ignore[no-untyped-def]
    return _settle


UNTIL_LIMIT = 120.0  # seconds: a hang guard only, far above any run under load


async def _until(pilot: Pilot[object], condition: Callable[[], object],
                 what: str = "the condition", *, settle: bool = False) -> None:
    deadline = time.monotonic() + UNTIL_LIMIT
    while True:
        if settle:
            await _settle(pilot)
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never held (workers: {list(pilot.app.workers)})")
        await pilot.pause()


@pytest.fixture
def until():  # type: ignore[no-untyped-def]
    return _until


async def _wait_until(pilot: Pilot[object], condition: Callable[[], object],
                      what: str = "the condition") -> None:
    await _until(pilot, condition, what, settle=True)


@pytest.fixture
def wait_until():  # type: ignore[no-untyped-def]
    return _wait_until

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
under 1 ms of CPU used.  Those sleeps were three quarters of the TUI tests' time.  The
same test of idleness is made at 2 ms (under 0.1 ms of CPU in 2 ms: the app did
nothing), a tenth of each wait.  No test relies on how long a wait lasts: workers and
timers are waited for by ``settle`` and ``until`` (conditions, not times).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import textual._wait as textual_wait
from textual.app import App
from textual.pilot import Pilot

from journeytui.tui.app import JourneyApp, make_app

IDLE_STEP = 0.002  # seconds: the pilot's idle check (Textual's own: 20 ms)
assert hasattr(textual_wait, "SLEEP_GRANULARITY") and hasattr(textual_wait, "SLEEP_IDLE"), (
    "Textual's idle wait changed: see this module's docstring")
textual_wait.SLEEP_GRANULARITY = IDLE_STEP
textual_wait.SLEEP_IDLE = IDLE_STEP / 20  # the same share of CPU as Textual's 1 ms in 20


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

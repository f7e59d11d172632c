"""Fixtures shared by the TUI tests (tests/tui and tests/tui_journeys).

* ``config_dir``: an empty temporary config directory, exported as
  ``JOURNEYTUI_CONFIG_DIR`` so nothing reads the user's keymap, themes or settings;
  ``NO_COLOR`` unset; the working directory is the test's temporary directory (CSV
  exports land there).
* ``committed_store``: a store committed gzipped under ``tests/tui*/fixtures``,
  unpacked and migrated once per session (the ``demo_db`` fixtures' masters).
* ``app_factory``: ``make_app`` with that config, a fixed theme and no cursor blink;
  the panes other than the first are mounted when first shown, not in the background
  after start-up (``preload_panes=True`` for a test of that: about a third of an app
  start's CPU, paid by every test that never visits them).
* ``settle``: ``await settle(pilot)`` waits until every worker is done (failed and
  cancelled ones too), its messages are handled and the status line says "Ready".
* ``until``: ``await until(pilot, condition, what)`` waits until *condition()* holds,
  letting the app run between looks (``pilot.pause()``: until the app is idle, no fixed
  sleep); for conditions ``settle`` cannot wait for (a worker that is held).
* ``wait_until``: the same, settling between looks (workers done, then timers: a
  debounced preview, the store watcher).
  How long any of the three takes never fails a test: only a condition that does not
  hold after two minutes does (the suite's timeout is four).

Textual's pilot, after each simulated key and at each ``pause()``, waits until the
process looks idle: it sleeps 20 ms at a time until one of those sleeps passes with
under 1 ms of CPU used.  Those sleeps were three quarters of the TUI tests' time.  Here
the pilot looks every 2 ms instead (idle: under 0.1 ms of CPU in 2 ms) and, since a
20 ms sleep also let a timer of the app due within it fire first (a retry 10 ms later),
it also waits while a timer of the event loop is due within 25 ms.  Before each step it
looks whether anything of the app can run at all (a ready callback, a timer due within
25 ms, a thread worker at work): when nothing can, the app is idle without a step.  No
test relies on how long a wait lasts: workers and timers are waited for by ``settle``
and ``until`` (conditions, not times).

After each key and at each ``pause()`` the pilot also waits until every widget of the
screen has handled what was sent to it: Textual's asks each widget with a callback;
here only the widgets that may still have work are asked (``_wait_for_screen``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import gzip
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import textual._queue
import textual.app
import textual.pilot
from textual.app import App
from textual.css.model import RuleSet
from textual.css.stylesheet import CSSLocation, Stylesheet
from textual.message_pump import MessagePump
from textual.pilot import Pilot, WaitForScreenTimeout

from journeytui.store import Store
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


def _nothing_to_run(loop: asyncio.AbstractEventLoop) -> bool:
    """Nothing of the app can run now or soon: no callback of the event loop is ready,
    no timer but the repaint is due within TIMER_HORIZON, and every thread of the
    default executor (where Textual runs thread workers) waits for work, none queued."""
    if loop._ready or _timer_due(loop):  # type: ignore[attr-defined]
        return False
    executor = loop._default_executor  # type: ignore[attr-defined]
    return executor is None or (
        executor._work_queue.empty()
        and executor._idle_semaphore._value >= len(executor._threads)
    )


async def _wait_for_idle(min_sleep: float = IDLE_STEP, max_sleep: float = 1.0) -> None:
    """Textual's ``wait_for_idle`` (same arguments, same meaning) at a finer step, and
    without a step at all when nothing of the app can run (``_nothing_to_run``)."""
    loop = asyncio.get_running_loop()
    start = time.monotonic()
    while True:
        await asyncio.sleep(0)  # what is ready runs first (and ready I/O is polled)
        if time.monotonic() - start >= min_sleep and _nothing_to_run(loop):
            return
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


def _waiting_for_messages(node: MessagePump) -> bool:
    """*node* has handled everything sent to it: its task is parked in the queue's
    ``get()`` (it awaits the queue's event) with nothing queued, no message held back
    and no ``call_next`` callback left.  A node that is handling a message (even one
    that awaits something), starting, or in its idle handler is not."""
    queue: textual._queue.Queue[object] = node._message_queue
    return (not queue.values and node._pending_message is None
            and not node._next_callbacks and bool(queue.ready_event._waiters))


async def _wait_for_screen(self: Pilot[object], timeout: float = 30.0) -> bool:
    """Textual's ``Pilot._wait_for_screen`` (same arguments, same answers), asking only
    the nodes that may still have work.

    Textual's queues a callback on the app and on *every* widget of the screen, then
    waits until each has run: about 45 µs of CPU per widget, ~2.5 ms a call on the
    main screen, and the pilot calls it after every key and at every ``pause()``.  A
    widget already parked on its empty queue would run that callback at once and
    nothing else (all it queued before is handled), so it is skipped; the app, the
    screen and every widget that is busy, starting or has messages queued still get
    the callback, which runs after everything queued before it, as in Textual's."""
    try:
        screen = self.app.screen
    except Exception:
        return False
    app = self.app
    nodes = [app, screen, *(node for node in screen.walk_children()
                            if not _waiting_for_messages(node))]
    count = 0
    all_done = asyncio.Event()

    def done() -> None:
        nonlocal count
        count -= 1
        if count == 0:
            all_done.set()

    for node in nodes:
        if node.call_later(done):
            count += 1
    if not count:
        return True
    waits = [asyncio.create_task(all_done.wait()),
             asyncio.create_task(app._exception_event.wait())]
    _, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if len(pending) == len(waits):
        raise WaitForScreenTimeout(
            "Timed out while waiting for widgets to process pending messages."
        )
    return count == 0


# What the replacement reads of Textual (pinned exactly): fail loudly if it moved.
assert textual.pilot.Pilot._wait_for_screen.__code__.co_varnames[:2] == ("self", "timeout")
assert {"values", "ready_event"} <= set(vars(textual._queue.Queue()))
assert hasattr(asyncio.Event(), "_waiters")
assert {"_work_queue", "_idle_semaphore", "_threads"} <= set(
    vars(concurrent.futures.ThreadPoolExecutor(1))
)
textual.pilot.Pilot._wait_for_screen = _wait_for_screen  # type: ignore[method-assign,assignment]


_PARSED_CSS: dict[tuple[object, ...], list[RuleSet]] = {}
_parse_css = Stylesheet._parse_rules


def _parse_rules_once(self: Stylesheet, css: str, read_from: CSSLocation,
                      is_default_rules: bool = False, tie_breaker: int = 0,
                      scope: str = "") -> list[RuleSet]:
    """Textual's ``Stylesheet._parse_rules`` (same arguments, same rules), its cache
    shared by the apps of the session.  Each app parses its CSS anew (every widget
    class's and the theme's variables), about 10 ms of CPU an app start for rules
    that depend only on the text, where it was read and the variables."""
    key = (css, read_from, is_default_rules, tie_breaker, scope,
           tuple(self._variables.items()))
    rules = _PARSED_CSS.get(key)
    if rules is None:
        rules = _parse_css(self, css, read_from, is_default_rules, tie_breaker, scope)
        _PARSED_CSS[key] = rules
    return rules


assert _parse_css.__code__.co_varnames[:6] == (
    "self", "css", "read_from", "is_default_rules", "tie_breaker", "scope")
assert isinstance(Stylesheet()._variables, dict)
Stylesheet._parse_rules = _parse_rules_once  # type: ignore[method-assign]


def _committed_store(path: Path, fixture: Path, make: Callable[[Path], object]) -> Path:
    """The store committed gzipped at *fixture*, unpacked at *path* and migrated to the
    current schema (once here, not by the app in every test's copy: a transaction and
    its sync each time).  With ``JOURNEYTUI_REGEN_TUI_FIXTURE`` set, *make* builds it
    at *path* anew and *fixture* is rewritten (then look at the snapshots it redraws)."""
    if os.environ.get("JOURNEYTUI_REGEN_TUI_FIXTURE"):
        make(path)
        with path.open("rb") as src, gzip.GzipFile(fixture, "wb", mtime=0) as dst:
            shutil.copyfileobj(src, dst)
    else:
        with gzip.open(fixture, "rb") as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        Store.open(path).close()
    return path


@pytest.fixture(scope="session")
def committed_store():  # type: ignore[no-untyped-def]
    return _committed_store


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
    def build(db: Path, theme: str = "journey-dark", *, preload_panes: bool = False) -> JourneyApp:
        app = make_app(db, theme=theme, config_dir=config_dir, blink=False)
        app.preload_panes = preload_panes
        return app

    return build


UNTIL_LIMIT = 120.0  # seconds: a hang guard only, far above any run under load


async def _workers_done(app: App[object]) -> None:
    """Every worker running now has ended, failed and cancelled ones too (a save that
    meets a conflict fails by design; an exclusive worker cancels the one before): what
    a failure shows is the app's to say and the test's to check."""
    await asyncio.gather(*(w.wait() for w in list(app.workers)), return_exceptions=True)


async def _settle(pilot: Pilot[object]) -> None:
    app = pilot.app
    deadline = time.monotonic() + UNTIL_LIMIT
    while True:
        await _workers_done(app)
        await pilot.pause()
        busy = any(w.is_running for w in app.workers)
        status = getattr(app, "status_text", lambda: "Ready")()
        if not busy and status == "Ready":
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"app did not settle: status {status!r}, workers {list(app.workers)}"
            )


@pytest.fixture
def settle():  # type: ignore[no-untyped-def]
    return _settle


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


GC_YOUNG = 5000  # allocations between two collections of the youngest generation


def pytest_configure(config: pytest.Config) -> None:
    """The collector's youngest generation is collected every 5,000 allocations
    instead of Python's 700 (the older two thresholds as they are).  A test process
    holds far more than an app does (the session, and each finished test's app until
    a full pass frees it: about 20,000 objects each), and every young collection
    handed its survivors on: in tests/tui, about 4,000 young and 330 middle passes
    and a few full ones, 1.7 s of CPU, became 440, 6 and none, 0.5 s.  Garbage in
    cycles waits a little longer for its pass; what tests check of the collector (a
    replay makes no cycles, start-up is frozen) they check with their own gc calls."""
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


def pytest_unconfigure(config: pytest.Config) -> None:
    """At the end of a session (each xdist worker's too), one full collection, then
    what is left frozen: pytest then collects five more times to find exceptions
    raised in finalizers (the first collection finds them as well, and they are
    reported as before), each a walk of every object the session left — about 0.4 s
    each on a worker that ran the TUI tests, on the suite's wall time."""
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests marked ``long`` (each several seconds, most of it on one core) run
    first, the rest in their order: over parallel workers, a long test handed out
    near the end would keep one worker busy while the others have nothing left."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)

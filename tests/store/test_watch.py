"""The store watcher notices what another connection commits after it started."""

from __future__ import annotations

from journeytui.store import Recorder, Store
from journeytui.store.watch import StoreWatcher

from .conftest import T0


def _open_again(small: Store) -> None:
    """One more open by anna (consent), committed by another connection."""
    other = Store.open(small.path)
    try:
        with other.transaction():
            r = Recorder(other)
            e = r.ensure_email("Teaser", subject="Spring", send_at=T0)
            anna = r.contact("Anna.Smith@example.com")
            r.open(e, anna, T0 + 2000)
    finally:
        other.close()


def test_a_change_before_the_first_look_is_noticed(small: Store) -> None:
    # The app starts its watcher before its panes read the store, and looks a second
    # later: what was committed in between is a change (one new event: an open).
    watcher = StoreWatcher(small.path)
    watcher.start()
    _open_again(small)
    try:
        assert watcher.poll() == 1
        assert watcher.poll() is None  # and only once
    finally:
        watcher.close()


def test_a_watcher_not_started_takes_its_first_look_as_the_baseline(small: Store) -> None:
    # Why start() exists: without it, the change above would be missed.
    watcher = StoreWatcher(small.path)
    _open_again(small)
    try:
        assert watcher.poll() is None
    finally:
        watcher.close()

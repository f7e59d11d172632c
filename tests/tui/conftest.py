"""Fixtures for the TUI tests: fixed stores, no user config, a way to wait for workers.

* ``demo_db``: a small demo store (200 contacts, seed 7, fixed clock), a private copy
  per test.  It is the committed ``fixtures/demo-200-seed7.db.gz``, made by
  ``journeytui.demo.generate``: committed rather than generated so that a change to
  the demo generator does not redraw every snapshot.  To refresh it on purpose (then
  look at the new snapshots): ``JOURNEYTUI_REGEN_TUI_FIXTURE=1 pytest tests/tui
  --snapshot-update``.
* ``nasty_db``: a tiny store whose email, subject, URL and contact name hold markup
  and escape sequences (``[bold]``, ``[/]``, ESC) for the text-safety tests.
* ``config_dir``, ``app_factory``, ``settle``: in ``tests/conftest.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from journeytui.demo import generate
from journeytui.store import Recorder, Store

T0 = 1_767_261_600  # 2026-01-01 10:00 UTC

NASTY_NAME = "[bold]Boom[/] \x1b[31mred\x1b[0m"
NASTY_SUBJECT = "Hi [/] there [link=https://evil.example]x[/link]"
NASTY_URL = "https://evil.example/[red]?q=\x1b]0;pwned\x07"
NASTY_FIRST = "[b]Mallory[/b]"
NASTY_LAST = "\x1b[2JWipe"


FIXTURE = Path(__file__).parent / "fixtures" / "demo-200-seed7.db.gz"


@pytest.fixture(scope="session")
def demo_db_master(tmp_path_factory: pytest.TempPathFactory, committed_store) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("demo") / "journeys.db"
    return committed_store(path, FIXTURE, lambda p: generate(p, contacts=200, seed=7))  # type: ignore[no-any-return]


@pytest.fixture
def demo_db(demo_db_master: Path, tmp_path: Path) -> Path:
    """A private copy per test (the app may switch the file to WAL mode)."""
    path = tmp_path / "journeys.db"
    shutil.copyfile(demo_db_master, path)
    return path


@pytest.fixture
def nasty_db(tmp_path: Path) -> Path:
    path = tmp_path / "nasty.db"
    store = Store.create(path, token_key=b"k" * 16)
    with store.transaction():
        rec = Recorder(store)
        list_id = rec.ensure_list("News [i]letter[/i]")
        email_id = rec.ensure_email(
            NASTY_NAME, subject=NASTY_SUBJECT, list_id=list_id, status="sent", send_at=T0
        )
        mallory = rec.contact(
            "mallory@example.com", first_name=NASTY_FIRST, last_name=NASTY_LAST,
            consent=True, at=T0 - 100,
        )
        assert mallory is not None
        rec.subscribe(mallory, list_id, "subscribed", T0 - 100)
        rec.send(email_id, mallory, T0)
        rec.open(email_id, mallory, T0 + 60)
        rec.click(email_id, mallory, NASTY_URL, T0 + 120)
    store.close()
    return path

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.store import Recorder, Store
from tests.blank_store import blank_store

T0 = 1_767_600_000  # 2026-01-05 08:00 UTC


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = blank_store(tmp_path / "t.db", token_key=b"k" * 16)
    yield s
    s.close()


@pytest.fixture
def small(store: Store) -> Store:
    """One list, one sent email with two links, a draft; three contacts.

    anna (consent) — delivered, opens twice, clicks pricing twice and product once
    bob (no consent) — delivered, opens once, clicks pricing once, machine-opens once
    cara (consent) — hard bounce
    """
    with store.transaction():
        r = Recorder(store)
        news = r.ensure_list("News")
        e = r.ensure_email("Teaser", subject="Spring", list_id=news, send_at=T0)
        r.ensure_email("Draft: later", status="draft", list_id=news)
        anna = r.contact("Anna.Smith@example.com", first_name="Anna", last_name="Smith",
                         consent=True, at=T0 - 100)
        bob = r.contact("bob.jones@example.org", first_name="Bob", last_name="Jones", at=T0 - 100)
        cara = r.contact("cara@example.net", first_name="Cara", last_name="Nunez",
                         consent=True, at=T0 - 100)
        for c in (anna, bob, cara):
            r.subscribe(c, news, "subscribed", T0 - 50)
            r.send(e, c, T0)
        r.bounce(e, cara, T0 + 5, hard=True)
        r.open(e, anna, T0 + 600)
        r.open(e, anna, T0 + 900)
        r.open(e, bob, T0 + 30, machine=True)
        r.open(e, bob, T0 + 700)
        r.click(e, anna, "https://www.example.com/pricing", T0 + 620)
        r.click(e, anna, "https://www.example.com/pricing", T0 + 920)
        r.click(e, anna, "https://www.example.com/products/tracker", T0 + 1000)
        r.click(e, bob, "https://www.example.com/pricing", T0 + 720)
    return store

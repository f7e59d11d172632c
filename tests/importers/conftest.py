"""Fixtures for the importer tests: a fresh store, event builders, table snapshots."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from journeytui.store import Store
from tests.blank_store import blank_store

T0 = 1_767_600_000  # 2026-01-05 08:00 UTC
DATA = Path(__file__).parent / "data"


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=6).hexdigest()


class Kit:
    """Builds SendGrid events and files, and reads back what the store holds."""

    T0 = T0
    DATA = DATA

    def __init__(self, tmp_path: Path, store: Store) -> None:
        self.tmp = tmp_path
        self.store = store
        self._ids = itertools.count(1)

    # -- events and files ---------------------------------------------------------------
    def ev(
        self,
        event: str,
        email: str = "ann@example.com",
        at: int = T0,
        *,
        campaign: str | None = "Spring sale",
        **fields: Any,
    ) -> dict[str, Any]:
        n = next(self._ids)
        out: dict[str, Any] = {
            "email": email,
            "timestamp": at,
            "smtp-id": f"<msg{n}@ismtpd-1>",
            "event": event,
            "sg_event_id": f"evt-{n:06d}",
            # one message per email and recipient, as SendGrid sends a campaign
            "sg_message_id": f"m{_digest(campaign, email)}.filter0001.1.0",
        }
        if campaign is not None:
            out["marketing_campaign_name"] = campaign
        out.update(fields)
        return out

    def ndjson(self, events: list[dict[str, Any]], name: str = "events.ndjson") -> Path:
        p = self.tmp / name
        p.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
        return p

    def array(
        self, events: list[dict[str, Any]], name: str = "events.json", indent: int | None = 2
    ) -> Path:
        p = self.tmp / name
        p.write_text(json.dumps(events, indent=indent), encoding="utf-8")
        return p

    def text(self, content: str, name: str) -> Path:
        p = self.tmp / name
        p.write_text(content, encoding="utf-8")
        return p

    # -- reading back -------------------------------------------------------------------
    def stats(self, email: str = "Spring sale") -> dict[str, int]:
        c = self.store.conn
        row = c.execute(
            "SELECT s.* FROM email_stats s JOIN emails e ON e.id = s.email_id WHERE e.name = ?",
            (email,),
        ).fetchone()
        assert row is not None, f"no statistics for {email!r}"
        cols = [d[0] for d in c.execute("SELECT * FROM email_stats LIMIT 0").description]
        out = dict(zip(cols, row, strict=True))
        out.pop("email_id")
        return out

    def links(self, email: str = "Spring sale") -> dict[str, tuple[int, int, int]]:
        """url -> (clicked, clicks_total, bot_clicks)."""
        rows = self.store.conn.execute(
            "SELECT l.url, s.clicked, s.clicks_total, s.bot_clicks FROM links l"
            " JOIN link_stats s ON s.link_id = l.id JOIN emails e ON e.id = l.email_id"
            " WHERE e.name = ?",
            (email,),
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def one(self, sql: str, *params: Any) -> Any:
        row = self.store.conn.execute(sql, params).fetchone()
        return None if row is None else (row[0] if len(row) == 1 else tuple(row))

    def all(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.store.conn.execute(sql, params)]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        return dump(self.store)


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sorted), to compare a store before and after."""
    c = store.conn
    tables = [
        r[0]
        for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    return {t: sorted(map(tuple, c.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = blank_store(tmp_path / "t.db", token_key=b"k" * 16)
    yield s
    s.close()


@pytest.fixture
def kit(tmp_path: Path, store: Store) -> Kit:
    return Kit(tmp_path, store)



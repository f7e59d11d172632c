from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from jbuilder import Builder, new_store

from journeytui.domain.engine import Replay, replay
from journeytui.domain.journey_model import Journey, parse_journey
from journeytui.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = new_store(tmp_path)
    yield s
    s.close()


@pytest.fixture
def b(store: Store) -> Builder:
    return Builder(store).catalog()


def two_stage(when: dict[str, Any], *, entry: dict[str, Any] | None = None) -> Journey:
    """A → B when *when* (entry: any open or click unless given)."""
    raw: dict[str, Any] = {
        "name": "T",
        "stages": [{"name": "A"}, {"name": "B"}],
        "transitions": [{"from": "A", "to": "B", "when": when}],
    }
    if entry is not None:
        raw["entry"] = entry
    return parse_journey(raw)


def run(store: Store, j: Journey | dict[str, Any], now: int | None = None) -> Replay:
    if isinstance(j, dict):
        j = parse_journey(j)
    return replay(store.conn, j, now=now, keep_states=False)


def stage(r: Replay, contact_id: int) -> str | None:
    pos = r.positions.get(contact_id)
    if pos is None or pos[0] < 0:
        return None
    return r.compiled.stage_names[pos[0]]


def moves_of(r: Replay, contact_id: int) -> list[tuple[str | None, str, int, bool]]:
    """(from, to, at, provisional) of one contact's moves."""
    names = r.compiled.stage_names
    return [
        (names[m[1]] if m[1] >= 0 else None, names[m[2]], m[4], bool(m[8]))
        for m in r.moves if m[0] == contact_id
    ]

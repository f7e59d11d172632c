"""A small journey and the store's names, as plain data (no store, no app)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from journeytui.editor import CachedNames, EditorState

PRICING = {"clicked": {"url": "pricing"}}
WEBINAR = {"any": [{"clicked": {"url": "webinar/signup"}}, {"opened": {}}]}

JOURNEY: dict[str, Any] = {
    "name": "Lead nurturing",
    "goal": "Books a demo",
    "stages": [{"name": "Browsing"}, {"name": "Interested"}, {"name": "Engaged"},
               {"name": "At-risk", "exit": True}],
    "entry": {"any": [{"opened": {}}, {"clicked": {}}]},
    "transitions": [
        {"from": "Browsing", "to": "Interested", "priority": 10, "when": PRICING},
        {"from": "Interested", "to": "Engaged", "priority": 10, "when": WEBINAR},
        {"from": None, "to": "At-risk", "priority": 1, "when": {"unsubscribed": {}}},
    ],
}


@dataclass
class Choices:
    emails: list[str] = field(default_factory=lambda: ["Pricing update",
                                                       "Spring product teaser"])
    lists: list[str] = field(default_factory=lambda: ["Newsletter"])
    forms: list[str] = field(default_factory=lambda: ["Webinar registration"])
    links: dict[str, list[str]] = field(default_factory=lambda: {
        "Spring product teaser": ["https://example.com/products/a",
                                  "https://example.com/pricing"],
        "Pricing update": ["https://example.com/pricing",
                           "https://example.com/webinar/signup"]})

    def all_links(self) -> list[str]:
        return sorted({u for urls in self.links.values() for u in urls})


@pytest.fixture
def names() -> CachedNames:
    return CachedNames(Choices())


@pytest.fixture
def journey() -> dict[str, Any]:
    return copy.deepcopy(JOURNEY)


@pytest.fixture
def state(journey: dict[str, Any], names: CachedNames) -> EditorState:
    """Lead nurturing, version 1, opened on its first transition."""
    s = EditorState(names)
    s.open("Lead nurturing", journey, 1, None)
    s.check()
    return s

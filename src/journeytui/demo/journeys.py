"""The demo journeys: Lead nurturing and Webinar, written against the demo catalog.

The email, form and URL names they mention are those of ``journeytui.demo.catalog``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from typing import Any

from journeytui.domain.conditions import parse_condition
from journeytui.domain.engine import compact_changes, default_now
from journeytui.domain.journey_model import Journey, Segment, Stage, Transition
from journeytui.domain.journeys import save_journey
from journeytui.store import Store

__all__ = ["demo_journeys", "install_demo_journeys"]


def _t(src: str | None, to: str, when: dict[str, Any], priority: int = 10) -> Transition:
    return Transition.model_validate({"from": src, "to": to, "when": when, "priority": priority})


def demo_journeys() -> list[Journey]:
    """The journeys the demo store ships with (names from the demo catalog)."""
    lead = Journey(
        name="Lead nurturing",
        goal="Turn newsletter readers into sales conversations",
        stages=[
            Stage(name="Browsing", description="Opened or clicked an email"),
            Stage(name="Interested", description="Clicked a product or pricing link"),
            Stage(name="Engaged", description="Keeps clicking, or asked for a whitepaper "
                  "or a webinar seat"),
            Stage(name="Sales-ready", description="Looked at pricing and asked for contact, "
                  "or visited the demo page"),
            Stage(name="At-risk", exit=True,
                  description="Unsubscribed from all, or no click in the last 3 campaigns"),
            Stage(name="Dormant", exit=True,
                  description="At risk, and no open or click for 90 days"),
        ],
        transitions=[
            _t(None, "At-risk", {"any": [
                {"unsubscribed": {}},
                {"no_click_in_last": {"campaigns": 3}},
            ]}, priority=1),
            _t("At-risk", "Dormant", {"all": [
                {"not": {"opened": {"within_days": 90}}},
                {"not": {"clicked": {"within_days": 90}}},
            ]}, priority=5),
            _t("At-risk", "Browsing", {"all": [
                {"clicked": {"within_days": 14}},
                {"not": {"unsubscribed": {}}},
            ]}, priority=5),
            _t("Browsing", "Interested", {"any": [
                {"clicked": {"url": "example.com/products/"}},
                {"clicked": {"url": "example.com/pricing"}},
            ]}),
            _t("Interested", "Engaged", {"any": [
                {"clicks_at_least": {"count": 3, "within_days": 30}},
                {"submitted_form": {"form": "Whitepaper download"}},
                {"submitted_form": {"form": "Webinar registration"}},
            ]}),
            _t("Engaged", "Sales-ready", {"any": [
                {"submitted_form": {"form": "Contact sales"}},
                {"visited": {"url": "example.com/demo"}},
                {"all": [
                    {"visited": {"url": "example.com/pricing"}},
                    {"clicked": {"email": "Pricing update", "url": "contact-sales"}},
                ]},
            ]}),
        ],
        segments=[
            Segment(name="Recently at risk", stage="At-risk", entered_within_days=30,
                    description="Entered At-risk in the last 30 days: a win-back email"),
            Segment(name="Pricing, still interested", stage="Interested", in_stage_days=7,
                    clicked="example.com/pricing",
                    description="Clicked pricing but still Interested after 7 days: "
                    "a sales follow-up"),
        ],
    )
    webinar = Journey(
        name="Webinar",
        goal="From invitation to a sales-ready attendee",
        stages=[
            Stage(name="Invited", description="Opened or clicked the webinar invitation"),
            Stage(name="Registered", description="Submitted the webinar registration"),
            Stage(name="Engaged", description="Came back to the product after registering"),
            Stage(name="Customer-ready", description="Pricing or contact sales"),
            Stage(name="Lost", exit=True, description="Unsubscribed from webinars or all"),
        ],
        entry=_entry_webinar(),
        transitions=[
            _t(None, "Lost", {"any": [
                {"unsubscribed": {"list": "Webinars"}},
                {"reported_spam": {}},
            ]}, priority=1),
            _t("Invited", "Registered", {"any": [
                {"submitted_form": {"form": "Webinar registration"}},
                {"clicked": {"email": "Webinar invitation: Journeys 101",
                             "url": "webinar/signup"}},
            ]}),
            _t("Registered", "Engaged", {"any": [
                {"visited": {"url": "example.com/products/tracker", "since_stage": True}},
                {"clicked": {"url": "example.com/products/", "since_stage": True}},
            ]}),
            _t("Engaged", "Customer-ready", {"any": [
                {"submitted_form": {"form": "Contact sales"}},
                {"visited": {"url": "example.com/pricing", "since_stage": True}},
                {"clicked": {"url": "example.com/pricing", "since_stage": True}},
            ]}),
        ],
        segments=[
            Segment(name="Registered, not back", stage="Registered", in_stage_days=7,
                    description="Registered for the webinar, no product visit or click "
                    "a week later: send the recording"),
        ],
    )
    return [lead, webinar]


def _entry_webinar() -> Any:
    return parse_condition({"any": [
        {"opened": {"email": "Webinar invitation: Journeys 101"}},
        {"clicked": {"email": "Webinar invitation: Journeys 101"}},
    ]})


def install_demo_journeys(
    store: Store,
    *,
    now: int | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    only: Collection[str] | None = None,
) -> list[str]:
    """Save and evaluate the demo journeys (the demo generator calls this last);
    *progress* hears each journey's evaluation, contact by contact.  *only*: the
    names of those to install (default: all of them)."""
    journeys = demo_journeys()
    if only is not None:
        unknown = set(only) - {j.name for j in journeys}
        if unknown:
            raise ValueError(f"no demo journey named {', '.join(sorted(unknown))}")
        journeys = [j for j in journeys if j.name in only]
    names = []
    at = default_now(store.conn)
    for j in journeys:
        said: Callable[[int, int], None] | None = None
        if progress is not None:
            said = partial(progress, f"evaluating the journey '{j.name}' (contacts)")
        save_journey(store, j, now=now, at=at, source=f"demo journey '{j.name}'",
                     progress=said)
        names.append(j.name)
    compact_changes(store)
    return names

"""Condition JSON round trips and the one-line rendering of every leaf and group."""

from __future__ import annotations

import pytest

from journeytui.domain.conditions import dump, normalize_url, parse_condition, render, url_matches

CASES = [
    ({"clicked": {}}, "clicked a link in any email"),
    ({"clicked": {"email": "Spring product teaser", "url": "pricing"}},
     "clicked a link containing 'pricing' in 'Spring product teaser'"),
    ({"clicked": {"url": "https://x.example/a", "match": "exact", "within_days": 7}},
     "clicked the link 'https://x.example/a' in any email in the last 7 days"),
    ({"opened": {"email": "N", "since_stage": True}}, "opened 'N' since entering the stage"),
    ({"opened": {"within_days": 1}}, "opened any email in the last day"),
    ({"unsubscribed": {}}, "unsubscribed from all lists"),
    ({"unsubscribed": {"list": "Webinars"}}, "unsubscribed from 'Webinars'"),
    ({"reported_spam": {}}, "reported any email as spam"),
    ({"reported_spam": {"email": "N"}}, "reported 'N' as spam"),
    ({"confirmed": {}}, "confirmed a subscription"),
    ({"confirmed": {"list": "Newsletter"}}, "confirmed the subscription to 'Newsletter'"),
    ({"submitted_form": {"form": "Contact sales"}}, "submitted the form 'Contact sales'"),
    ({"submitted_form": {}}, "submitted any form"),
    ({"visited": {"url": "/demo"}}, "visited a page containing '/demo'"),
    ({"visited": {"url": "example.com/demo", "match": "exact"}},
     "visited the page 'example.com/demo'"),
    ({"no_click_in_last": {"campaigns": 3}}, "no click in the last 3 campaigns received"),
    ({"no_click_in_last": {"campaigns": 1}}, "no click in the last campaign received"),
    ({"clicks_at_least": {"count": 3, "within_days": 30}}, "at least 3 clicks in the last 30 days"),
    ({"clicks_at_least": {"count": 1, "within_days": 2}}, "at least 1 click in the last 2 days"),
    ({"all": [{"opened": {}}, {"any": [{"visited": {"url": "a"}}, {"submitted_form": {}}]}]},
     "opened any email and (visited a page containing 'a' or submitted any form)"),
    ({"not": {"opened": {}}}, "not (opened any email)"),
    ({"not": {"any": [{"opened": {}}, {"clicked": {}}]}},
     "not (opened any email or clicked a link in any email)"),
    ({"any": [{"opened": {}}]}, "opened any email"),
]


@pytest.mark.parametrize(("raw", "text"), CASES)
def test_render_and_round_trip(raw: dict, text: str) -> None:
    node = parse_condition(raw)
    assert render(node) == text
    assert dump(node) == raw  # defaults are left out, so the JSON stays as written
    assert parse_condition(dump(node)) == node


def test_render_makes_names_safe_for_a_terminal() -> None:
    text = render(parse_condition({"opened": {"email": "x\x1b[2J\x07 [b]y[/]"}}))
    assert "\x1b" not in text and "\x07" not in text and "[b]y[/]" in text


@pytest.mark.parametrize(
    ("pattern", "url", "match", "expected"),
    [
        ("WWW.example.com/Pricing/", "https://www.example.com/pricing", "contains", True),
        ("example.com/pricing", "http://www.example.com/pricing/", "exact", False),
        ("www.example.com/pricing", "http://www.example.com/pricing/", "exact", True),
        ("pricing", "https://www.example.com/products/tracker", "contains", False),
    ],
)
def test_url_matching(pattern: str, url: str, match: str, expected: bool) -> None:
    assert url_matches(pattern, url, match) is expected
    assert normalize_url("HTTPS://A.example/B/") == "a.example/b"

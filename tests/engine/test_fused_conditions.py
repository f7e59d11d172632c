"""A condition whose leaves watch the same kind of event (two forms, two links, two
pages) keeps each leaf to its own value: the engine runs each event kind's updates as
one function, and a condition as one expression, made from their source."""

from __future__ import annotations

from conftest import run, stage, two_stage
from jbuilder import T0, Builder

from journeytui.store import Store

N1 = "Newsletter — January 2026"
URL_PRICING = "https://www.example.com/pricing"
URL_TRACKER = "https://www.example.com/products/tracker"


def _three(b: Builder) -> tuple[int, int, int]:
    """ann, bob and cara, each entered (an open) before anything else."""
    ids = tuple(b.contact(n).id for n in ("ann", "bob", "cara"))
    for who in ("ann", "bob", "cara"):
        b("send", who, T0, N1)
        b("open", who, T0 + 60, N1)
    return ids  # type: ignore[return-value]


def test_two_forms_in_one_condition(store: Store, b: Builder) -> None:
    ann, bob, cara = _three(b)
    b("form", "ann", T0 + 600, "Contact sales")
    b("form", "bob", T0 + 600, "Contact sales")
    b("form", "bob", T0 + 700, "Whitepaper download")
    b("form", "cara", T0 + 700, "Whitepaper download")
    r = run(store, two_stage({"all": [{"submitted_form": {"form": "Contact sales"}},
                                      {"submitted_form": {"form": "Whitepaper download"}}]}))
    # only bob submitted both forms
    assert (stage(r, ann), stage(r, bob), stage(r, cara)) == ("A", "B", "A")


def test_two_links_in_one_condition(store: Store, b: Builder) -> None:
    ann, bob, cara = _three(b)
    b("click", "ann", T0 + 600, N1, URL_PRICING)
    b("click", "bob", T0 + 600, N1, URL_PRICING)
    b("click", "bob", T0 + 700, N1, URL_TRACKER)
    b("click", "cara", T0 + 700, N1, URL_TRACKER)
    r = run(store, two_stage({"all": [{"clicked": {"url": "example.com/pricing"}},
                                      {"clicked": {"url": "products/tracker"}}]}))
    assert (stage(r, ann), stage(r, bob), stage(r, cara)) == ("A", "B", "A")


def test_two_pages_and_not_in_one_condition(store: Store, b: Builder) -> None:
    ann, bob, cara = _three(b)
    b("visit", "ann", T0 + 600, URL_PRICING)
    b("visit", "bob", T0 + 600, URL_TRACKER)
    b("visit", "bob", T0 + 700, URL_PRICING)
    b("visit", "cara", T0 + 700, URL_TRACKER)
    r = run(store, two_stage({"all": [{"visited": {"url": "example.com/pricing"}},
                                      {"not": {"visited": {"url": "products/tracker"}}}]}))
    # the pricing page without the tracker's before it: ann only (bob saw the tracker
    # first, cara never the pricing page)
    assert (stage(r, ann), stage(r, bob), stage(r, cara)) == ("B", "A", "A")

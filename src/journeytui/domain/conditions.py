"""Transition conditions: a pydantic tree, its validation against the store, and
its one-line rendering.

JSON form (one key per node)::

    {"all": [C, ...]}        every part holds          (at least one part)
    {"any": [C, ...]}        at least one part holds   (at least one part)
    {"not": C}               the part does not hold
    {"clicked": {"email": "Spring product teaser" | null, "url": "pricing" | null,
                 "match": "contains" | "exact", "within_days": 30 | null}}
    {"opened": {"email": NAME | null, "within_days": D | null}}
    {"unsubscribed": {"list": NAME | null}}          null = from all lists
    {"reported_spam": {"email": NAME | null}}
    {"confirmed": {"list": NAME | null}}             null = any list
    {"submitted_form": {"form": NAME | null, "within_days": D | null}}
    {"visited": {"url": "pricing", "match": "contains" | "exact", "within_days": D | null}}
    {"no_click_in_last": {"campaigns": N}}
    {"clicks_at_least": {"count": K, "within_days": D}}
    {"in_segment": {"segment": NAME}}                a segment of the same journey

Leaves are facts about the contact's history up to the moment of the check ("has
clicked…"); ``within_days`` limits a fact to the last D days before that moment,
and ``"since_stage": true`` (clicked, opened, submitted_form, visited,
clicks_at_least) to what happened after the contact entered its current stage.
An ``email`` of null means any email.  URL matching ignores case, the scheme and a
trailing slash of the URL; "contains" looks for the text anywhere in the URL (a
trailing slash in the pattern is a path boundary: ``example.com/products/`` does not
match ``/productsheet``), "exact" wants the whole URL.  ``unsubscribed`` reads the
subscription state at the moment of the check (a resubscribe ends it); from a list,
it is also true while unsubscribed from all lists.  Machine opens and suspected bot
clicks never count.  ``in_segment`` holds while the contact is in one of the
journey's own segments (journey_model.Segment: its stage, time in it, a click).

Positions in messages are 1-based: ``any[2]`` is the second part of an ``any`` group.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from journeytui.errors import UserError
from journeytui.textsafe import safe_text

GROUP_KEYS = ("all", "any", "not")
LEAF_KEYS = (
    "clicked",
    "opened",
    "unsubscribed",
    "reported_spam",
    "confirmed",
    "submitted_form",
    "visited",
    "no_click_in_last",
    "clicks_at_least",
    "in_segment",
)
ALL_KEYS = GROUP_KEYS + LEAF_KEYS


class ConditionError(UserError):
    """A condition that cannot be used: names what and where."""


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# -- leaves ------------------------------------------------------------------------
Days = Annotated[int, Field(ge=1, le=3650)]
Name = Annotated[str, Field(min_length=1, max_length=300)]


class ClickedSpec(_Node):
    email: Name | None = None
    url: Name | None = None
    match: Literal["contains", "exact"] = "contains"
    within_days: Days | None = None
    since_stage: bool = False


class Clicked(_Node):
    clicked: ClickedSpec = ClickedSpec()


class OpenedSpec(_Node):
    email: Name | None = None
    within_days: Days | None = None
    since_stage: bool = False


class Opened(_Node):
    opened: OpenedSpec = OpenedSpec()


class UnsubscribedSpec(_Node):
    list: Name | None = None


class Unsubscribed(_Node):
    unsubscribed: UnsubscribedSpec = UnsubscribedSpec()


class SpamSpec(_Node):
    email: Name | None = None


class ReportedSpam(_Node):
    reported_spam: SpamSpec = SpamSpec()


class ConfirmedSpec(_Node):
    list: Name | None = None


class Confirmed(_Node):
    confirmed: ConfirmedSpec = ConfirmedSpec()


class FormSpec(_Node):
    form: Name | None = None
    within_days: Days | None = None
    since_stage: bool = False


class SubmittedForm(_Node):
    submitted_form: FormSpec = FormSpec()


class VisitedSpec(_Node):
    url: Name
    match: Literal["contains", "exact"] = "contains"
    within_days: Days | None = None
    since_stage: bool = False


class Visited(_Node):
    visited: VisitedSpec


class NoClickSpec(_Node):
    campaigns: Annotated[int, Field(ge=1, le=100)]


class NoClickInLast(_Node):
    no_click_in_last: NoClickSpec


class ClicksSpec(_Node):
    count: Annotated[int, Field(ge=1, le=1000)]
    within_days: Days
    since_stage: bool = False


class ClicksAtLeast(_Node):
    clicks_at_least: ClicksSpec


class SegmentSpec(_Node):
    segment: Name


class InSegment(_Node):
    in_segment: SegmentSpec


# -- groups ------------------------------------------------------------------------
def _tag(value: Any) -> str | None:
    if isinstance(value, dict):
        if len(value) == 1:
            key = next(iter(value))
            return key if key in ALL_KEYS else None
        return None
    if isinstance(value, _Node):
        return node_key(value)
    return None


Condition = Annotated[
    Annotated["AllOf", Tag("all")]
    | Annotated["AnyOf", Tag("any")]
    | Annotated["Not", Tag("not")]
    | Annotated[Clicked, Tag("clicked")]
    | Annotated[Opened, Tag("opened")]
    | Annotated[Unsubscribed, Tag("unsubscribed")]
    | Annotated[ReportedSpam, Tag("reported_spam")]
    | Annotated[Confirmed, Tag("confirmed")]
    | Annotated[SubmittedForm, Tag("submitted_form")]
    | Annotated[Visited, Tag("visited")]
    | Annotated[NoClickInLast, Tag("no_click_in_last")]
    | Annotated[ClicksAtLeast, Tag("clicks_at_least")]
    | Annotated[InSegment, Tag("in_segment")],
    Discriminator(
        _tag,
        custom_error_type="condition_kind",
        custom_error_message="a condition is an object with exactly one key, one of: "
        + ", ".join(ALL_KEYS),
    ),
]


class AllOf(_Node):
    all: Annotated[list[Condition], Field(min_length=1)]


class AnyOf(_Node):
    any: Annotated[list[Condition], Field(min_length=1)]


class Not(_Node):
    not_: Condition = Field(alias="not")


for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()

Node = (
    AllOf | AnyOf | Not | Clicked | Opened | Unsubscribed | ReportedSpam | Confirmed
    | SubmittedForm | Visited | NoClickInLast | ClicksAtLeast | InSegment
)


def node_key(node: _Node) -> str:
    """The JSON key of *node* (``"all"``, ``"clicked"``…)."""
    if isinstance(node, Not):
        return "not"
    return next(iter(type(node).model_fields))


def spec_of(node: _Node) -> Any:
    return getattr(node, "not_" if isinstance(node, Not) else node_key(node))


def default_entry() -> AnyOf:
    """The default entry condition of a journey: any open or click."""
    return AnyOf(any=[Opened(), Clicked()])


# -- URLs ----------------------------------------------------------------------------
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def normalize_url(url: str) -> str:
    """Lower case, no scheme, no trailing slash (how URL matches compare)."""
    u = _SCHEME.sub("", url.strip().lower())
    return u.rstrip("/")


_QUERY = re.compile(r"[?#]")


def url_matches(pattern: str, url: str, match: str = "contains") -> bool:
    """Whether *url* matches *pattern* (both compared through :func:`normalize_url`).

    "exact": the same URL.  "contains": the pattern occurs anywhere in the URL; a
    pattern that ends in ``/`` ends at a path boundary, so ``example.com/products/``
    matches ``/products``, ``/products/tracker`` and ``/products?utm=x`` but not
    ``/productsheet`` (both sides are compared with a ``/`` appended, and the URL
    with a ``/`` before its query or fragment).
    """
    p, u = normalize_url(pattern), normalize_url(url)
    if match == "exact":
        return u == p
    if pattern.rstrip().endswith("/") and p:
        return p + "/" in _QUERY.sub(lambda m: "/" + m.group(0), u, count=1) + "/"
    return p in u


# -- rendering -----------------------------------------------------------------------
def _q(name: str) -> str:
    return "'" + safe_text(name) + "'"


def _within(days: int | None, since_stage: bool = False) -> str:
    text = ""
    if days is not None:
        text = " in the last day" if days == 1 else f" in the last {days} days"
    if since_stage:
        text += " since entering the stage"
    return text


def render(node: _Node, *, top: bool = True) -> str:
    """One readable line, e.g. "clicked a link containing 'pricing' in 'Spring product
    teaser'".  Data (names, URLs) is made safe for a terminal; it is plain text, not
    markup."""
    key = node_key(node)
    if key in ("all", "any"):
        parts = [render(p, top=False) for p in spec_of(node)]
        if len(parts) == 1:
            return parts[0]
        text = (" and " if key == "all" else " or ").join(parts)
        return text if top else f"({text})"
    if key == "not":
        inner = spec_of(node)
        return "not " + (render(inner, top=False) if node_key(inner) in GROUP_KEYS
                         else f"({render(inner)})")
    s = spec_of(node)
    if key == "clicked":
        if s.url is None:
            what = "clicked a link"
        elif s.match == "exact":
            what = f"clicked the link {_q(s.url)}"
        else:
            what = f"clicked a link containing {_q(s.url)}"
        where = f" in {_q(s.email)}" if s.email else " in any email"
        return what + where + _within(s.within_days, s.since_stage)
    if key == "opened":
        what = f"opened {_q(s.email)}" if s.email else "opened any email"
        return what + _within(s.within_days, s.since_stage)
    if key == "unsubscribed":
        return f"unsubscribed from {_q(s.list)}" if s.list else "unsubscribed from all lists"
    if key == "reported_spam":
        return f"reported {_q(s.email)} as spam" if s.email else "reported any email as spam"
    if key == "confirmed":
        return (f"confirmed the subscription to {_q(s.list)}" if s.list
                else "confirmed a subscription")
    if key == "submitted_form":
        what = f"submitted the form {_q(s.form)}" if s.form else "submitted any form"
        return what + _within(s.within_days, s.since_stage)
    if key == "visited":
        what = (f"visited the page {_q(s.url)}" if s.match == "exact"
                else f"visited a page containing {_q(s.url)}")
        return what + _within(s.within_days, s.since_stage)
    if key == "no_click_in_last":
        n = s.campaigns
        return ("no click in the last campaign received" if n == 1
                else f"no click in the last {n} campaigns received")
    if key == "clicks_at_least":
        k = s.count
        return f"at least {k} click{'s' if k != 1 else ''}" + _within(s.within_days,
                                                                       s.since_stage)
    if key == "in_segment":
        return f"in the segment {_q(s.segment)}"
    raise AssertionError(key)  # pragma: no cover


# -- validation against the store --------------------------------------------------
class StoreNames:
    """Names a condition may refer to, read once from the store."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.emails = [r[0] for r in conn.execute("SELECT name FROM emails ORDER BY name")]
        self.lists = [r[0] for r in conn.execute("SELECT name FROM lists ORDER BY name")]
        self._conn = conn
        self._forms: list[str] | None = None
        self._links: dict[str | None, list[str]] = {}

    @property
    def forms(self) -> list[str]:
        if self._forms is None:
            self._forms = [
                r[0] for r in self._conn.execute(
                    "SELECT DISTINCT value FROM activities WHERE kind = 'form'"
                    " AND value IS NOT NULL ORDER BY value"
                )
            ]
        return self._forms

    def has_form(self, name: str) -> bool:
        """Whether the store holds a submission of form *name* (forms carry no email,
        so the (email_id, kind) index finds them without a full scan)."""
        if self._forms is not None:
            return name in self._forms
        c = self._conn
        row = c.execute(
            "SELECT 1 FROM activities WHERE email_id IS NULL AND kind = 'form' AND value = ?"
            " LIMIT 1", (name,)
        ).fetchone() or c.execute(
            "SELECT 1 FROM activities WHERE kind = 'form' AND value = ? LIMIT 1", (name,)
        ).fetchone()
        return row is not None

    def links(self, email: str | None) -> list[str]:
        if email not in self._links:
            if email is None:
                rows = self._conn.execute("SELECT DISTINCT url FROM links")
            else:
                rows = self._conn.execute(
                    "SELECT l.url FROM links l JOIN emails e ON e.id = l.email_id"
                    " WHERE e.name = ?", (email,)
                )
            self._links[email] = [r[0] for r in rows]
        return self._links[email]


def _suggest(name: str, choices: list[str]) -> str:
    if not choices:
        return ""
    try:
        from rapidfuzz import process

        best = process.extractOne(name, choices)
    except ImportError:  # pragma: no cover
        best = None
    if best and best[1] >= 60:
        return f" (did you mean {_q(best[0])}?)"
    return ""


def check_names(node: _Node, names: StoreNames, where: str, path: str = "") -> None:
    """Refuse a condition naming an email, list, form or link the store lacks.

    *where* says which part of the journey this is ("transition 2 (A → B)");
    *path* is built while walking ("any[1].clicked").
    """
    key = node_key(node)
    prefix = f"{path}." if path else ""
    here = f"{prefix}{key}"
    if key in ("all", "any"):
        for i, part in enumerate(spec_of(node), start=1):
            check_names(part, names, where, f"{here}[{i}]")
        return
    if key == "not":
        check_names(spec_of(node), names, where, here)
        return

    def fail(msg: str) -> None:
        raise ConditionError(f"{where}, condition {here}: {msg}")

    s = spec_of(node)
    email = getattr(s, "email", None)
    if email is not None and email not in names.emails:
        fail(f"email {_q(email)} does not exist{_suggest(email, names.emails)}")
    lst = getattr(s, "list", None)
    if lst is not None and lst not in names.lists:
        fail(f"list {_q(lst)} does not exist{_suggest(lst, names.lists)}")
    if key == "submitted_form" and s.form is not None and not names.has_form(s.form):
        fail(f"form {_q(s.form)} has no submissions in this store"
             f"{_suggest(s.form, names.forms)}")
    if key == "clicked" and s.url is not None:
        links = names.links(email)
        if not any(url_matches(s.url, u, s.match) for u in links):
            inside = f"{_q(email)}" if email else "any email"
            how = "is" if s.match == "exact" else "contains"
            fail(f"no tracked link in {inside} {how} {_q(s.url)}")


def iter_leaves(node: _Node) -> list[_Node]:
    key = node_key(node)
    if key in ("all", "any"):
        out: list[_Node] = []
        for part in spec_of(node):
            out.extend(iter_leaves(part))
        return out
    if key == "not":
        return iter_leaves(spec_of(node))
    return [node]


def has_not(node: _Node) -> bool:
    key = node_key(node)
    if key == "not":
        return True
    if key in ("all", "any"):
        return any(has_not(p) for p in spec_of(node))
    return False


def dump(node: _Node) -> dict[str, Any]:
    """The JSON form of *node* (aliases; unset options left out)."""
    return _drop_default_match(node.model_dump(by_alias=True, exclude_none=True, mode="json"))


_DEFAULTS = {"match": "contains", "since_stage": False}


def _drop_default_match(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_default_match(v) for k, v in value.items()
                if not (k in _DEFAULTS and v is not True and v == _DEFAULTS[k])}
    if isinstance(value, list):
        return [_drop_default_match(v) for v in value]
    return value


_ADAPTER: Any = None


def parse_condition(value: Any) -> Node:
    """Validate a condition in its JSON form (raises pydantic's ValidationError)."""
    global _ADAPTER
    if _ADAPTER is None:
        from pydantic import TypeAdapter

        _ADAPTER = TypeAdapter(Condition)
    return _ADAPTER.validate_python(value)  # type: ignore[no-any-return]

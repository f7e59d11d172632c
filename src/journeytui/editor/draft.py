"""The condition being edited, as its JSON form (plain dicts and lists), and the
edits the condition editor makes to it.  Plain Python (no textual), so the edits are
easy to test; every function returns a new tree and never changes its argument.

A node is addressed by its *path*: the child positions from the root (``()`` is
the root; a ``not`` node's only child is at position 0).  The draft may be invalid
while it is edited (an empty group, a field that is not a number yet): the errors
are found per node by :func:`node_errors`, with the domain's own validation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from journeytui.domain.conditions import (
    ConditionError,
    StoreNames,
    check_names,
    parse_condition,
    render,
)


class Choices(Protocol):
    """The names in the store a condition may use (read once, in a worker)."""

    @property
    def emails(self) -> Sequence[str]: ...
    @property
    def lists(self) -> Sequence[str]: ...
    @property
    def forms(self) -> Sequence[str]: ...
    @property
    def links(self) -> Mapping[str, Sequence[str]]: ...  # email name -> its URLs

    def all_links(self) -> list[str]: ...

Node = dict[str, Any]
Path = tuple[int, ...]

GROUPS = ("all", "any")
LEAF_KINDS: dict[str, str] = {
    "clicked": "clicked a link",
    "opened": "opened an email",
    "unsubscribed": "unsubscribed",
    "reported_spam": "reported spam",
    "confirmed": "confirmed a subscription",
    "submitted_form": "submitted a form",
    "visited": "visited a page",
    "no_click_in_last": "no click in the last N campaigns",
    "clicks_at_least": "at least K clicks within D days",
    "in_segment": "in a segment of this journey",
}
LEAF_DEFAULTS: dict[str, dict[str, Any]] = {
    "clicked": {},
    "opened": {},
    "unsubscribed": {},
    "reported_spam": {},
    "confirmed": {},
    "submitted_form": {},
    "visited": {"url": ""},
    "no_click_in_last": {"campaigns": 3},
    "clicks_at_least": {"count": 3, "within_days": 30},
    "in_segment": {},
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str  # "email" | "list" | "form" | "link" | "page" | "segment" | "match" | "int"
    #            | "bool"
    hint: str


SINCE_STAGE = FieldSpec("since_stage", "Since stage", "bool",
                        "yes = only since entering the stage")


FIELDS: dict[str, list[FieldSpec]] = {
    "clicked": [
        FieldSpec("email", "Email", "email", "empty = any email"),
        FieldSpec("url", "Link", "link", "part of the URL; empty = any link"),
        FieldSpec("match", "Match", "match", "contains | exact"),
        FieldSpec("within_days", "Within days", "int", "empty = ever"),
        SINCE_STAGE,
    ],
    "opened": [
        FieldSpec("email", "Email", "email", "empty = any email"),
        FieldSpec("within_days", "Within days", "int", "empty = ever"),
        SINCE_STAGE,
    ],
    "unsubscribed": [FieldSpec("list", "List", "list", "empty = from all lists")],
    "reported_spam": [FieldSpec("email", "Email", "email", "empty = any email")],
    "confirmed": [FieldSpec("list", "List", "list", "empty = any list")],
    "submitted_form": [
        FieldSpec("form", "Form", "form", "empty = any form"),
        FieldSpec("within_days", "Within days", "int", "empty = ever"),
        SINCE_STAGE,
    ],
    "visited": [
        FieldSpec("url", "Page", "page", "part of the URL"),
        FieldSpec("match", "Match", "match", "contains | exact"),
        FieldSpec("within_days", "Within days", "int", "empty = ever"),
        SINCE_STAGE,
    ],
    "no_click_in_last": [FieldSpec("campaigns", "Campaigns", "int", "N, 1–100")],
    "clicks_at_least": [
        FieldSpec("count", "Clicks", "int", "K, at least 1"),
        FieldSpec("within_days", "Within days", "int", "D, 1–3650"),
        SINCE_STAGE,
    ],
    "in_segment": [FieldSpec("segment", "Segment", "segment", "a segment of this journey")],
}


def key_of(node: Node) -> str:
    return next(iter(node)) if isinstance(node, dict) and node else "?"


def is_group(node: Node) -> bool:
    return key_of(node) in GROUPS


def children(node: Node) -> list[Node]:
    key = key_of(node)
    if key in GROUPS:
        value = node[key]
        return value if isinstance(value, list) else []
    if key == "not":
        return [node["not"]]
    return []


def get(root: Node | None, path: Path) -> Node | None:
    node = root
    for i in path:
        if node is None:
            return None
        kids = children(node)
        node = kids[i] if 0 <= i < len(kids) else None
    return node


def flatten(root: Node | None) -> Iterator[tuple[Path, int, Node]]:
    """Every node, depth first: (path, depth, node)."""
    if root is None:
        return

    def walk(node: Node, path: Path) -> Iterator[tuple[Path, int, Node]]:
        yield path, len(path), node
        for i, child in enumerate(children(node)):
            yield from walk(child, (*path, i))

    yield from walk(root, ())


def leaf(kind: str) -> Node:
    return {kind: dict(LEAF_DEFAULTS[kind])}


def _replace(root: Node | None, path: Path, new: Node | None) -> Node | None:
    """*root* with the node at *path* replaced by *new* (None: removed)."""
    if not path:
        return copy.deepcopy(new)
    out = copy.deepcopy(root)
    parent = get(out, path[:-1])
    assert parent is not None
    key = key_of(parent)
    i = path[-1]
    if key in GROUPS:
        if new is None:
            del parent[key][i]
        else:
            parent[key][i] = copy.deepcopy(new)
    elif key == "not":
        if new is None:  # removing the inside of a not removes the not
            return _replace(out, path[:-1], None)
        parent["not"] = copy.deepcopy(new)
    return out


def parent_group(root: Node | None, path: Path) -> Path | None:
    """The path of the nearest group that holds *path* directly (not through a not)."""
    if not path:
        return None
    parent = get(root, path[:-1])
    if parent is not None and is_group(parent):
        return path[:-1]
    return None


def add(root: Node | None, path: Path, new: Node, *, group_kind: str = "all") -> tuple[Node, Path]:
    """Add *new* under the cursor: as the last part of a group, after a part in its
    group, or — on a lone leaf — with it in a new *group_kind* group."""
    if root is None:
        return copy.deepcopy(new), ()
    node = get(root, path)
    if node is not None and is_group(node):
        out = copy.deepcopy(root)
        target = get(out, path)
        assert target is not None
        target[key_of(target)].append(copy.deepcopy(new))
        return out, (*path, len(target[key_of(target)]) - 1)
    group = parent_group(root, path)
    if group is not None:
        out = copy.deepcopy(root)
        target = get(out, group)
        assert target is not None
        target[key_of(target)].insert(path[-1] + 1, copy.deepcopy(new))
        return out, (*group, path[-1] + 1)
    # A lone leaf (or a not): put it in a group with the new part.
    here = copy.deepcopy(node)
    grouped = _replace(root, path, {group_kind: [here, copy.deepcopy(new)]})
    assert grouped is not None
    return grouped, (*path, 1)


def add_group(root: Node | None, path: Path, kind: str = "any") -> tuple[Node, Path]:
    """A new *kind* group holding one default leaf; the cursor goes to that leaf."""
    new = {kind: [leaf("clicked")]}
    out, at = add(root, path, new)
    return out, (*at, 0)


def wrap_not(root: Node | None, path: Path) -> tuple[Node | None, Path]:
    """Wrap the node in ``not``; on a ``not``, unwrap it."""
    node = get(root, path)
    if node is None:
        return root, path
    if key_of(node) == "not":
        return _replace(root, path, node["not"]), path
    return _replace(root, path, {"not": copy.deepcopy(node)}), path


def delete(root: Node | None, path: Path) -> tuple[Node | None, Path]:
    """Remove the node (a ``not`` around it goes too); the cursor stays near."""
    node = get(root, path)
    if node is None:
        return root, path
    while path and key_of(get(root, path[:-1]) or {}) == "not":
        path = path[:-1]
    if not path:
        return None, ()
    out = _replace(root, path, None)
    parent = get(out, path[:-1])
    kids = children(parent) if parent is not None else []
    if kids:
        return out, (*path[:-1], min(path[-1], len(kids) - 1))
    return out, path[:-1]


def move(root: Node | None, path: Path, delta: int) -> tuple[Node | None, Path]:
    """Move the node up/down among the parts of its group."""
    group = parent_group(root, path)
    if group is None:
        return root, path
    out = copy.deepcopy(root)
    target = get(out, group)
    assert target is not None
    parts = target[key_of(target)]
    i, j = path[-1], path[-1] + delta
    if not 0 <= j < len(parts):
        return root, path
    parts[i], parts[j] = parts[j], parts[i]
    return out, (*group, j)


def set_kind(root: Node | None, path: Path, kind: str) -> Node | None:
    """Change a group to all/any, or a leaf to another kind (keeping fields that fit)."""
    node = get(root, path)
    if node is None:
        return root
    old = key_of(node)
    if old in GROUPS and kind in GROUPS:
        return _replace(root, path, {kind: node[old]})
    if old in LEAF_KINDS and kind in LEAF_KINDS:
        spec = dict(LEAF_DEFAULTS[kind])
        allowed = {f.name for f in FIELDS[kind]}
        for name, value in (node[old] or {}).items():
            if name in allowed and value not in (None, ""):
                spec[name] = value
        return _replace(root, path, {kind: spec})
    return root


def set_field(root: Node | None, path: Path, name: str, text: str) -> Node | None:
    """Set a leaf's field from what was typed ("" = unset; numbers when they parse)."""
    node = get(root, path)
    if node is None or key_of(node) not in LEAF_KINDS:
        return root
    kind = key_of(node)
    spec = dict(node[kind] or {})
    field = next((f for f in FIELDS[kind] if f.name == name), None)
    value: Any = text.strip()
    if value == "":
        if kind == "visited" and name == "url":
            spec[name] = ""
        else:
            spec.pop(name, None)
    elif field is not None and field.kind == "int":
        spec[name] = int(value) if value.isdigit() else value
    elif field is not None and field.kind == "bool":
        low = value.casefold()
        if low in ("yes", "y", "true"):
            spec[name] = True
        elif low in ("no", "n", "false"):
            spec.pop(name, None)
        else:
            spec[name] = value
    else:
        spec[name] = value
    return _replace(root, path, {kind: spec})


def field_text(node: Node, name: str) -> str:
    spec = node.get(key_of(node)) or {}
    value = spec.get(name)
    if value is True:
        return "yes"
    if value is None or value is False:
        return ""
    return str(value)


# -- validation and rendering ----------------------------------------------------------
class CachedNames(StoreNames):
    """The domain's :class:`StoreNames`, filled from names read once in a worker, so
    the event loop can validate a draft on every keystroke without touching SQLite."""

    def __init__(self, choices: Choices) -> None:  # no super(): nothing to query
        self.emails = list(choices.emails)
        self.lists = list(choices.lists)
        self._conn = None  # type: ignore[assignment]
        self._forms = list(choices.forms)
        self._links: dict[str | None, list[str]] = {None: choices.all_links()}
        self._links.update({email: list(urls) for email, urls in choices.links.items()})
        self._choices = choices

    def links(self, email: str | None) -> list[str]:
        return self._links.get(email, [])


def _pydantic_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
    field = loc[-1] if loc else ""
    msg = str(err["msg"])
    if err["type"] == "missing":
        msg = "must be filled in"
    return f"{field}: {msg}" if field else msg


#: why a leaf ``in_segment`` naming this segment cannot be used where it is (None: it
#: can); EditorState builds one from the draft journey with the domain's own check
SegmentCheck = Callable[[str], "str | None"]


def node_errors(root: Node | None, names: CachedNames | None,
                segment_check: SegmentCheck | None = None) -> dict[Path, str]:
    """Per node, why it cannot be used (empty groups, bad fields, unknown names, a
    segment the journey lacks or that can never hold there)."""
    errors: dict[Path, str] = {}
    for path, _, node in flatten(root):
        key = key_of(node)
        if key in GROUPS:
            if not children(node):
                errors[path] = f"an empty '{key}' group: add a part (a) or delete it (d)"
            continue
        if key == "not":
            continue
        if key not in LEAF_KINDS:
            errors[path] = f"unknown kind {key!r}"
            continue
        if key == "visited" and not (node[key] or {}).get("url"):
            errors[path] = "Page: type part of the page's URL"
            continue
        if key == "in_segment" and segment_check is not None:
            why = segment_check(str((node[key] or {}).get("segment") or ""))
            if why is not None:
                errors[path] = why
                continue
        try:
            parsed = parse_condition(node)
        except ValidationError as exc:
            errors[path] = _pydantic_message(exc)
            continue
        if names is not None:
            try:
                check_names(parsed, names, "x")  # type: ignore[arg-type]
            except ConditionError as exc:
                errors[path] = str(exc).split(": ", 1)[-1]
    if root is None:
        errors[()] = "no condition yet: add a part (a) or a group (g)"
    return errors


def node_label(node: Node) -> str:
    """One line for the tree: a group's word, or the leaf's rendering."""
    key = key_of(node)
    if key == "all":
        return "all of these hold:"
    if key == "any":
        return "any of these holds:"
    if key == "not":
        return "not:"
    try:
        return render(parse_condition(node))
    except (ValidationError, ValueError, TypeError):
        spec = node.get(key) or {}
        fields = ", ".join(f"{k}={v!r}" for k, v in spec.items())
        return f"{LEAF_KINDS.get(key, key)} ({fields})" if fields else LEAF_KINDS.get(key, key)


def render_draft(root: Node | None) -> str:
    """The whole condition on one line (best effort while it is invalid)."""
    if root is None:
        return "(no condition yet)"
    try:
        return render(parse_condition(root))
    except (ValidationError, ValueError, TypeError):
        pass
    key = key_of(root)
    if key in GROUPS:
        parts = [render_draft(p) for p in children(root)]
        if not parts:
            return f"({key} of nothing)"
        return (" and " if key == "all" else " or ").join(
            p if not is_group(c) else f"({p})" for p, c in zip(parts, children(root), strict=True)
        )
    if key == "not":
        return f"not ({render_draft(root['not'])})"
    return node_label(root)

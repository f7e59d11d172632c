"""What the condition editor holds, apart from any widget: the saved journey and the
draft (both as their JSON form, ``Journey.to_json_dict()``), the transition being
edited and the cursor in its condition tree, the undo and redo stacks, and what the
draft's mistakes are.  Every edit is a method here; the Conditions pane only shows
the state and asks the user.

Typing in one field of one part is one undo step (the keystrokes coalesce until the
cursor moves or the field is left).  The undo history survives a save of the same
journey, so undo can go back past it.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from journeytui.domain.conditions import parse_condition
from journeytui.domain.journey_model import (
    Journey,
    JourneyError,
    Transition,
    check_against_store,
    check_segments,
    parse_journey,
    transition_label,
)
from journeytui.editor import draft as ops
from journeytui.editor.draft import GROUPS, LEAF_KINDS, CachedNames, Node, Path, key_of
from journeytui.textsafe import safe_text

ENTRY = -1  # the "transition" index of the entry condition
UNDO_LIMIT = 200
ANY_STAGE = None  # a transition "from any stage"

Snapshot = tuple[dict[str, Any], int | None, Path]


class NoTransition(Exception):
    """A tree edit was asked for while no transition is chosen."""


def new_definition(name: str, goal: str) -> dict[str, Any]:
    """A new journey: one stage, entered on any open or click, no transitions."""
    return {"name": name, "goal": goal, "stages": [{"name": "Browsing"}],
            "entry": {"any": [{"opened": {}}, {"clicked": {}}]}, "transitions": []}


def copy_name(name: str, existing: set[str]) -> str:
    """``Name (copy)``, ``Name (copy) 2``, … — the first not in *existing*."""
    base = f"{name} (copy)"
    candidate, n = base, 2
    while candidate in existing:
        candidate, n = f"{base} {n}", n + 1
    return candidate


class EditorState:
    """The draft journey and its editing history (no textual, no store)."""

    def __init__(self, names: CachedNames | None = None) -> None:
        self.names = names  # the store's names, for validation (None: not read yet)
        self.journey_name: str | None = None  # the journey's name as saved (None: new)
        self.version = 0  # the saved version the draft started from (0: new)
        self.saved: dict[str, Any] | None = None
        self.draft: dict[str, Any] | None = None
        self.t: int | None = None  # transition index, ENTRY, or None
        self.path: Path = ()
        self.undo_stack: list[Snapshot] = []
        self.redo_stack: list[Snapshot] = []
        self._coalesce: tuple[Any, ...] | None = None
        self.errors: dict[Path, str] = {}
        self.problem: str | None = None  # why the draft cannot be saved (None: it can)

    # -- what it holds ---------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.draft is not None and self.draft != self.saved

    @property
    def typing(self) -> bool:
        """The last edit was typing in a field (more keystrokes may follow)."""
        return self._coalesce is not None and self._coalesce[0] == "field"

    @property
    def condition(self) -> Node | None:
        """The condition of the chosen transition (or of the entry)."""
        if self.draft is None or self.t is None:
            return None
        if self.t == ENTRY:
            return self.draft.get("entry")  # type: ignore[no-any-return]
        return self.draft["transitions"][self.t].get("when")  # type: ignore[no-any-return]

    @property
    def node(self) -> Node | None:
        """The part under the cursor."""
        return ops.get(self.condition, self.path)

    @property
    def stage_names(self) -> list[str]:
        return [s["name"] for s in (self.draft or {}).get("stages", [])]

    @property
    def segment_names(self) -> list[str]:
        """The names of the draft journey's follow-up segments (the choices of a part
        ``in_segment``)."""
        return [str(g.get("name", "")) for g in (self.draft or {}).get("segments") or []
                if isinstance(g, dict)]

    def segment_check(self) -> ops.SegmentCheck | None:
        """Why a part ``in_segment`` naming a segment cannot be used in the chosen
        condition: the domain's own check (journey_model.check_segments) of that
        segment in this place — the entry, or a transition from its stage — on the
        draft's stages and segments.  When the segments themselves cannot be used (a
        stage they name was deleted), only a missing name is reported here: the
        whole-journey check says what is wrong with them."""
        d = self.draft
        if d is None or self.t is None:
            return None
        names = self.segment_names
        base: Journey | None
        try:
            base = Journey.model_validate({"name": "journey", "stages": d.get("stages"),
                                           "segments": d.get("segments") or []})
            check_segments(base)
        except (ValidationError, JourneyError):
            base = None
        entry = self.t == ENTRY
        tr = {} if entry else d["transitions"][self.t]

        def check(name: str) -> str | None:
            if not name:
                if names:
                    return ("Segment: choose one of this journey's segments ("
                            + ", ".join(f"'{safe_text(n)}'" for n in names) + ")")
                return ("Segment: this journey defines no segments (they are defined in "
                        "its journey file, under \"segments\")")
            if base is None or (tr.get("from") is not None
                                and tr.get("from") not in base.stage_names):
                return None
            try:
                leaf = parse_condition({"in_segment": {"segment": name}})
                if entry:
                    j = base.model_copy(update={"entry": leaf})
                    where = "journey: entry"
                else:
                    t = Transition.model_validate({"from": tr.get("from"),
                                                   "to": str(tr.get("to")), "when": leaf})
                    j = base.model_copy(update={"transitions": [t]})
                    where = f"journey: {transition_label(j, 0)}"
            except ValidationError:
                return None  # (the part's own check says why)
            try:
                check_segments(j)
            except JourneyError as exc:
                text, prefix = str(exc), where + ": condition in_segment"
                return text[len(prefix):].lstrip(": ") if text.startswith(prefix) else text
            return None

        return check

    def transition_label(self, t: int | None) -> str:
        if self.draft is None or t is None:
            return "no transition"
        if t == ENTRY:
            first = self.draft["stages"][0]["name"] if self.draft["stages"] else "?"
            return f"entry into {first}"
        tr = self.draft["transitions"][t]
        src = tr.get("from") if tr.get("from") is not None else "any stage"
        return f"t{t + 1} {src} → {tr.get('to')}"

    def priority(self, t: int) -> int:
        assert self.draft is not None
        return int(self.draft["transitions"][t].get("priority", 100))

    def compared_transition(self) -> int | None:
        """The edited transition's number when the saved journey has the same one
        (same place, same stages), so its moves compare; else None."""
        if self.t is None or self.t == ENTRY or self.saved is None or self.draft is None:
            return None
        saved, draft = self.saved["transitions"], self.draft["transitions"]
        if self.t >= len(saved):
            return None
        a, b = saved[self.t], draft[self.t]
        if (a.get("from"), a.get("to")) != (b.get("from"), b.get("to")):
            return None
        return self.t + 1

    # -- loading ---------------------------------------------------------------------
    def load(self, name: str | None, definition: dict[str, Any], version: int,
             *, keep_history: bool = False) -> None:
        """Make *definition* the saved journey and the draft.  The undo history is
        kept across a save of this journey (undo can go back past it), else cleared."""
        self.journey_name = name
        self.version = version
        self.saved = copy.deepcopy(definition)
        self.draft = copy.deepcopy(definition)
        if not keep_history:
            self.undo_stack.clear()
            self.redo_stack.clear()
        self._coalesce = None

    def open(self, name: str, definition: dict[str, Any], version: int,
             transition: int | None, *, keep_history: bool = False) -> None:
        """Load a journey read from the store and choose *transition* (0-based or
        ENTRY; the first transition when it is not there)."""
        self.load(name, definition, version,
                  keep_history=keep_history and name == self.journey_name)
        n = len(definition["transitions"])
        if transition is None or not (transition == ENTRY or 0 <= transition < n):
            transition = 0 if n else None
        self.t = transition
        self.path = ()

    def new_journey(self, name: str, goal: str) -> None:
        """Start a journey that is not saved yet; its entry condition is chosen."""
        self.load(None, new_definition(name, goal), 0)
        self.saved = None  # nothing saved yet: the draft is unsaved
        self.t = ENTRY
        self.path = ()

    def close(self) -> None:
        """No journey open (an unsaved new one was reverted)."""
        self.draft = None
        self.journey_name = None

    # -- every edit ------------------------------------------------------------------
    def _snapshot(self) -> Snapshot:
        assert self.draft is not None
        return (copy.deepcopy(self.draft), self.t, self.path)

    def apply(self, journey: dict[str, Any], t: int | None, path: Path,
              *, coalesce: tuple[Any, ...] | None = None) -> None:
        """Make *journey* the draft (the previous one goes on the undo stack, unless
        this edit continues the one before with the same *coalesce* key)."""
        if self.draft is None:
            return
        if coalesce is None or coalesce != self._coalesce:
            self.undo_stack.append(self._snapshot())
            del self.undo_stack[:-UNDO_LIMIT]
        self._coalesce = coalesce
        self.redo_stack.clear()
        self.draft, self.t, self.path = journey, t, path

    def _with_condition(self, root: Node | None) -> dict[str, Any]:
        assert self.draft is not None and self.t is not None
        new = copy.deepcopy(self.draft)
        if self.t == ENTRY:
            new["entry"] = root
        else:
            new["transitions"][self.t]["when"] = root
        return new

    def edit(self, root: Node | None, path: Path) -> None:
        """Make *root* the chosen transition's condition, the cursor at *path*."""
        if self.draft is None or self.t is None:
            raise NoTransition
        self.apply(self._with_condition(root), self.t, path)

    def end_typing(self) -> None:
        """The next field edit is an undo step of its own."""
        self._coalesce = None

    def move_cursor(self, path: Path) -> None:
        self.path = path
        self._coalesce = None

    # -- the condition tree ----------------------------------------------------------
    def add_leaf(self, kind: str = "clicked") -> None:
        self.edit(*ops.add(self.condition, self.path, ops.leaf(kind)))

    def add_group(self, kind: str = "any") -> None:
        self.edit(*ops.add_group(self.condition, self.path, kind))

    def toggle_not(self) -> None:
        if self.condition is not None:
            self.edit(*ops.wrap_not(self.condition, self.path))

    def delete(self) -> None:
        if self.condition is not None:
            self.edit(*ops.delete(self.condition, self.path))

    def move(self, delta: int) -> None:
        if self.condition is not None:
            root, path = ops.move(self.condition, self.path, delta)
            if path != self.path:
                self.edit(root, path)

    def set_kind(self, kind: str, path: Path | None = None) -> None:
        """A part's kind (keeping the fields that fit), or a group's all/any."""
        at = self.path if path is None else path
        self.edit(ops.set_kind(self.condition, at, kind), at)

    def flip_group(self) -> bool:
        """On a group: all ↔ any (True); elsewhere nothing (False)."""
        node = self.node
        if node is None or key_of(node) not in GROUPS:
            return False
        self.set_kind("any" if key_of(node) == "all" else "all")
        return True

    def set_field(self, path: Path, name: str, text: str) -> bool:
        """A field typed at *path*; keystrokes in one field make one undo step.
        False when nothing changed (or *path* is not the cursor's)."""
        if self.t is None or path != self.path:
            return False
        root = self.condition
        node = ops.get(root, path)
        if node is None or ops.field_text(node, name) == text.strip():
            return False
        new = ops.set_field(root, path, name, text)
        self.apply(self._with_condition(new), self.t, self.path,
                   coalesce=("field", self.t, path, name))
        return True

    # -- undo ------------------------------------------------------------------------
    def undo(self) -> bool:
        if not self.undo_stack:
            return False
        self.redo_stack.append(self._snapshot())
        self.draft, self.t, self.path = self.undo_stack.pop()
        self._coalesce = None
        return True

    def redo(self) -> bool:
        if not self.redo_stack:
            return False
        self.undo_stack.append(self._snapshot())
        self.draft, self.t, self.path = self.redo_stack.pop()
        self._coalesce = None
        return True

    def revert(self) -> None:
        """Back to the saved journey (an undo step); an unsaved new one is closed."""
        if self.saved is None:
            self.close()
            return
        self.undo_stack.append(self._snapshot())
        self.draft = copy.deepcopy(self.saved)
        n = len(self.draft["transitions"])
        if self.t is not None and self.t != ENTRY and self.t >= n:
            self.t = n - 1 if n else None
        self.path = ()

    def discard(self) -> None:
        """Forget the changes and their history (leaving the pane without them)."""
        if self.saved is not None:
            self.draft = copy.deepcopy(self.saved)
            self.undo_stack.clear()

    # -- transitions and stages ------------------------------------------------------
    def select_transition(self, t: int | None) -> None:
        self.t = t
        self.path = ()
        self._coalesce = None

    def add_transition(self, source: str | None, target: str, priority: int) -> None:
        """A new transition without a condition yet; it becomes the chosen one."""
        assert self.draft is not None
        new = copy.deepcopy(self.draft)
        new["transitions"].append({"from": source, "to": target, "priority": priority,
                                   "when": None})
        self.apply(new, len(new["transitions"]) - 1, ())

    def delete_transition(self) -> None:
        if self.draft is None or self.t is None or self.t == ENTRY:
            raise NoTransition
        new = copy.deepcopy(self.draft)
        del new["transitions"][self.t]
        n = len(new["transitions"])
        self.apply(new, min(self.t, n - 1) if n else None, ())

    def set_priority(self, t: int, priority: int) -> None:
        assert self.draft is not None
        new = copy.deepcopy(self.draft)
        new["transitions"][t]["priority"] = priority
        self.apply(new, t, self.path)

    def set_stages(self, journey: dict[str, Any]) -> None:
        """The journey as the stages dialog left it (one undo step; none if unchanged)."""
        if self.draft is not None and journey != self.draft:
            self.apply(journey, self.t, self.path)

    # -- checking --------------------------------------------------------------------
    def check(self) -> None:
        """Find the mistakes of the condition (per part) and why the draft cannot be
        saved: the cursor's part first, then any part, then the whole journey."""
        self.errors = (ops.node_errors(self.condition, self.names, self.segment_check())
                       if self.t is not None else {})
        self.problem = self._problem()

    def _problem(self) -> str | None:
        d = self.draft
        if d is None:
            return "no journey"
        if self.path in self.errors:
            return self.where(self.path) + self.errors[self.path]
        if self.errors:
            path = min(self.errors)
            return self.where(path) + self.errors[path]
        stages = set(self.stage_names)
        for g in d.get("segments") or []:
            if isinstance(g, dict) and g.get("stage") not in stages:
                # (short: the pane shows two lines of it at 80 columns)
                return (f"segment '{safe_text(str(g.get('name')))}' needs the deleted stage "
                        f"'{safe_text(str(g.get('stage')))}': u undoes the delete (or move "
                        "the segment in its journey file)")
        try:
            j = parse_journey(d, source=safe_text(d.get("name", "journey")))
            if self.names is not None:
                check_against_store(j, self.names, source=safe_text(j.name))  # type: ignore[arg-type]
        except JourneyError as exc:
            return str(exc)
        return None

    def where(self, path: Path) -> str:
        """``any[2].clicked: `` — the part of the condition, as the domain names it."""
        parts: list[str] = []
        node = self.condition
        for i in path:
            key = key_of(node) if node is not None else "?"
            parts.append(f"{key}[{i + 1}]" if key in GROUPS else key)
            node = ops.children(node)[i] if node is not None else None
        if node is not None:
            parts.append(key_of(node))
        return ".".join(parts) + ": "

    # -- saving ----------------------------------------------------------------------
    def saved_as(self, name: str, version: int) -> None:
        """The draft was saved as *version* of *name*: it is the saved journey now
        (the undo history stays)."""
        assert self.draft is not None
        t = self.t
        self.load(name, copy.deepcopy(self.draft), version, keep_history=True)
        self.t = t

    def as_copy(self, existing: set[str]) -> dict[str, Any]:
        """Rename the draft to a free copy name (to save it as a new journey)."""
        assert self.draft is not None
        new = copy.deepcopy(self.draft)
        new["name"] = copy_name(new["name"], existing)
        self.draft = new
        return copy.deepcopy(new)


__all__ = ["ENTRY", "LEAF_KINDS", "EditorState", "NoTransition", "copy_name",
           "new_definition"]

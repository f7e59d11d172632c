"""The fields of the highlighted leaf: one compact input per field; a field that
names an email, list, form, link or page offers the store's names as you type (a
segment: the open journey's segment names) —
the best prefix completion inline (→ accepts it) and the best fuzzy matches in a
short list below (↓/↑ choose, Enter takes one)."""

from __future__ import annotations

from typing import Any, ClassVar

from rapidfuzz import fuzz, process
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from journeytui.editor.draft import (
    FIELDS,
    LEAF_KINDS,
    FieldSpec,
    Node,
    Path,
    field_text,
    key_of,
)
from journeytui.tui.journey_data import StoreChoices
from journeytui.tui.text import clean

MAX_MATCHES = 4


class PrefixSuggester(Suggester):
    """The first name that starts with what was typed (any case); → takes the name as
    it is written (a segment name must match exactly)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.names = names

    async def get_suggestion(self, value: str) -> str | None:
        low = value.casefold()
        for name in self.names:
            if name.casefold().startswith(low) and len(name) > len(value):
                return name
        return None


def fuzzy_matches(text: str, names: list[str], limit: int = MAX_MATCHES) -> list[str]:
    """The names that best match *text* (all of them, in order, when it is empty)."""
    if not names:
        return []
    if not text.strip():
        return names[:limit]
    low = text.casefold()
    contains = [n for n in names if low in n.casefold()]
    found = process.extract(text, names, scorer=fuzz.WRatio, limit=limit * 2,
                            processor=str.casefold)
    fuzzy = [n for n, score, _ in found if score >= 50 and n not in contains]
    return (contains + fuzzy)[:limit]


class FieldInput(Input):
    """An input that drives the match list below it (↓/↑/Enter)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "match(1)", "Next match", show=False, id="field.next-match"),
        Binding("up", "match(-1)", "Previous match", show=False, id="field.previous-match"),
    ]

    def __init__(self, spec: FieldSpec, value: str, names: list[str], **kwargs: Any) -> None:
        super().__init__(
            value, placeholder=spec.hint, compact=True, select_on_focus=False,
            suggester=PrefixSuggester(names) if names else None, **kwargs,
        )
        self.spec = spec
        self.names = names

    def action_match(self, delta: int) -> None:
        fields = self.query_ancestor(ConditionFields)
        fields.move_match(delta)


class ConditionFields(Vertical):
    """The kind and fields of one leaf (or a word about a group)."""

    DEFAULT_CSS = """
    ConditionFields { height: auto; padding: 0 0; border-top: solid $primary 40%; }
    ConditionFields > #fields-kind { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ConditionFields > #fields-rows { height: auto; }
    ConditionFields .field-row { height: 1; }
    ConditionFields .field-label { width: 13; color: $text-muted; }
    ConditionFields FieldInput { width: 1fr; }
    ConditionFields > #fields-matches { height: auto; max-height: 4; display: none;
        border: none; padding: 0; background: $panel; }
    ConditionFields > #fields-matches.-shown { display: block; }
    """

    class Changed(Message):
        def __init__(self, path: Path, name: str, value: str) -> None:
            super().__init__()
            self.path = path
            self.name = name
            self.value = value

    class Done(Message):
        """Enter in the last field, or Esc: back to the tree."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path: Path | None = None
        self.kind: str | None = None
        self.choices = StoreChoices()
        self.segments: list[str] = []  # the open journey's segment names
        self._matches: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="fields-kind", markup=False)
        yield Vertical(id="fields-rows")
        yield OptionList(id="fields-matches")

    def names_for(self, spec: FieldSpec, node: Node) -> list[str]:
        c = self.choices
        if spec.kind == "email":
            return c.emails
        if spec.kind == "list":
            return c.lists
        if spec.kind == "form":
            return c.forms
        if spec.kind == "page":
            return c.pages
        if spec.kind == "segment":
            return self.segments
        if spec.kind == "link":
            email = (node.get(key_of(node)) or {}).get("email")
            return c.links.get(email, []) if email else c.all_links()
        if spec.kind == "match":
            return ["contains", "exact"]
        if spec.kind == "bool":
            return ["yes", "no"]
        return []

    async def show(self, path: Path | None, node: Node | None) -> None:
        """Show the fields of *node* (rebuilt only when the leaf or its kind changes)."""
        kind = key_of(node) if node is not None else None
        label = self.query_one("#fields-kind", Static)
        if node is None or kind not in LEAF_KINDS:
            self.path, self.kind = path, kind
            await self.query_one("#fields-rows", Vertical).remove_children()
            self._hide_matches()
            words = {
                "all": "A group: all of its parts must hold. K: any ↔ all",
                "any": "A group: at least one part must hold. K: any ↔ all",
                "not": "not: holds when its part does not. n unwraps it",
            }
            label.update(Text(words.get(kind or "", "No part selected."), style="dim"))
            return
        title = Text(no_wrap=True, overflow="ellipsis", end="")
        title.append("Kind ", style="bold")
        title.append(LEAF_KINDS[kind])
        title.append("  (K: kind · Enter: fields)", style="dim")
        label.update(title)
        if path == self.path and kind == self.kind:
            for field in self.query(FieldInput):
                text = field_text(node, field.spec.name)
                if field.value != text and not field.has_focus:
                    field.value = text
                if field.spec.kind in ("link", "segment"):  # (other email; journey)
                    field.names = self.names_for(field.spec, node)
                    field.suggester = PrefixSuggester(field.names)
            return
        self.path, self.kind = path, kind
        rows = self.query_one("#fields-rows", Vertical)
        await rows.remove_children()
        widgets = []
        for spec in FIELDS[kind]:
            names = self.names_for(spec, node)
            row = Horizontal(
                Label(spec.label, classes="field-label", markup=False),
                FieldInput(spec, field_text(node, spec.name), names,
                           id=f"field-{spec.name}"),
                classes="field-row",
            )
            widgets.append(row)
        await rows.mount_all(widgets)
        self._hide_matches()

    def first_input(self) -> FieldInput | None:
        inputs = list(self.query(FieldInput))
        return inputs[0] if inputs else None

    # -- the match list --------------------------------------------------------------
    def _focused_input(self) -> FieldInput | None:
        focused = self.screen.focused
        return focused if isinstance(focused, FieldInput) and focused in self.query(
            FieldInput) else None

    def _refresh_matches(self, field: FieldInput) -> None:
        matches = fuzzy_matches(field.value, field.names)
        if field.value in matches and len(matches) == 1:
            matches = []
        self._matches = matches
        options = self.query_one("#fields-matches", OptionList)
        options.clear_options()
        if not matches:
            self._hide_matches()
            return
        options.add_options([Option(Text(clean(m)), id=str(i)) for i, m in enumerate(matches)])
        options.highlighted = None
        options.add_class("-shown")

    def _hide_matches(self) -> None:
        self._matches = []
        self.query_one("#fields-matches", OptionList).remove_class("-shown")

    def move_match(self, delta: int) -> None:
        options = self.query_one("#fields-matches", OptionList)
        if not self._matches:
            field = self._focused_input()
            if field is not None:
                self._refresh_matches(field)
            return
        current = options.highlighted
        if current is None:
            options.highlighted = 0 if delta > 0 else len(self._matches) - 1
        else:
            options.highlighted = max(0, min(len(self._matches) - 1, current + delta))

    def on_descendant_focus(self, event: Any) -> None:
        field = self._focused_input()
        if field is not None and field.names:
            self._refresh_matches(field)
        else:
            self._hide_matches()

    def on_descendant_blur(self, event: Any) -> None:
        if self._focused_input() is None:
            self._hide_matches()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        field = event.input
        if not isinstance(field, FieldInput) or self.path is None:
            return
        if field.has_focus and field.names:
            self._refresh_matches(field)
        self.post_message(self.Changed(self.path, field.spec.name, event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = event.input
        if not isinstance(field, FieldInput):
            return
        options = self.query_one("#fields-matches", OptionList)
        if self._matches and options.highlighted is not None:
            field.value = self._matches[options.highlighted]
            field.cursor_position = len(field.value)
            self._hide_matches()
            return
        inputs = list(self.query(FieldInput))
        index = inputs.index(field)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self._hide_matches()
            self.post_message(self.Done())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        field = self._focused_input()
        if field is not None:
            field.value = self._matches[int(event.option.id or 0)]

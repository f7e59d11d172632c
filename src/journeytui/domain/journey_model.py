"""The Journey model (the JSON schema of journey files and of stored definitions)
and its validation, with messages that name the part that is wrong.

A journey file::

    {
      "name": "Lead nurturing",
      "goal": "Turn newsletter readers into sales conversations",
      "stages": [{"name": "Browsing"}, {"name": "Interested"}, ...,
                 {"name": "At-risk", "exit": true}],
      "entry": {"any": [{"opened": {}}, {"clicked": {}}]},
      "transitions": [
        {"from": "Browsing", "to": "Interested", "priority": 10, "when": {...}},
        {"from": null, "to": "At-risk", "priority": 1, "when": {...}}
      ]
    }

``"from": null`` is a transition from any main-line stage (an exit such as
At-risk); it is not tried in exit stages, so leaving an exit stage takes a
transition of its own.  Stages
marked ``"exit": true`` are shown beside the main line of the funnel; the others,
in order, are the main line, and the first stage is where a contact enters.
``entry`` (default: any open or click) is the condition of that first step.
Transitions are tried in ascending ``priority`` (ties: in file order).

``segments`` (optional) are named follow-up lists a stage feeds::

    "segments": [
      {"name": "Recently at risk", "stage": "At-risk", "entered_within_days": 30},
      {"name": "Pricing, still interested", "stage": "Interested", "in_stage_days": 7,
       "clicked": "example.com/pricing"}
    ]

A contact is in a segment while it is in the segment's stage (as of the journey's
evaluation time, or at the moment of a check) and, when given, entered that stage at
most ``entered_within_days`` days before, has been in it at least ``in_stage_days``
days, and has clicked a link whose URL contains ``clicked`` (the condition's URL
rule).  A transition's condition can say ``{"in_segment": {"segment": NAME}}``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from journeytui.domain import conditions as _conditions
from journeytui.domain.conditions import (
    Condition,
    ConditionError,
    StoreNames,
    check_names,
    default_entry,
    dump,
)
from journeytui.textsafe import safe_text


class JourneyError(ConditionError):
    """A journey definition that cannot be used (names the part and why)."""


def _clean_name(value: str) -> str:
    value = value.strip()
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise ValueError("must not contain control characters")
    return value


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Stage(_Base):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    exit: bool = False
    description: Annotated[str, Field(max_length=500)] = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _clean_name(value)


class Transition(_Base):
    from_: str | None = Field(alias="from")
    to: str
    when: Condition
    priority: Annotated[int, Field(ge=0, le=1_000_000)] = 100


class Segment(_Base):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    stage: str
    entered_within_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    in_stage_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    clicked: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    description: Annotated[str, Field(max_length=500)] = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _clean_name(value)

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "stage": self.stage}
        for key in ("entered_within_days", "in_stage_days", "clicked", "description"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out

    def rule(self) -> str:
        """One readable line: who is in it."""
        text = f"in '{safe_text(self.stage)}'"
        if self.in_stage_days is not None:
            text += f" for at least {self.in_stage_days} day{'s' if self.in_stage_days > 1 else ''}"
        if self.entered_within_days is not None:
            n = self.entered_within_days
            text += f", entered it in the last {n} day{'s' if n > 1 else ''}"
        if self.clicked is not None:
            text += f", clicked a link containing '{safe_text(self.clicked)}'"
        return text


class Journey(_Base):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    goal: Annotated[str, Field(max_length=500)] = ""
    stages: Annotated[list[Stage], Field(min_length=1, max_length=50)]
    entry: Condition = Field(default_factory=default_entry)
    transitions: Annotated[list[Transition], Field(max_length=200)] = []
    segments: Annotated[list[Segment], Field(max_length=50)] = []

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _clean_name(value)

    # -- derived -----------------------------------------------------------------------
    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    @property
    def main_line(self) -> list[str]:
        return [s.name for s in self.stages if not s.exit]

    @property
    def exits(self) -> list[str]:
        return [s.name for s in self.stages if s.exit]

    def segment(self, name: str) -> Segment | None:
        for seg in self.segments:
            if seg.name == name:
                return seg
        return None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "goal": self.goal,
            "stages": [
                {"name": s.name, **({"exit": True} if s.exit else {}),
                 **({"description": s.description} if s.description else {})}
                for s in self.stages
            ],
            "entry": dump(self.entry),
            "transitions": [
                {"from": t.from_, "to": t.to, "priority": t.priority, "when": dump(t.when)}
                for t in self.transitions
            ],
            # (left out when there are none: older definitions read back unchanged)
            **({"segments": [g.to_json_dict() for g in self.segments]}
               if self.segments else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), indent=2, ensure_ascii=False) + "\n"


for _model in (Transition, Segment, Journey):
    _model.model_rebuild(_types_namespace=vars(_conditions))


def transition_label(j: Journey, index: int) -> str:
    """``transition 2 (Interested → Engaged)`` for the 0-based *index*."""
    t = j.transitions[index]
    src = safe_text(t.from_) if t.from_ is not None else "any stage"
    return f"transition {index + 1} ({src} → {safe_text(t.to)})"


# -- parsing and validation ------------------------------------------------------------
def _format_loc(loc: tuple[Any, ...], raw: Any) -> str:
    """Pydantic's error location as a path a person can follow."""
    parts: list[str] = []
    items = list(loc)
    i = 0
    if len(items) >= 2 and items[0] == "transitions" and isinstance(items[1], int):
        idx = items[1]
        label = f"transition {idx + 1}"
        try:
            t = raw["transitions"][idx]
            label += f" ({t.get('from') or 'any stage'} → {t.get('to')})"
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
        parts.append(safe_text(label))
        i = 2
        if i < len(items) and items[i] == "when":
            parts.append("condition")
            i += 1
    elif len(items) >= 2 and items[0] == "stages" and isinstance(items[1], int):
        parts.append(f"stage {items[1] + 1}")
        i = 2
    elif len(items) >= 2 and items[0] == "segments" and isinstance(items[1], int):
        parts.append(f"segment {items[1] + 1}")
        i = 2
    path = ""
    while i < len(items):
        p = items[i]
        if isinstance(p, int):
            path += f"[{p + 1}]"
        elif i + 1 < len(items) and items[i + 1] == p:
            i += 1  # the union tag repeats the key
            path += ("." if path else "") + str(p)
        else:
            path += ("." if path else "") + str(p)
        i += 1
    if path:
        if parts and parts[-1] == "condition":
            parts[-1] = f"condition {path}"
        else:
            parts.append(path)
    return ", ".join(parts) if parts else "journey"


def parse_journey(raw: Any, *, source: str = "journey") -> Journey:
    """Validate *raw* (parsed JSON) as a Journey: shape, then structure."""
    if not isinstance(raw, dict):
        raise JourneyError(f"{source}: a journey is a JSON object with name, stages, transitions")
    try:
        j = Journey.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:5]:
            lines.append(f"{_format_loc(tuple(err['loc']), raw)}: {err['msg']}")
        more = len(exc.errors()) - 5
        if more > 0:
            lines.append(f"… and {more} more")
        raise JourneyError(f"{source}: " + "; ".join(lines)) from None
    check_structure(j, source=source)
    return j


def parse_journey_text(text: str, *, source: str = "journey") -> Journey:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JourneyError(
            f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    return parse_journey(raw, source=source)


def check_structure(j: Journey, *, source: str = "journey") -> None:
    """Impossible journeys: duplicate or unknown stage names, A → A, exit first stage."""
    seen: dict[str, int] = {}
    for i, s in enumerate(j.stages, start=1):
        key = s.name.casefold()
        if key in seen:
            raise JourneyError(
                f"{source}: stage {i}: the name '{safe_text(s.name)}' is already used by "
                f"stage {seen[key]}; stage names must differ"
            )
        seen[key] = i
    if j.stages[0].exit:
        raise JourneyError(
            f"{source}: stage 1 ('{safe_text(j.stages[0].name)}') is where contacts enter; "
            "it cannot be an exit stage"
        )
    names = set(j.stage_names)
    for i, t in enumerate(j.transitions):
        where = f"{source}: {transition_label(j, i)}"
        if t.from_ is not None and t.from_ not in names:
            raise JourneyError(f"{where}: from-stage '{safe_text(t.from_)}' is not a stage "
                               f"of this journey ({_list(j.stage_names)})")
        if t.to not in names:
            raise JourneyError(f"{where}: to-stage '{safe_text(t.to)}' is not a stage "
                               f"of this journey ({_list(j.stage_names)})")
        if t.from_ == t.to:
            raise JourneyError(f"{where}: goes from a stage to itself")
    check_segments(j, source=source)


def check_segments(j: Journey, *, source: str = "journey") -> None:
    """Segments name a stage of the journey, once each; a condition ``in_segment``
    names one of them, in a place where a contact can be in it: a segment holds the
    contacts in its stage, so it can hold only in a transition out of that stage (or
    one from any main-line stage, when it is a main-line stage) — never in the entry
    (nobody is in a stage yet), nor from another stage."""
    seen: dict[str, int] = {}
    names = set(j.stage_names)
    for i, g in enumerate(j.segments, start=1):
        where = f"{source}: segment {i} ('{safe_text(g.name)}')"
        key = g.name.casefold()
        if key in seen:
            raise JourneyError(f"{where}: the name is already used by segment {seen[key]}; "
                               "segment names must differ")
        seen[key] = i
        if g.stage not in names:
            raise JourneyError(f"{where}: stage '{safe_text(g.stage)}' is not a stage of this "
                               f"journey ({_list(j.stage_names)})")
        if (g.in_stage_days is not None and g.entered_within_days is not None
                and g.in_stage_days > g.entered_within_days):
            raise JourneyError(
                f"{where}: in the stage for at least {g.in_stage_days} days but entered it "
                f"within the last {g.entered_within_days}: nobody can be in it")
    known = {g.name: g for g in j.segments}
    order = {n: k for k, n in enumerate(j.stage_names)}

    def check(node: Any, where: str, from_: str | None, entry: bool) -> None:
        for leaf in _conditions.iter_leaves(node):
            if _conditions.node_key(leaf) != "in_segment":
                continue
            name = _conditions.spec_of(leaf).segment
            g = known.get(name)
            if g is None:
                have = (f"its segments: {_list(list(known))}" if known
                        else "it defines no segments")
                raise JourneyError(f"{where}: condition in_segment: this journey has no "
                                   f"segment '{safe_text(name)}' ({have})")
            why = None
            if entry:
                why = "a contact entering the journey is in no stage yet"
            elif from_ is None and j.stages[order[g.stage]].exit:
                why = (f"it holds contacts in the exit stage '{safe_text(g.stage)}', and a "
                       "transition from any stage is tried in main-line stages only")
            elif from_ is not None and from_ != g.stage:
                later = "a later" if order[g.stage] > order[from_] else "another"
                why = (f"it holds contacts in '{safe_text(g.stage)}' ({later} stage), and "
                       f"this transition is tried only while in '{safe_text(from_)}'")
            if why is not None:
                raise JourneyError(f"{where}: condition in_segment '{safe_text(name)}' can "
                                   f"never hold: {why}")

    check(j.entry, f"{source}: entry", None, True)
    for i, t in enumerate(j.transitions):
        check(t.when, f"{source}: {transition_label(j, i)}", t.from_, False)


def _list(names: list[str]) -> str:
    return ", ".join(f"'{safe_text(n)}'" for n in names)


def check_against_store(j: Journey, names: StoreNames, *, source: str = "journey") -> None:
    """Refuse conditions naming emails, lists, forms or links the store lacks."""
    try:
        check_names(j.entry, names, f"{source}: entry")
        for i in range(len(j.transitions)):
            check_names(j.transitions[i].when, names, f"{source}: {transition_label(j, i)}")
    except ConditionError as exc:
        raise JourneyError(str(exc)) from None

"""The stages of a draft journey, edited as a whole (the stages dialog works on one
:class:`StagesEdit` and hands back its journey): add, rename (the transitions and the
segments follow), delete (refused while a transition uses the stage; a segment that
uses it makes the save refused, naming it), exit on/off, reorder."""

from __future__ import annotations

import copy
from typing import Any

from journeytui.errors import UserError


class StageError(UserError):
    """A stage edit that cannot be made (a duplicate name, a stage still in use)."""


class StagesEdit:
    """A copy of a draft journey whose stages are being edited."""

    def __init__(self, journey: dict[str, Any]) -> None:
        self.journey: dict[str, Any] = copy.deepcopy(journey)
        self.journey.setdefault("stages", [])
        self.journey.setdefault("transitions", [])

    @property
    def stages(self) -> list[dict[str, Any]]:
        return self.journey["stages"]  # type: ignore[no-any-return]

    def names(self) -> list[str]:
        return [s["name"] for s in self.stages]

    def _check_free(self, name: str, *, but: int | None = None) -> None:
        if any(n.casefold() == name.casefold() for i, n in enumerate(self.names()) if i != but):
            raise StageError(f"A stage named '{name}' already exists.")

    def add(self, name: str, after: int) -> int:
        """Add *name* after stage *after* (first when there is none); its index."""
        self._check_free(name)
        at = after + 1 if self.stages else 0
        self.stages.insert(at, {"name": name})
        return at

    def rename(self, i: int, name: str) -> None:
        """Rename stage *i*; the transitions from and to it and the segments it feeds
        follow (a condition ``in_segment`` names the segment, so it keeps working)."""
        old = self.stages[i]["name"]
        if name == old:
            return
        self._check_free(name, but=i)
        self.stages[i]["name"] = name
        for t in self.journey["transitions"]:
            if t.get("from") == old:
                t["from"] = name
            if t.get("to") == old:
                t["to"] = name
        for g in self.journey.get("segments") or []:
            if isinstance(g, dict) and g.get("stage") == old:
                g["stage"] = name

    def users(self, i: int) -> list[int]:
        """The transitions (numbered from 1) that go from or to stage *i*."""
        name = self.stages[i]["name"]
        return [n for n, t in enumerate(self.journey["transitions"], start=1)
                if name in (t.get("from"), t.get("to"))]

    def delete(self, i: int) -> None:
        """Delete stage *i*; refused while a transition uses it."""
        users = self.users(i)
        if users:
            name = self.stages[i]["name"]
            raise StageError(
                f"Stage '{name}' is used by transition{'s' if len(users) > 1 else ''} "
                f"{', '.join(f't{u}' for u in users)}; delete or change those first.")
        del self.stages[i]

    def toggle_exit(self, i: int) -> None:
        stage = self.stages[i]
        if stage.get("exit"):
            stage.pop("exit")
        else:
            stage["exit"] = True

    def move(self, i: int, delta: int) -> int:
        """Move stage *i* up/down; where it now is."""
        j = i + delta
        if 0 <= j < len(self.stages):
            self.stages[i], self.stages[j] = self.stages[j], self.stages[i]
            return j
        return i

"""The live preview: per stage, the saved journey's funnel beside the draft's, with
the difference written as a signed number (so it reads without colour).  While only
an estimate of the draft is known, its figures read ``≈ 12,400 ±300`` (rounded to
what the margin allows) and the current counts are left out."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from journeytui.tui import fmt
from journeytui.tui.journey_data import FunnelFigures
from journeytui.tui.text import clean
from journeytui.tui.widgets.drawn_once import DrawnOnce


def signed(n: int) -> str:
    return "±0" if n == 0 else f"{n:+,}"


Margins = dict[tuple[str, Any], int]


def rounded(value: int, margin: int) -> tuple[int, int]:
    """*value* and *margin* to two significant digits of the margin (0: exact)."""
    if margin <= 0:
        return value, 0
    unit = 10 ** max(0, len(str(margin)) - 2)
    return round(value / unit) * unit, -(-margin // unit) * unit


def about(value: int, margin: int) -> str:
    """``≈12,400 ±300`` (just the number when the margin is 0)."""
    v, m = rounded(value, margin)
    return f"≈{v:,} ±{m:,}" if m else f"{v:,}"


def _width(rows: list[tuple[str, str, str, str, int]], delta: bool) -> int:
    """The columns' width for *rows* (the stage names cut at 14)."""
    width = min(14, max(len(r[0]) for r in rows)) + 2
    width += max(len(r[1]) for r in rows) + max(len(r[2]) for r in rows)
    return width + (max(len(r[3]) for r in rows) + 1 if delta else 0)


class ConditionPreview(DrawnOnce):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"preview--title", "preview--muted",
                                             "preview--up", "preview--down"}

    DEFAULT_CSS = """
    ConditionPreview { height: auto; padding: 0 1; }
    ConditionPreview > .preview--title { text-style: bold; }
    ConditionPreview > .preview--muted { color: $text-muted; }
    ConditionPreview > .preview--up { color: $success; text-style: bold; }
    ConditionPreview > .preview--down { color: $warning; text-style: bold; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.saved: FunnelFigures | None = None
        self.draft: FunnelFigures | None = None
        self.note = "Preview: edit a condition to see the funnel it would give."
        self.transition: int | None = None
        self.margins: Margins | None = None

    def show(self, saved: FunnelFigures | None, draft: FunnelFigures | None, note: str,
             transition: int | None = None, margins: Margins | None = None) -> None:
        """*transition*: the 1-based number of the transition being edited (its moves are
        shown too).  *margins*: *draft* is an estimate, ± these (see
        ``journeytui.domain.preview.Estimate``).  Shown again as it is (the cursor
        moved in the same draft), it is not drawn again."""
        same = (saved is self.saved and draft is self.draft and note == self.note
                and transition == self.transition and margins == self.margins)
        self.saved, self.draft, self.note = saved, draft, note
        self.transition = transition
        self.margins = margins
        if not same:
            self.redraw()

    def _moves(self, f: FunnelFigures | None, margins: Margins | None = None) -> str:
        if f is None or self.transition is None:
            return "…"
        t = next((t for t in f.transitions if t.number == self.transition), None)
        if t is None:
            return "new"
        if margins is not None:
            return about(t.moved, margins.get(("moved", t.number), 0))
        return fmt.num(t.moved)

    def _rows(self, order: list[str], saved: dict[str, Any], draft: dict[str, Any],
              margins: Margins | None, *, currents: bool,
              ) -> list[tuple[str, str, str, str, int]]:
        """Per stage: label, saved, draft, Δ (text) and Δ (its sign)."""
        rows = []
        for name in order:
            a, b = saved.get(name), draft.get(name)
            either = b if b is not None else a
            label = ("↳ " if either is not None and either.exit else "") + clean(name)
            left = "new" if not a else (f"{fmt.num(a.reached)} ({fmt.num(a.current)})"
                                        if currents else fmt.num(a.reached))
            m = margins.get(("reached", name), 0) if margins is not None and b else 0
            if self.draft is None:
                right = "…"
            elif not b:
                right = "gone"
            elif margins is not None:
                right = about(b.reached, m)
            else:
                right = (f"{fmt.num(b.reached)} ({fmt.num(b.current)})" if currents
                         else fmt.num(b.reached))
            d, shown = 0, ""
            if a and b:
                d = b.reached - a.reached
                shown = signed(d)
                if m:  # an estimate: the difference to what its margin allows
                    d = rounded(d, m)[0]
                    shown = "≈" + signed(d) if d else "≈0"
            rows.append((label, left, right, shown, d))
        return rows

    def drawing(self, width: int) -> RenderableType:
        muted = self.get_component_rich_style("preview--muted")
        margins = self.margins if self.draft is not None else None
        title = Text("Preview: reached (now)" if margins is None else
                     "Preview: reached (draft ≈ estimate)", style=self.get_component_rich_style(
            "preview--title"), no_wrap=True, overflow="ellipsis")
        note = Text(clean(self.note), style=muted)
        if self.saved is None and self.draft is None:
            return Group(title, note)
        saved = {s.name: s for s in (self.saved.stages if self.saved else [])}
        draft = {s.name: s for s in (self.draft.stages if self.draft else [])}
        order = list(draft) + [n for n in saved if n not in draft]
        up = self.get_component_rich_style("preview--up")
        down = self.get_component_rich_style("preview--down")
        rows = self._rows(order, saved, draft, margins, currents=True)
        room = width
        if _width(rows, True) > room:  # narrow: the reached counts alone
            rows = self._rows(order, saved, draft, margins, currents=False)
            title.plain = title.plain.replace(" (now)", "")
        with_delta = _width(rows, True) <= room  # (else Δ is left out: draft ± fits)
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, overflow="ellipsis", max_width=14)
        for _ in range(3 if with_delta else 2):
            table.add_column(justify="right", no_wrap=True)
        head = [Text(h, style="bold") for h in ("Stage", "Saved", "Draft", "Δ")]
        table.add_row(*head[:4 if with_delta else 3])
        for label, left, right, shown, d in rows:
            style = up if d > 0 else down if d < 0 else muted
            cells = [Text(label), Text(left), Text(right), Text(shown, style=style)]
            table.add_row(*cells[:4 if with_delta else 3])
        parts: list[RenderableType] = [title, table]
        if self.transition is not None:
            was, now = self._moves(self.saved), self._moves(self.draft, margins)
            moves = Text(f"t{self.transition} moved {was} → {now}", no_wrap=True,
                         overflow="ellipsis")
            if was.replace(",", "").isdigit() and now.replace(",", "").isdigit():
                d = int(now.replace(",", "")) - int(was.replace(",", ""))
                moves.append(f" ({signed(d)})", style=up if d > 0 else down if d < 0 else muted)
            parts.append(moves)
        return Group(*parts, note)

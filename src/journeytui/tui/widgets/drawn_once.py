"""A widget that draws its Rich renderable once per change, not once per question.

Textual asks a ``height: auto`` widget for its height by drawing its renderable in
full, then draws it again for its lines (and again for each frame its region is
repainted, after a resize, a move or a layout of the screen).  For a detail made of
Rich tables (an email's figures, the editor's preview) each drawing is milliseconds of
CPU, paid twice per key that changes it and again for keys that change nothing in it.

A :class:`DrawnOnce` keeps the lines it drew, keyed by what they depend on: a
generation bumped by :meth:`DrawnOnce.redraw` (the widget's own data changed), the
width and the styles (the base style and every component style, so a theme switch
draws anew).  Subclasses implement :meth:`DrawnOnce.drawing` (what ``render`` returned
before, for a given width of content) and call :meth:`DrawnOnce.redraw` where they
called ``refresh(layout=True)``.
"""

from __future__ import annotations

from typing import ClassVar, cast

from rich.console import RenderableType
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, RichVisual, Visual
from textual.widget import Widget


class DrawnOnce(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = set()

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._generation = 0
        self._drawn: tuple[object, list[Strip]] | None = None

    def drawing(self, width: int) -> RenderableType:
        """What the widget shows (a Rich renderable) *width* cells wide (its content
        region's width, which the widget's size does not say yet when Textual asks for
        the height); called once per change."""
        raise NotImplementedError

    def redraw(self) -> None:
        """The widget's data changed: draw it anew (its height may change too)."""
        self._generation += 1
        self.refresh(layout=True)

    def render(self) -> Visual:
        return _Drawn(self)

    def drawn_lines(self, width: int, style: Style) -> list[Strip]:
        """The lines of :meth:`drawing` at *width* on *style*, drawn on a change only."""
        components = tuple(self.get_component_rich_style(name)
                           for name in sorted(self.COMPONENT_CLASSES))
        key = (self._generation, width, style, components)
        if self._drawn is None or self._drawn[0] != key:
            visual = RichVisual(self, self.drawing(width))
            # what Textual passes (its styles stand for the rules map)
            options = RenderOptions(self.app.stylesheet.parse_style, cast(RulesMap, self.styles))
            self._drawn = (key, visual.render_strips(width, None, style, options))
        return self._drawn[1]


class _Drawn(Visual):
    """The visual of a :class:`DrawnOnce`: its kept lines, cut to the height asked."""

    def __init__(self, widget: DrawnOnce) -> None:
        self._widget = widget

    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        lines = self._widget.drawn_lines(width, style)
        return list(lines if height is None else lines[:height])

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        widget = self._widget
        drawing = widget.drawing(container_width)
        return RichVisual(widget, drawing).get_optimal_width(rules, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self._widget.drawn_lines(width, self._widget.visual_style))

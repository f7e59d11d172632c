"""The style of a cursor row in a Line-API widget."""

from __future__ import annotations

from rich.style import Style
from textual.scroll_view import ScrollView


def cursor_style(widget: ScrollView, component: str) -> Style:
    """The component's style with its background blended over the widget's (Rich
    styles have no alpha: ``$block-cursor-background 30%`` would be drawn opaque),
    and its own text colour when the theme gives one (the 16-colour theme does, so
    the row stays readable on dark and light terminals alike)."""
    styles = widget.get_component_styles(component)
    base = widget.background_colors[1]
    background = base + styles.background
    color = styles.color.rich_color if styles.has_rule("color") else None
    return Style(bgcolor=background.rich_color, color=color,
                 bold=styles.text_style.bold or None)

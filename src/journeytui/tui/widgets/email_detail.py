"""The detail of one email: every figure with its rate and denominator, the caveats,
the links, the warnings and a small funnel bar chart (PRODUCT.md §3).

Colour only underlines what the words already say: warnings start with "⚠ warning",
bars carry their numbers and rates.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

from journeytui.domain.stats import EmailRow, EmailStats
from journeytui.tui import fmt
from journeytui.tui.text import clean
from journeytui.tui.widgets.drawn_once import DrawnOnce

BAR_WIDTH = 24


def bar(value: int, maximum: int, width: int = BAR_WIDTH) -> str:
    """``████░░░`` of *width* cells; any non-zero value shows at least one block."""
    if maximum <= 0:
        return "░" * width
    filled = round(width * value / maximum)
    if value > 0:
        filled = max(1, filled)
    return "█" * filled + "░" * (width - filled)


class EmailDetail(DrawnOnce):
    """Renders one :class:`EmailRow` (or a hint when none is selected)."""

    DEFAULT_CSS = """
    EmailDetail { height: auto; padding: 0 1; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "email-detail--title",
        "email-detail--label",
        "email-detail--muted",
        "email-detail--warning",
        "email-detail--ok",
        "email-detail--bar",
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.email: EmailRow | None = None
        self.hint = "Loading emails…"

    def show(self, email: EmailRow | None, hint: str = "") -> None:
        self.email = email
        if hint:
            self.hint = hint
        self.redraw()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"email-detail--{name}")

    def drawing(self, width: int) -> RenderableType:
        email = self.email
        if email is None:
            return Text(self.hint, style=self._style("muted"))
        title = Text(no_wrap=False)
        title.append(clean(email.name), style=self._style("title"))
        if email.subject:
            title.append("  “" + clean(email.subject) + "”")
        meta = Text(style=self._style("muted"))
        meta.append(f"{email.status} · send time {fmt.when(email.send_at)}")
        if email.list_name:
            meta.append(" · list " + clean(email.list_name))
        if email.stats is None:
            note = Text(
                "Draft: not sent, so no statistics." if email.status == "draft"
                else "No statistics yet.",
                style=self._style("muted"),
            )
            return Group(title, meta, Text(""), note)
        return Group(title, meta, Text(""), *self._figures(email.stats))

    def _figures(self, s: EmailStats) -> list[RenderableType]:
        label = self._style("label")
        muted = self._style("muted")
        delivered = s.delivered
        figures = Table.grid(padding=(0, 2))
        figures.add_column(style=label, no_wrap=True)
        figures.add_column(justify="right", no_wrap=True)
        figures.add_column(no_wrap=False)

        def rate_of(r: float | None, denominator: int, what: str) -> Text:
            if r is None:
                return Text(f"{fmt.DASH} of 0 {what}", style=muted)
            return Text(f"{fmt.pct(r)} of {denominator:,} {what}")

        figures.add_row("Sent", fmt.num(s.sent), Text("recipients (each send counts)", style=muted))
        figures.add_row("Delivered", fmt.num(delivered), rate_of(s.delivery_rate, s.sent, "sent"))
        figures.add_row(
            "", "",
            Text(
                f"bounced {s.bounced:,}: {s.bounced_hard:,} hard, {s.bounced_soft:,} soft"
                + (f"; {s.dropped:,} dropped by the provider, not sent" if s.dropped else ""),
                style=muted,
            ),
        )
        figures.add_row("Opened*", fmt.num(s.opened), rate_of(s.open_rate, delivered, "delivered"))
        figures.add_row(
            "", "",
            Text(f"{s.opens_total:,} opens; {s.machine_opens:,} machine opens left out",
                 style=muted),
        )
        figures.add_row("Clicked", fmt.num(s.clicked), rate_of(s.click_rate, delivered,
                                                                "delivered"))
        figures.add_row(
            "", "",
            Text(f"{s.clicks_total:,} clicks; click-to-open ", style=muted).append(
                rate_of(s.click_to_open, s.opened, "openers")
            ),
        )
        if s.clicks_total:
            # the consent gap, where the click figures are: the two parts add up
            named = s.clicks_total - s.anonymous_clicks
            figures.add_row(
                "", "",
                Text(f"= {named:,} by contacts with tracking consent (listed in "
                     f"Activities) + {s.anonymous_clicks:,} anonymous (no consent)",
                     style=muted),
            )
        figures.add_row("Bot clicks", fmt.num(s.bot_clicks),
                        Text("suspected, counted apart (not in Clicked)", style=muted))
        figures.add_row("Unsubscribed", fmt.num(s.unsubscribed),
                        rate_of(s.unsubscribe_rate, delivered, "delivered"))
        figures.add_row("Spam reports", fmt.num(s.spam_reports),
                        rate_of(s.spam_rate, delivered, "delivered"))
        caveat = Text(
            "* Opens are a weak signal: privacy proxies (e.g. Apple Mail) open every "
            "email; clicks are the headline figure.",
            style=muted,
        )
        parts: list[RenderableType] = [figures, caveat, Text("")]
        if s.variants:
            parts.extend(self._variants(s))
        parts.append(self._warnings(s))
        parts.append(Text(""))
        parts.append(Text("Funnel", style=label))
        parts.append(self._funnel(s))
        parts.append(Text(""))
        parts.append(self._links(s))
        return parts

    def _variants(self, s: EmailStats) -> list[RenderableType]:
        """The A/B test's variants, under the totals (README: What the numbers mean)."""
        muted = self._style("muted")
        table = Table(
            box=None, padding=(0, 1), show_edge=False, expand=False,
            header_style=self._style("label"),
        )
        table.add_column("Variant", overflow="ellipsis", no_wrap=True, max_width=28)
        for title in ("Sent", "Deliv.", "Opened", "Clicked", "Unsub", "Spam"):
            table.add_column(title, justify="right", no_wrap=True)
        for v in s.variants:
            table.add_row(
                Text(clean(v.label), style=muted if v.variant is None else ""),
                fmt.num(v.sent), fmt.num(v.delivered), fmt.num(v.opened),
                fmt.num(v.clicked), fmt.num(v.unsubscribed), fmt.num(v.spam_reports),
            )
        note = Text("Opened, Clicked, Unsub and Spam by variant: contacts with tracking "
                    "consent only (the totals above count every recipient).", style=muted)
        return [Text("Variants (A/B test)", style=self._style("label")), table, note, Text("")]

    def _warnings(self, s: EmailStats) -> Text:
        if not s.warnings:
            return Text("✓ no warnings", style=self._style("ok"))
        text = Text()
        for i, warning in enumerate(s.warnings):
            if i:
                text.append("\n")
            text.append("⚠ warning: " + clean(warning), style=self._style("warning"))
        return text

    def _funnel(self, s: EmailStats) -> Table:
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, style=self._style("bar"))
        table.add_column(justify="right", no_wrap=True)
        table.add_column(justify="right", no_wrap=True, style=self._style("muted"))
        steps = [
            ("sent", s.sent, None),
            ("delivered", s.delivered, s.delivery_rate),
            ("opened", s.opened, s.open_rate),
            ("clicked", s.clicked, s.click_rate),
        ]
        for name, value, r in steps:
            table.add_row(name, bar(value, s.sent), f"{value:,}", "" if r is None else fmt.pct(r))
        return table

    def _links(self, s: EmailStats) -> RenderableType:
        if not s.links:
            return Text("No tracked links.", style=self._style("muted"))
        table = Table(
            box=None, padding=(0, 1), show_edge=False, expand=False,
            header_style=self._style("label"),
        )
        table.add_column("Link", overflow="fold", ratio=1)
        table.add_column("unique", justify="right", no_wrap=True)
        table.add_column("total", justify="right", no_wrap=True)
        table.add_column("bot", justify="right", no_wrap=True)
        for link in s.links:
            table.add_row(Text(clean(link.url)), f"{link.clicked:,}", f"{link.clicks_total:,}",
                          f"{link.bot_clicks:,}")
        return table

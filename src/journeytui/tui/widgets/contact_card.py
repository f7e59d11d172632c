"""The contact card of the Contacts pane: consent, unsubscribe and spam report, lists,
the delivery summary (or why no mail reaches them), and where they are in each journey
with the moves that took them there.  Text from data is shown as text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from journeytui.domain.contacts import ContactCard
from journeytui.domain.delivery import DeliveryLog
from journeytui.domain.journeys import ContactMove, ContactStage
from journeytui.tui import fmt
from journeytui.tui.text import clean

SHOWN_MOVES = 2  # moves before the current stage shown on the card, per journey


def delivery_line(log: DeliveryLog | None, label: Style | str, muted: Style | str,
                  alert: Style | str) -> Text:
    """``Mail 3 sends: 2 delivered, 1 bounced (hard) · ✗ NO MAIL: …`` (d: the log)."""
    line = Text(overflow="fold")
    line.append("Mail ", style=label)
    if log is None:
        line.append("…", style=muted)
        return line
    line.append(log.summary())
    if log.no_mail is not None:
        line.append(" · ")
        line.append(f"✗ no mail: {clean(log.no_mail.text)}", style=alert)
    elif log.sends:
        line.append(" (d: delivery log)", style=muted)
    return line



@dataclass(frozen=True)
class JourneyPath:
    """Where the contact is in one journey, and how it got there (moves, oldest first)."""

    stage: ContactStage
    moves: tuple[ContactMove, ...]



def journey_line(j: JourneyPath, label: Style | str, muted: Style | str) -> Text:
    """``Lead nurturing: Browsing (03-02, Spring teaser) → ▸ Interested since …``: each
    move with its date and the email that triggered it; an exit stage says so."""
    line = Text(overflow="fold")
    line.append(f"{clean(j.stage.journey)}: ", style=label)
    before = list(j.moves[:-1] if j.moves and j.moves[-1].to_stage == j.stage.stage
                  else j.moves)
    if len(before) > SHOWN_MOVES:
        line.append(f"… {len(before) - SHOWN_MOVES} earlier → ", style=muted)
        before = before[-SHOWN_MOVES:]
    for m in before:
        line.append(clean(m.to_stage))
        line.append(f" ({fmt.when(m.at)[:10]}" + (f", {clean(m.email)}" if m.email else "")
                    + ") → ", style=muted)
    line.append(f"▸ {clean(j.stage.stage)}", style="bold")
    if j.stage.exit:
        line.append(" (exit stage)")
    if j.stage.since is not None:
        last = j.moves[-1] if j.moves else None
        via = f", {clean(last.email)}" if last is not None and last.email else ""
        line.append(f" since {fmt.when(j.stage.since)}{via}", style=muted)
    return line


class CardView(Widget):
    """The contact card: consent, subscriptions, journeys."""

    DEFAULT_CSS = """
    CardView { height: auto; padding: 0 1; }
    CardView > .card--alert { text-style: bold; color: $error; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "card--title", "card--muted", "card--label", "card--alert"
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.card: ContactCard | None = None
        self.journeys: list[JourneyPath] = []
        self.delivery: DeliveryLog | None = None
        self.activities: int | None = None
        self.hint = "Type part of a name or address above; ↓ moves to the matches."

    def show(self, card: ContactCard | None, journeys: list[JourneyPath], hint: str = "",
             delivery: DeliveryLog | None = None) -> None:
        self.card = card
        self.journeys = journeys
        self.delivery = delivery
        self.activities = None
        if hint:
            self.hint = hint
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        muted = self.get_component_rich_style("card--muted")
        label = self.get_component_rich_style("card--label")
        card = self.card
        if card is None:
            return Text(self.hint, style=muted)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(clean(card.name) or "(no name)",
                    style=self.get_component_rich_style("card--title"))
        head.append(" <" + clean(card.address) + ">")
        consent = Text(overflow="fold")
        consent.append("Consent ", style=label)
        if card.consent:
            consent.append(f"✓ given {fmt.when(card.consent_at)}")
        elif card.consent_at is not None:
            consent.append(f"✗ revoked {fmt.when(card.consent_at)}")
        else:
            consent.append("✗ never given (no activities recorded)")
        consent.append(" · ")
        consent.append("Unsubscribed from all ", style=label)
        consent.append(
            f"✗ yes, {fmt.when(card.unsubscribed_all_at)}" if card.unsubscribed_all else "no"
        )
        if card.spam_reported_at is not None:
            consent.append(" · ")
            consent.append("Spam report ", style=label)
            consent.append(f"✗ {fmt.when(card.spam_reported_at)}, no further mail")
        lists = Text(overflow="fold")
        lists.append("Lists ", style=label)
        if not card.subscriptions:
            lists.append("none", style=muted)
        for i, sub in enumerate(card.subscriptions):
            if i:
                lists.append(" · ")
            lists.append(f"{clean(sub.list_name)}: {sub.status} ({fmt.when(sub.changed_at)})")
        lines: list[RenderableType] = [
            head, consent, lists,
            delivery_line(self.delivery, label, muted,
                          self.get_component_rich_style("card--alert")),
        ]
        if not self.journeys:
            journeys = Text(overflow="fold")
            journeys.append("Journeys ", style=label)
            journeys.append("in no journey yet", style=muted)
            lines.append(journeys)
        for j in self.journeys:
            lines.append(journey_line(j, label, muted))
        return Group(*lines)

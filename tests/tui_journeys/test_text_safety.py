"""Names from data (journey, stage, email, URL) are shown literally in both panes:
never parsed as markup, control characters made visible."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.domain.journey_model import Journey, Stage, Transition
from journeytui.domain.journeys import save_journey
from journeytui.store import Recorder, Store
from journeytui.tui.panes.conditions import ConditionsPane
from journeytui.tui.panes.journeys import JourneysPane

T0 = 1_767_261_600
EMAIL = "[bold]Teaser[/] \x1b[31mred"
URL = "https://evil.example/[red]x[/red]"
JOURNEY = "[i]Trap[/i]"
STAGE = "[red]Looked[/red]"


@pytest.fixture
def nasty_db(tmp_path: Path) -> Path:
    path = tmp_path / "nasty.db"
    store = Store.create(path, token_key=b"k" * 16)
    with store.transaction():
        rec = Recorder(store)
        list_id = rec.ensure_list("News")
        email_id = rec.ensure_email(EMAIL, subject="s", list_id=list_id, status="sent",
                                    send_at=T0)
        c = rec.contact("mallory@example.com", first_name="[b]Mal[/b]", consent=True,
                        at=T0 - 100)
        assert c is not None
        rec.send(email_id, c, T0)
        rec.click(email_id, c, URL, T0 + 3600)
    j = Journey(
        name=JOURNEY,
        stages=[Stage(name="Start"), Stage(name=STAGE)],
        transitions=[Transition.model_validate(
            {"from": "Start", "to": STAGE, "when": {"clicked": {"email": EMAIL, "url": "[red]"}}}
        )],
    )
    save_journey(store, j)
    store.close()
    return path


async def test_names_are_literal(nasty_db: Path, app_factory, settle) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(nasty_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        funnel = app.main.query_one("#journeys", JourneysPane)
        lines = "\n".join(funnel.funnel.plain_lines())
        assert STAGE in lines  # the brackets are text
        assert "\x1b" not in lines
        assert "Teaser" in lines and "\\x1b" in lines  # made visible, not sent
        head = str(app.main.query_one("#journeys-head").render())
        assert JOURNEY in head
        await pilot.press("5")
        await settle(pilot)
        editor = app.main.query_one("#conditions", ConditionsPane)
        assert editor.journey_name == JOURNEY
        rendered = str(app.main.query_one("#cond-render").render())
        assert "[bold]Teaser[/]" in rendered and "'[red]'" in rendered
        assert "\x1b" not in rendered
        assert editor.problem is None, editor.problem

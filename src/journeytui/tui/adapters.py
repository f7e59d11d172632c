"""Small read-only queries the TUI needs that the domain does not offer (yet).

Plain functions of a Store, run in worker threads like the domain calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from journeytui.store import Store


@dataclass(frozen=True)
class JourneyStage:
    journey: str
    stage: str | None  # None: the contact has not entered this journey
    since: int | None


def contact_journeys(store: Store, contact_id: int) -> list[JourneyStage]:
    """The contact's current stage in each journey, as the engine last stored it.

    Uses ``journeytui.domain.engine.contact_stages`` when the engine offers it;
    otherwise reads the engine's ``journey_positions`` table.
    """
    try:
        from journeytui.domain import engine  # type: ignore[attr-defined]

        stages = getattr(engine, "contact_stages", None)
    except ImportError:
        stages = None
    if stages is not None:
        return [
            JourneyStage(str(j), s, t) for j, s, t in stages(store, contact_id)
        ]
    tables = {r[0] for r in store.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "journey_positions" not in tables:
        return []
    rows = store.conn.execute(
        "SELECT j.name, p.stage, p.since FROM journeys j"
        " LEFT JOIN journey_positions p ON p.journey_id = j.id AND p.contact_id = ?"
        " ORDER BY j.name",
        (contact_id,),
    )
    return [JourneyStage(name, stage, since) for name, stage, since in rows]

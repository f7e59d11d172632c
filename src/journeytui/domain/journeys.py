"""Stored journeys: save (with versions and optimistic concurrency), load, list,
delete, export.

Every save that changes a definition writes a new row in ``journey_versions``,
bumps ``journeys.version`` and re-evaluates that journey fully, all in one
transaction.  Saving a definition identical to the stored one changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from journeytui.domain.conditions import StoreNames
from journeytui.domain.journey_model import (
    Journey,
    JourneyError,
    check_against_store,
    check_structure,
    parse_journey_text,
)
from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.store.evaluation_time import resolved_sql
from journeytui.textsafe import safe_text

__all__ = [
    "ConflictError",
    "ContactMove",
    "ContactStage",
    "Journey",
    "JourneyError",
    "JourneyNotFound",
    "contact_moves",
    "contact_stages",
    "delete_journey",
    "export_journey",
    "get_journey",
    "list_journeys",
    "list_versions",
    "load_file",
    "read_file",
    "restore_version",
    "save_journey",
]


class JourneyNotFound(UserError):
    def __init__(self, name: str, conn: sqlite3.Connection | None = None) -> None:
        known: list[str] = []
        if conn is not None:
            known = [r[0] for r in conn.execute("SELECT name FROM journeys ORDER BY name")]
        hint = (" Journeys in this store: " + ", ".join(f"'{safe_text(k)}'" for k in known)
                if known else " This store has no journeys yet; load one with "
                "`journeytui journey load FILE.json`.")
        super().__init__(f"no journey named '{safe_text(name)}'.{hint}")


class ConflictError(UserError):
    """Someone else saved the journey since it was read (optimistic concurrency)."""


def _from_definition(text: str, name: str) -> Journey:
    try:
        return parse_journey_text(text, source=f"stored journey '{safe_text(name)}'")
    except JourneyError as exc:
        raise JourneyError(f"{exc} (the stored definition is damaged; load a fixed file)") from None


@dataclass(frozen=True)
class JourneyInfo:
    id: int
    name: str
    goal: str
    stages: list[str]
    version: int
    updated_at: int
    evaluated_at: int | None


def list_journeys(store: Store) -> list[JourneyInfo]:
    out = []
    for jid, name, definition, version, updated, evaluated in store.conn.execute(
        "SELECT j.id, j.name, j.definition, j.version, j.updated_at, p.evaluated_at"
        " FROM journeys j LEFT JOIN journey_progress p ON p.journey_id = j.id ORDER BY j.name"
    ):
        j = _from_definition(definition, name)
        out.append(JourneyInfo(jid, name, j.goal, j.stage_names, version, updated, evaluated))
    return out


def get_journey(store: Store, name: str) -> tuple[Journey, int]:
    """The stored journey *name* and its version."""
    row = store.conn.execute(
        "SELECT definition, version FROM journeys WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        raise JourneyNotFound(name, store.conn)
    return _from_definition(row[0], name), int(row[1])


def validate_for_store(store: Store, j: Journey, *, source: str = "journey") -> None:
    check_structure(j, source=source)
    check_against_store(j, StoreNames(store.conn), source=source)


def _definition(j: Journey) -> str:
    return json.dumps(j.to_json_dict(), ensure_ascii=False, sort_keys=True)


def save_journey(
    store: Store,
    j: Journey,
    *,
    expected_version: int | None = None,
    original_name: str | None = None,
    at: int | None = None,
    now: int | None = None,
    source: str = "journey",
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Validate, save and re-evaluate *j*; returns its new version.

    *expected_version*: the version the editor started from; if the stored one
    differs, :class:`ConflictError` and nothing changes.  ``0`` means "must be new".
    *original_name*: the name it had when read (a rename).  *at*: the save time
    (default: the wall clock; the demo journeys pass the store's latest event time,
    so demo stores stay reproducible).  *now*: the evaluation time (default: the
    store's latest event).  *progress*: called with (contacts done, contacts in all)
    while the journey is evaluated (as :func:`journeytui.domain.engine.evaluate`).
    """
    from journeytui.domain.engine import evaluation_transaction

    validate_for_store(store, j, source=source)
    with evaluation_transaction(store) as (conn, evaluate_one):
        lookup = original_name if original_name is not None else j.name
        row = conn.execute(
            "SELECT id, version, definition FROM journeys WHERE name = ?", (lookup,)
        ).fetchone()
        current = int(row[1]) if row else 0
        if expected_version is not None and expected_version != current:
            if row is None:
                raise ConflictError(
                    f"journey '{safe_text(lookup)}' was deleted since you opened it; "
                    "nothing was saved"
                )
            if expected_version == 0:
                raise ConflictError(
                    f"a journey named '{safe_text(lookup)}' already exists; nothing was saved"
                )
            raise ConflictError(
                f"journey '{safe_text(lookup)}' was changed by someone else (now version "
                f"{current}, you started from version {expected_version}); nothing was saved. "
                "Reload it and make your change again."
            )
        if lookup != j.name:
            clash = conn.execute("SELECT 1 FROM journeys WHERE name = ?", (j.name,)).fetchone()
            if clash:
                raise UserError(
                    f"a journey named '{safe_text(j.name)}' already exists; nothing was saved"
                )
        definition = _definition(j)
        if row is not None and row[2] == definition and lookup == j.name:
            return current
        when = at if at is not None else int(time.time())
        version = current + 1
        if row is None:
            jid = int(conn.execute(
                "INSERT INTO journeys(name, definition, version, updated_at) VALUES (?, ?, ?, ?)",
                (j.name, definition, version, when),
            ).lastrowid or 0)
        else:
            jid = int(row[0])
            conn.execute(
                "UPDATE journeys SET name = ?, definition = ?, version = ?, updated_at = ?"
                " WHERE id = ?",
                (j.name, definition, version, when, jid),
            )
        conn.execute(
            "INSERT INTO journey_versions(journey_id, version, definition, saved_at)"
            " VALUES (?, ?, ?, ?)",
            (jid, version, definition, when),
        )
        evaluate_one(jid, version, j, now, progress)
        return version


def delete_journey(store: Store, name: str) -> None:
    with store.transaction() as conn:
        row = conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise JourneyNotFound(name, conn)
        conn.execute("DELETE FROM journeys WHERE id = ?", (row[0],))


@dataclass(frozen=True)
class VersionInfo:
    version: int
    saved_at: int
    stages: list[str]


def list_versions(store: Store, name: str) -> list[VersionInfo]:
    row = store.conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise JourneyNotFound(name, store.conn)
    out = []
    for version, definition, saved_at in store.conn.execute(
        "SELECT version, definition, saved_at FROM journey_versions WHERE journey_id = ?"
        " ORDER BY version", (row[0],)
    ):
        out.append(VersionInfo(version, saved_at, _from_definition(definition, name).stage_names))
    return out


def version_history(store: Store, name: str) -> list[tuple[VersionInfo, list[str]]]:
    """Every saved version of journey *name* with what changed from the one before
    ("first version" for the first, "no change" when a save changed nothing)."""
    from journeytui.domain.journey_diff import version_changes

    infos = list_versions(store, name)
    definitions = [get_version(store, name, v.version) for v in infos]
    return [(v, (version_changes(definitions[i - 1], definitions[i]) or ["no change"])
             if i else ["first version"]) for i, v in enumerate(infos)]


def get_version(store: Store, name: str, version: int) -> Journey:
    row = store.conn.execute(
        "SELECT v.definition FROM journey_versions v JOIN journeys j ON j.id = v.journey_id"
        " WHERE j.name = ? AND v.version = ?", (name, version)
    ).fetchone()
    if row is None:
        get_journey(store, name)  # raises JourneyNotFound when the journey is missing
        raise UserError(f"journey '{safe_text(name)}' has no version {version}")
    return _from_definition(row[0], name)


def restore_version(
    store: Store, name: str, version: int, *, expected_version: int | None = None
) -> int:
    """Save an old version again as the newest one (renames in it are ignored)."""
    old = get_version(store, name, version)
    if old.name != name:
        old = old.model_copy(update={"name": name})
    return save_journey(store, old, expected_version=expected_version)


def export_journey(store: Store, name: str) -> str:
    j, _ = get_journey(store, name)
    return j.to_json()


def read_file(path: str | Path) -> Journey:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: cannot read: {exc}") from None
    return parse_journey_text(text, source=str(p))


def load_file(store: Store, path: str | Path, *, now: int | None = None) -> tuple[Journey, int]:
    """Validate and save the journey in *path* (a file that does not validate changes
    nothing); returns it and its version."""
    j = read_file(path)
    return j, save_journey(store, j, now=now, source=str(path))


# -- one contact's place in every journey (contact card) ------------------------------
@dataclass(frozen=True)
class ContactStage:
    journey: str
    stage: str
    since: int | None
    exit: bool


@dataclass(frozen=True)
class ContactMove:
    journey: str
    from_stage: str | None
    to_stage: str
    at: int
    email: str | None
    provisional: bool


def contact_stages(store: Store, contact_id: int) -> list[ContactStage]:
    """The stage the contact is in, per journey it is in (journeys by name)."""
    out = []
    since_sql = resolved_sql("p.since", "g.evaluated_at")
    for name, definition, stage, since in store.conn.execute(
        f"SELECT j.name, j.definition, p.stage, {since_sql} FROM journey_positions p"
        " JOIN journeys j ON j.id = p.journey_id"
        " LEFT JOIN journey_progress g ON g.journey_id = p.journey_id"
        " WHERE p.contact_id = ? AND p.stage IS NOT NULL ORDER BY j.name", (contact_id,)
    ):
        exits = set(_from_definition(definition, name).exits)
        out.append(ContactStage(name, stage, since, stage in exits))
    return out


def contact_moves(store: Store, contact_id: int) -> list[ContactMove]:
    """Every move of the contact, oldest first (journey by name)."""
    at_sql = resolved_sql("m.at", "g.evaluated_at")  # provisional: at the evaluation time
    return [
        ContactMove(name, src, dst, at, email, bool(prov))
        for name, src, dst, at, email, prov in store.conn.execute(
            f"SELECT j.name, m.from_stage, m.to_stage, {at_sql} AS t, e.name, m.provisional"
            " FROM journey_moves m JOIN journeys j ON j.id = m.journey_id"
            " LEFT JOIN journey_progress g ON g.journey_id = m.journey_id"
            " LEFT JOIN emails e ON e.id = m.email_id"
            " WHERE m.contact_id = ? ORDER BY t, m.provisional, m.id", (contact_id,)
        )
    ]


def journey_id(store: Store, name: str) -> int | None:
    """The stored id of journey *name* (None: no such journey)."""
    row = store.conn.execute("SELECT id FROM journeys WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row else None


# -- names a condition can refer to (the editor's suggestions) -----------------------
@dataclass
class StoreChoices:
    emails: list[str] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)  # email name -> URLs
    pages: list[str] = field(default_factory=list)

    def all_links(self) -> list[str]:
        seen: dict[str, None] = {}
        for urls in self.links.values():
            for u in urls:
                seen.setdefault(u, None)
        return sorted(seen)


def store_choices(store: Store) -> StoreChoices:
    """The emails, lists, forms, links and pages (the first 500) of the store."""
    conn = store.conn
    links: dict[str, list[str]] = {}
    for email, url in conn.execute(
        "SELECT e.name, l.url FROM links l JOIN emails e ON e.id = l.email_id"
        " ORDER BY e.name, l.url"
    ):
        links.setdefault(email, []).append(url)
    return StoreChoices(
        emails=[r[0] for r in conn.execute("SELECT name FROM emails ORDER BY name")],
        lists=[r[0] for r in conn.execute("SELECT name FROM lists ORDER BY name")],
        forms=[r[0] for r in conn.execute(
            "SELECT DISTINCT value FROM activities WHERE kind = 'form' AND value IS NOT NULL"
            " ORDER BY value")],
        links=links,
        pages=[r[0] for r in conn.execute(
            "SELECT DISTINCT value FROM activities WHERE kind = 'visit' AND value IS NOT NULL"
            " ORDER BY value LIMIT 500")],
    )

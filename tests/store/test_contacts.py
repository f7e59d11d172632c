"""Fuzzy contact search, the card, the timeline, and forgetting a contact."""

from __future__ import annotations

import pytest

from journeytui.domain.contacts import (
    contact_card,
    count_timeline,
    find_contact,
    forget_contact,
    search_contacts,
    timeline,
)
from journeytui.domain.stats import email_stats
from journeytui.errors import UserError
from journeytui.store import Recorder, Store

T0 = 1_767_600_000  # as in conftest.py


@pytest.fixture
def people(small: Store) -> Store:
    with small.transaction():
        r = Recorder(small)
        for i, (first, last) in enumerate([
            ("John", "Smith"), ("Johanna", "Smythe"), ("Jon", "Smith"), ("Maria", "García"),
            ("Mario", "Rossi"), ("Anne-Marie", "de la Cruz"), ("Smith", "Adams"),
        ]):
            r.contact(f"p{i}.{last.lower().replace(' ', '')}@example.com",
                      first_name=first, last_name=last, at=T0)
    return small


def _names(matches: list) -> list[str]:
    return [m.name for m in matches]


def test_typo_finds_the_person(people: Store) -> None:
    assert _names(search_contacts(people, "jonh smiht"))[:2] in (
        ["John Smith", "Jon Smith"], ["Jon Smith", "John Smith"])


def test_exact_address_ranks_first(people: Store) -> None:
    matches = search_contacts(people, "P2.SMITH@example.com")
    assert matches[0].address == "p2.smith@example.com"
    assert matches[0].score > matches[1].score if len(matches) > 1 else True


def test_prefix_as_you_type(people: Store) -> None:
    assert {"Maria García", "Mario Rossi"} <= set(_names(search_contacts(people, "mar")))
    assert "Bob Jones" in _names(search_contacts(people, "bob.j"))


def test_part_of_a_multi_word_name(people: Store) -> None:
    assert "Anne-Marie de la Cruz" in _names(search_contacts(people, "cruz"))


def test_nothing_for_nonsense(people: Store) -> None:
    assert search_contacts(people, "zzqqxx") == []
    assert search_contacts(people, "   ") == []


def test_card_and_timeline(small: Store) -> None:
    anna = find_contact(small, "anna.smith@example.com")
    card = contact_card(small, anna)
    assert card.consent and card.name == "Anna Smith"
    assert [(s.list_name, s.status) for s in card.subscriptions] == [("News", "subscribed")]
    rows = timeline(small, anna, limit=None)
    assert [r.activity for r in rows] == ["click", "click", "open", "click", "open"]
    assert rows[0].value == "https://www.example.com/products/tracker"
    assert rows[0].email == "Teaser"
    assert count_timeline(small, anna) == 5
    assert [r.id for r in timeline(small, anna, before=rows[1].key, limit=2)] == [
        rows[2].id, rows[3].id]


def test_forget_erases_identity_keeps_statistics(small: Store) -> None:
    before = [s.to_json() for s in email_stats(small)]
    erased = forget_contact(small, "Anna.Smith@example.com")
    assert erased["activities"] == 5
    assert [s.to_json() for s in email_stats(small)] == before
    assert small.conn.execute(
        "SELECT count(*) FROM contacts WHERE email LIKE 'anna%'").fetchone()[0] == 0
    assert small.count("sends") == 3  # the send still counts, without a contact
    assert small.conn.execute("SELECT count(*) FROM sends WHERE contact_id IS NULL").fetchone()[0] == 1
    assert "anna" not in {r[0] for r in small.conn.execute("SELECT value FROM name_vocab")}
    small.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = small.path.read_bytes()
    assert b"anna.smith@example.com" not in raw
    assert search_contacts(small, "anna smith") == []
    with pytest.raises(UserError, match="no contact"):
        forget_contact(small, "anna.smith@example.com")


def test_every_word_counts_when_no_contact_has_both(people: Store) -> None:
    names = _names(search_contacts(people, "anna jones"))
    assert "Anna Smith" in names and "Bob Jones" in names
    best = search_contacts(people, "mari garc")[0]
    assert best.name == "Maria García"

"""Contacts CSV: names, consent granted and revoked, lists; bad files refused whole."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeytui.errors import UserError
from journeytui.importers._common import is_address
from journeytui.importers.contacts_csv import NOT_RESUBSCRIBED, import_contacts
from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Recorder
from tests.blank_store import blank_store

HEADER = "email,first_name,last_name,tracking_consent,lists\n"
NOW = 1_767_700_000


def _csv(kit: Any, body: str, name: str = "contacts.csv", header: str = HEADER) -> Path:
    return kit.text(header + body, name)


def _contacts(kit: Any) -> list[tuple[Any, ...]]:
    return kit.all(
        "SELECT email, first_name, last_name, consent, consent_at FROM contacts ORDER BY email"
    )


def _subs(kit: Any) -> list[tuple[Any, ...]]:
    return kit.all(
        "SELECT c.email, l.name, s.status, s.changed_at FROM subscriptions s"
        " JOIN contacts c ON c.id = s.contact_id JOIN lists l ON l.id = s.list_id"
        " ORDER BY c.email, l.name"
    )


def test_new_contacts_with_consent_names_and_lists(kit: Any) -> None:
    path = _csv(kit, (
        "Ann@Example.com,Ann,Lee,yes,Newsletter;Webinars\n"
        "bob@example.com,Bob,,no,Newsletter\n"
        '"cara@example.com","Cara, Jr.",Nunez,TRUE,\n'
    ))
    report = import_contacts(kit.store, path, now=NOW)
    assert _contacts(kit) == [
        ("ann@example.com", "Ann", "Lee", 1, NOW),
        ("bob@example.com", "Bob", "", 0, None),
        ("cara@example.com", "Cara, Jr.", "Nunez", 1, NOW),
    ]
    assert _subs(kit) == [
        ("ann@example.com", "Newsletter", "subscribed", NOW),
        ("ann@example.com", "Webinars", "subscribed", NOW),
        ("bob@example.com", "Newsletter", "subscribed", NOW),
    ]
    added = {k: v for k, v in report.added.items() if v}
    assert added == {"new_contacts": 3, "new_with_consent": 2, "subscriptions": 3, "new_lists": 2}
    assert report.records == 3 and not report.skipped


def test_reimport_updates_names_and_grants_or_revokes_consent(kit: Any) -> None:
    import_contacts(kit.store, _csv(kit, (
        "ann@example.com,Ann,Lee,yes,\n"
        "bob@example.com,Bob,Jones,no,\n"
        "cara@example.com,Cara,Nunez,no,\n"
    ), "first.csv"), now=NOW)
    report = import_contacts(kit.store, _csv(kit, (
        "ann@example.com,Anne,Lee,no,\n"  # renamed, consent revoked
        "bob@example.com,,,yes,\n"  # empty names kept, consent granted
        "cara@example.com,Cara,Nunez,0,\n"  # nothing changes
    ), "second.csv"), now=NOW + 100)
    assert _contacts(kit) == [
        ("ann@example.com", "Anne", "Lee", 0, NOW + 100),
        ("bob@example.com", "Bob", "Jones", 1, NOW + 100),
        ("cara@example.com", "Cara", "Nunez", 0, None),
    ]
    added = {k: v for k, v in report.added.items() if v}
    assert added == {
        "names_updated": 1, "consent_granted": 1, "consent_revoked": 1, "unchanged": 1,
    }


@pytest.mark.parametrize(
    ("value", "consent"),
    [("yes", 1), ("YES", 1), ("True", 1), ("1", 1), (" yes ", 1),
     ("no", 0), ("No", 0), ("FALSE", 0), ("0", 0)],
)
def test_consent_values(kit: Any, value: str, consent: int) -> None:
    import_contacts(kit.store, _csv(kit, f"ann@example.com,Ann,Lee,{value},\n"), now=NOW)
    assert kit.one("SELECT consent FROM contacts") == consent


def test_columns_in_any_order_and_case_and_optional_ones_left_out(kit: Any) -> None:
    path = _csv(kit, "yes, ann@example.com\n", header=" Tracking_Consent ,EMAIL\n")
    import_contacts(kit.store, path, now=NOW)
    assert _contacts(kit) == [("ann@example.com", "", "", 1, NOW)]


def test_consent_via_csv_decides_whether_sendgrid_activity_is_kept(kit: Any) -> None:
    import_contacts(kit.store, _csv(kit, "ann@example.com,Ann,Lee,yes,\n"), now=NOW)
    t = kit.T0
    import_sendgrid(kit.store, [kit.ndjson([
        kit.ev("processed", "ann@example.com", t),
        kit.ev("click", "ann@example.com", t + 300, url="https://x.example/"),
    ], "a.ndjson")])
    import_contacts(kit.store, _csv(kit, "ann@example.com,Ann,Lee,no,\n", "revoke.csv"), now=NOW)
    import_sendgrid(kit.store, [kit.ndjson([
        kit.ev("click", "ann@example.com", t + 900, url="https://x.example/"),
    ], "b.ndjson")])
    assert kit.one("SELECT count(*) FROM activities WHERE kind = 'click'") == 1
    s = kit.stats()
    assert (s["clicks_total"], s["clicked"], s["anonymous_clicks"]) == (2, 1, 1)


def test_an_unsubscribed_contact_is_not_subscribed_again(kit: Any) -> None:
    with kit.store.transaction():
        r = Recorder(kit.store)
        news = r.ensure_list("Newsletter")
        pend = r.ensure_list("Webinars")
        ann = r.contact("ann@example.com", at=NOW - 10)
        r.unsubscribe(ann, NOW - 5, list_id=news)
        r.subscribe(ann, pend, "pending", NOW - 5)
    path = _csv(kit, "ann@example.com,Ann,Lee,yes,Newsletter;Webinars;Offers\n")
    report = import_contacts(kit.store, path, now=NOW)
    assert _subs(kit) == [
        ("ann@example.com", "Newsletter", "unsubscribed", NOW - 5),
        ("ann@example.com", "Offers", "subscribed", NOW),
        ("ann@example.com", "Webinars", "pending", NOW - 5),
    ]
    assert report.skipped[NOT_RESUBSCRIBED].locations == [f"{path}:2 (Newsletter)"]
    assert "list kept unsubscribed" in "\n".join(report.lines())


BAD = [
    # (header, body, words in the message)
    ("email,first_name,last_name,lists\n", "a@example.com,A,B,\n",
     ["line 1", "missing column 'tracking_consent'"]),
    ("first_name,last_name,tracking_consent\n", "A,B,yes\n", ["missing column 'email'"]),
    ("email,frist_name,tracking_consent\n", "a@example.com,A,yes\n",
     ["line 1", "unknown column 'frist_name'"]),
    ("email,email,tracking_consent\n", "a@example.com,a@example.com,yes\n",
     ["column 'email' appears twice"]),
    ("", "", ["empty"]),
    ("email;first_name;last_name;tracking_consent;lists\n", "a@example.com;A;B;yes;\n",
     ["line 1", "separated by semicolons", "commas"]),
    # (tab-separated files are read since issue 15: tests/importers/test_import_contacts_real.py)
    (HEADER, "a@example.com,A,B,maybe,\n", ["1 problem", "line 2", "field 'tracking_consent'",
                                            "'maybe'", "yes/no, true/false or 1/0"]),
    (HEADER, "a@example.com,A,B,,\n", ["line 2", "field 'tracking_consent': ''"]),
    (HEADER, "a@example.com,A,B,yes,\nnot-an-address,C,D,no,\n",
     ["line 3", "field 'email': 'not-an-address' is not an email address"]),
    (HEADER, ",C,D,no,\n", ["line 2", "field 'email' is empty"]),
    (HEADER, "a@example.com,A,B,yes\n", ["line 2", "4 fields, the header has 5"]),
    (HEADER, "a@example.com,A,B,yes,\nA@Example.com,A,B,no,\n",
     ["line 3", "also on line 2"]),
    (HEADER, 'a@example.com,"A\nmulti-line",B,yes,\nb@example.com,B,B,perhaps,\n',
     ["line 4", "'perhaps'"]),
]


@pytest.mark.parametrize(("header", "body", "words"), BAD)
def test_a_bad_file_is_refused_whole(kit: Any, header: str, body: str, words: list[str]) -> None:
    import_contacts(kit.store, _csv(kit, "old@example.com,Old,One,yes,News\n", "old.csv"), now=1)
    before = kit.dump()
    path = _csv(kit, body, "bad.csv", header=header)
    with pytest.raises(UserError) as info:
        import_contacts(kit.store, path, now=NOW)
    message = str(info.value)
    assert message.startswith(f"{path}:")
    assert "othing was imported" in message
    for word in words:
        assert word in message
    assert kit.dump() == before


def test_every_bad_line_is_listed_up_to_a_limit(kit: Any) -> None:
    good = "".join(f"ok{i}@example.com,A,B,yes,\n" for i in range(5))
    bad = "".join(f"bad{i}@example.com,A,B,sure,\n" for i in range(25))
    path = _csv(kit, good + bad)
    with pytest.raises(UserError) as info:
        import_contacts(kit.store, path, now=NOW)
    message = str(info.value)
    assert "25 problems" in message
    assert "line 7:" in message and "line 26:" in message  # first and 20th bad line
    assert "line 27:" not in message
    assert "… and 5 more" in message
    assert kit.one("SELECT count(*) FROM contacts") == 0


def test_not_utf8_and_missing_file(kit: Any) -> None:
    p = kit.tmp / "latin1.csv"
    p.write_bytes(HEADER.encode() + b"r\xe9mi@example.com,R,M,yes,\n")
    with pytest.raises(UserError, match=r"line 2: not UTF-8"):
        import_contacts(kit.store, p)
    with pytest.raises(UserError, match="no such file"):
        import_contacts(kit.store, kit.tmp / "missing.csv")


def test_fixture_file(kit: Any) -> None:
    report = import_contacts(kit.store, Path(kit.DATA) / "contacts.csv", now=NOW)
    assert report.records == 4
    assert kit.one("SELECT count(*) FROM contacts WHERE consent = 1") == 2
    assert kit.all("SELECT name FROM lists ORDER BY name") == [("Newsletter",), ("Webinars",)]
    assert kit.one("SELECT first_name FROM contacts WHERE email = 'zoe.muller@example.de'") == "Zoë"


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("a@b.co", True),
        ("A.B+tag@sub.example.org", True),
        (" ann@example.com ", True),
        ("a@b", False),
        ("a b@c.com", False),
        ("a@@b.com", False),
        ("<a@b.com>", False),
        ("a@b.c.", False),
        ("a\x00b@example.com", False),
        ("ann@example.com\x1b[2J", False),
        ("ann@example.com;bob@example.com", False),
    ],
)
def test_address_check(address: str, ok: bool) -> None:
    assert is_address(address) is ok


_name = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(',;"\n'),
    max_size=12,
).map(str.strip)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(_name, _name, st.booleans(), st.lists(st.sampled_from(["A", "B b", "C,c"]))),
        min_size=1,
        max_size=8,
    )
)
def test_any_names_and_lists_round_trip_through_csv(rows: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["email", "first_name", "last_name", "tracking_consent", "lists"])
            for i, (first, last, consent, lists) in enumerate(rows):
                w.writerow([f"p{i}@example.com", first, last, "yes" if consent else "no",
                            ";".join(lists)])
        store = blank_store(Path(tmp) / "t.db", token_key=b"k" * 16)
        try:
            import_contacts(store, path, now=NOW)
            got = store.conn.execute(
                "SELECT email, first_name, last_name, consent FROM contacts ORDER BY id"
            ).fetchall()
            assert got == [
                (f"p{i}@example.com", first, last, int(consent))
                for i, (first, last, consent, _) in enumerate(rows)
            ]
            subs = store.conn.execute(
                "SELECT c.email, l.name FROM subscriptions s JOIN contacts c ON c.id = s.contact_id"
                " JOIN lists l ON l.id = s.list_id ORDER BY c.id, l.name"
            ).fetchall()
            assert subs == [
                (f"p{i}@example.com", name)
                for i, (_, _, _, lists) in enumerate(rows)
                for name in sorted(set(lists))
            ]
        finally:
            store.close()


@pytest.mark.parametrize(
    ("body", "field", "shown"),
    [
        ("ann@example.com,An\x00n,Lee,yes,News\n", "first_name", "a NUL character (\\x00)"),
        ("ann@example.com,Ann,Lee,yes,Ne\x00ws\n", "lists", "a NUL character (\\x00)"),
        ("ann@example.com,Ann,\x1b[2JLee,yes,News\n", "last_name", "a control character (\\x1b)"),
        ("ann@exa\x00mple.com,Ann,Lee,yes,News\n", "email", "a NUL character (\\x00)"),
    ],
    ids=["nul-in-name", "nul-in-lists", "esc-in-name", "nul-in-email"],
)
def test_nul_or_control_characters_in_a_cell_are_refused_with_line_and_field(
    kit: Any, body: str, field: str, shown: str
) -> None:
    path = _csv(kit, "ben@example.com,Ben,Ode,no,\n" + body)
    with pytest.raises(UserError) as info:
        import_contacts(kit.store, path)
    message = str(info.value)
    assert f"line 3: field '{field}' holds {shown}" in message
    assert "nothing was imported" in message and "\x00" not in message
    assert kit.store.count("contacts") == 0

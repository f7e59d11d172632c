"""Contacts from real exports (data/realworld/contacts/, sources in
../shared/realworld/README.md): each imports with at most one flag (the preset is
recognised from the header; consent given explicitly); TSV, JSON, NDJSON; --map;
Mailchimp unsubscribed/cleaned exports and the export ZIP.  Expected values by hand."""

from __future__ import annotations

import calendar
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.errors import UserError
from journeytui.importers.contacts_csv import import_contacts

DATA = Path(__file__).parent / "data" / "realworld" / "contacts"
NOW = 1_767_600_000


def _contacts(kit: Any) -> list[tuple[Any, ...]]:
    return kit.store.conn.execute(
        "SELECT email, first_name, last_name, consent, unsubscribed_all, unsubscribed_all_at"
        " FROM contacts ORDER BY email").fetchall()


def _utc(*t: int) -> int:
    return calendar.timegm((*t, 0, 0, 0))


def test_mailchimp_export_with_tags(kit: Any) -> None:
    report = import_contacts(kit.store, DATA / "mailchimp_export_with_tags.csv", consent=True,
                             now=NOW)
    assert _contacts(kit) == [("mc@x.fr", "Marc", "C", 1, 0, None)]  # UNSUB_TIME empty
    notes = "\n".join(report.notes)
    assert "preset mailchimp (subscribed export), recognised from the header" in notes
    assert "TAGS" in notes and "Phone Number" in notes  # ignored, and named
    assert "assumed tracking consent YES" in notes


def test_mailchimp_subscribed_2015(kit: Any) -> None:
    import_contacts(kit.store, DATA / "mailchimp_subscribed_export_2015.csv", consent=False,
                    now=NOW)
    assert _contacts(kit) == [("mail@example.com", "", "", 0, 0, None)]


def test_mailchimp_unsubscribed_2013(kit: Any) -> None:
    # an unsubscribed export (UNSUB_REASON…); UNSUB_TIME is empty, so the time is
    # LAST_CHANGED "2013-06-27 12:11:50" (UTC); "Name" is split into first and last
    report = import_contacts(kit.store, DATA / "mailchimp_unsubscribed_export_header_2013.csv",
                             consent=False, now=NOW)
    assert _contacts(kit) == [
        ("ann@example.com", "Ann", "Example", 0, 1, _utc(2013, 6, 27, 12, 11, 50))]
    assert report.added["unsubscribed_all"] == 1


def test_sendgrid_docs_upload(kit: Any) -> None:
    report = import_contacts(kit.store, DATA / "sendgrid_docs_example_upload.csv",
                             consent=False, now=NOW)
    rows = _contacts(kit)
    # ten rows; "exampexample@example.comom" is odd but a well-formed address
    assert len(rows) == 10 and ("exampexample@example.comom", "", "", 0, 0, None) in rows
    assert "ignored columns (4): age, country, favorite_color, registration_date" in \
        "\n".join(report.notes)


def test_sendgrid_marketing_export(kit: Any) -> None:
    import_contacts(kit.store, DATA / "sendgrid_mc_contacts_export.csv", consent=True, now=NOW)
    assert _contacts(kit) == [("ada@example.com", "Ada", "Lovelace", 1, 0, None),
                              ("grace@example.com", "Grace", "Hopper", 1, 0, None)]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.csv")))
def test_each_real_file_needs_only_consent_and_reimport_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    db = tmp_path / "s.db"
    # without --consent: refused, saying what to give
    assert main(["import", "contacts", str(DATA / name), "--db", str(db)]) == 2
    assert "--consent yes or --consent no" in capsys.readouterr().err
    assert main(["import", "contacts", str(DATA / name), "--db", str(db), "--consent", "yes"]) == 0
    before = db.read_bytes()
    assert main(["import", "contacts", str(DATA / name), "--db", str(db), "--consent", "yes",
                 "--dry-run"]) == 0
    assert db.read_bytes() == before
    assert main(["import", "contacts", str(DATA / name), "--db", str(db), "--consent", "yes",
                 "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.rindex('{\n  "db"'):])
    assert data["added"]["new_contacts"] == 0 and data["added"].get("unsubscribed_all", 0) == 0


def test_mailchimp_zip_in_one_command(kit: Any, tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    head = '"Email Address","First Name","Last Name",MEMBER_RATING,LAST_CHANGED,LEID'
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("subscribed_members_export_1.csv",
                   f"{head}\nsub@example.com,Sue,B,2,\"2024-01-02 03:04:05\",1\n")
        z.writestr("unsubscribed_members_export_1.csv",
                   f"{head},UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_REASON\n"
                   "uns@example.com,Una,C,2,\"2024-01-02 03:04:05\",2,\"2024-02-03 04:05:06\","
                   "Spring,\"no longer interested\"\n")
        z.writestr("cleaned_members_export_1.csv",
                   f"{head},CLEAN_TIME,CLEAN_CAMPAIGN_TITLE\n"
                   "cln@example.com,Cle,D,1,\"2024-01-02 03:04:05\",3,\"2024-03-04 05:06:07\","
                   "Spring\n")
    report = import_contacts(kit.store, path, consent=False, now=NOW)
    assert _contacts(kit) == [
        ("cln@example.com", "Cle", "D", 0, 0, None),
        ("sub@example.com", "Sue", "B", 0, 0, None),
        ("uns@example.com", "Una", "C", 0, 1, _utc(2024, 2, 3, 4, 5, 6)),
    ]
    assert report.added["unsubscribed_all"] == 1 and report.added["bounced"] == 1
    notes = "\n".join(report.notes)
    assert "(unsubscribed export)" in notes and "(cleaned export)" in notes
    again = import_contacts(kit.store, path, consent=False, now=NOW + 10)
    assert again.added["new_contacts"] == 0 and again.added["unsubscribed_all"] == 0


@pytest.mark.parametrize(("name", "text"), [
    ("c.tsv", "email\tfirst_name\ttracking_consent\nann@example.com\tAnn\tyes\n"),
    ("c.json", '[{"email": "ann@example.com", "first_name": "Ann", "tracking_consent": true}]'),
    ("c.ndjson", ('{"email": "ann@example.com", "first_name": "Ann", "tracking_consent": "yes"}\n'
                  '{"email": "bob@example.com", "tracking_consent": "no"}\n')),
])
def test_tsv_json_ndjson(kit: Any, tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    import_contacts(kit.store, path, now=NOW)
    assert _contacts(kit)[0] == ("ann@example.com", "Ann", "", 1, 0, None)


def test_map_and_ignored_columns(kit: Any, tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Mail,Given,Opt-in,Shoe size\nann@example.com,Ann,yes,38\n")
    report = import_contacts(
        kit.store, path, now=NOW,
        mapping={"Mail": "email", "Given": "first_name", "Opt-in": "tracking_consent"})
    assert _contacts(kit) == [("ann@example.com", "Ann", "", 1, 0, None)]
    assert "ignored columns (1): Shoe size" in "\n".join(report.notes)


def test_control_character_in_a_preset_file_names_line_and_column(
    kit: Any, tmp_path: Path
) -> None:
    path = tmp_path / "mc.csv"
    path.write_text('"Email Address","First Name",LEID\nok@example.com,A,1\n'
                    "bad@example.com,B\x00ob,2\n")
    with pytest.raises(UserError, match=r"line 3: field 'First Name' holds a NUL"):
        import_contacts(kit.store, path, consent=True, now=NOW)
    assert kit.store.count("contacts") == 0

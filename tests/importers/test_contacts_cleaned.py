"""Mailchimp's cleaned export marks its contacts bounced (contacts.bounced_at and
bounce_reason) with CLEAN_TIME, the summary says how many, and the contact's delivery
log names it as why the person gets no mail.  Mailchimp's unsubscribed export makes its
contacts unsubscribed from all at UNSUB_TIME.  Expected values worked out by hand."""

from __future__ import annotations

import calendar
from pathlib import Path
from typing import Any

from journeytui.cli import main
from journeytui.domain.delivery import delivery_log
from journeytui.importers.contacts_csv import import_contacts
from journeytui.importers.sendgrid import import_sendgrid

NOW = 1_767_600_000  # 2026-01-05 08:00 UTC
# Mailchimp's cleaned export: the audience columns, then CLEAN_TIME,
# CLEAN_CAMPAIGN_TITLE, CLEAN_CAMPAIGN_ID
HEAD = ('"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,LAST_CHANGED,'
        "LEID,EUID,CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID")
CLEANED = (
    f"{HEAD}\n"
    'cle@example.com,Cle,D,1,,"2024-01-02 03:04:05",3,e3,"2024-03-04 05:06:07",Spring,c1\n'
    'old@example.com,Old,E,1,,"2023-05-06 07:08:09",4,e4,,,\n'
)
REASON = "cleaned by Mailchimp: hard bounce (or repeated soft bounces)"


def _utc(*t: int) -> int:
    return calendar.timegm((*t, 0, 0, 0))


def _bounce(kit: Any, address: str) -> tuple[Any, ...]:
    return kit.one("SELECT bounced_at, bounce_reason FROM contacts WHERE email = ?", address)


def _id(kit: Any, address: str) -> int:
    return int(kit.one("SELECT id FROM contacts WHERE email = ?", address))


def test_cleaned_export_marks_contacts_bounced_with_clean_time(kit: Any) -> None:
    path = kit.text(CLEANED, "cleaned_members_export.csv")
    report = import_contacts(kit.store, path, consent=False, now=NOW)
    assert report.added["bounced"] == 2
    # CLEAN_TIME as written (UTC); the campaign title is part of the reason
    assert _bounce(kit, "cle@example.com") == (
        _utc(2024, 3, 4, 5, 6, 7), f"{REASON} after campaign 'Spring'")
    # no CLEAN_TIME: LAST_CHANGED is when Mailchimp last changed the member (cleaned it)
    assert _bounce(kit, "old@example.com") == (_utc(2023, 5, 6, 7, 8, 9), REASON)
    log = delivery_log(kit.store, _id(kit, "cle@example.com"))
    assert log.no_mail is not None and log.no_mail.kind == "bounced"
    assert log.no_mail.text == ("address cleaned by Mailchimp on 2024-03-04 05:06: hard "
                                "bounce (or repeated soft bounces) after campaign 'Spring'")
    # importing again changes nothing
    again = import_contacts(kit.store, path, consent=False, now=NOW + 60)
    assert (again.added["bounced"], again.added["unchanged"]) == (0, 2)


def test_the_earliest_bounce_date_is_kept(kit: Any) -> None:
    import_contacts(kit.store, kit.text(CLEANED, "a.csv"), consent=False, now=NOW)
    earlier = CLEANED.replace("2024-03-04 05:06:07", "2024-02-01 00:00:00")
    later = CLEANED.replace("2024-03-04 05:06:07", "2024-09-01 00:00:00")
    r1 = import_contacts(kit.store, kit.text(later, "b.csv"), consent=False, now=NOW)
    assert r1.added["bounced"] == 0
    r2 = import_contacts(kit.store, kit.text(earlier, "c.csv"), consent=False, now=NOW)
    assert r2.added["bounced"] == 1
    assert _bounce(kit, "cle@example.com")[0] == _utc(2024, 2, 1, 0, 0, 0)


def test_a_delivery_after_the_cleaning_ends_it(kit: Any) -> None:
    import_contacts(kit.store, kit.text(CLEANED, "c.csv"), consent=False, now=NOW)
    # delivered before the cleaning (2024-01-01): still no mail
    before = kit.ndjson([kit.ev("delivered", "cle@example.com", _utc(2024, 1, 1, 0, 0, 0),
                                campaign="Winter")], "before.ndjson")
    import_sendgrid(kit.store, [before], now=NOW)
    log = delivery_log(kit.store, _id(kit, "cle@example.com"))
    assert log.no_mail is not None and log.no_mail.kind == "bounced"
    # delivered after it (2025-01-01): the address works again
    after = kit.ndjson([kit.ev("delivered", "cle@example.com", _utc(2025, 1, 1, 0, 0, 0),
                               campaign="Spring sale")], "after.ndjson")
    import_sendgrid(kit.store, [after], now=NOW)
    assert delivery_log(kit.store, _id(kit, "cle@example.com")).no_mail is None


def test_unsubscribed_export_sets_unsubscribed_from_all_at_unsub_time(kit: Any) -> None:
    text = ('"Email Address","First Name",LAST_CHANGED,LEID,UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,'
            "UNSUB_REASON\n"
            'uns@example.com,Una,"2024-01-02 03:04:05",2,"2024-02-03 04:05:06",Spring,'
            '"no longer interested"\n')
    report = import_contacts(kit.store, kit.text(text, "u.csv"), consent=False, now=NOW)
    assert report.added["unsubscribed_all"] == 1
    assert kit.one("SELECT unsubscribed_all, unsubscribed_all_at FROM contacts") == (
        1, _utc(2024, 2, 3, 4, 5, 6))
    log = delivery_log(kit.store, _id(kit, "uns@example.com"))
    assert log.no_mail is not None
    assert log.no_mail.text == "unsubscribed from all on 2024-02-03 04:05"


def test_cli_summary_and_contact_card_name_the_cleaning(
    tmp_path: Path, capsys: Any
) -> None:
    db = tmp_path / "s.db"
    path = tmp_path / "cleaned_members_export.csv"
    path.write_text(CLEANED)
    assert main(["import", "contacts", str(path), "--consent", "no", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "preset mailchimp (cleaned export)" in out
    line = next(ln for ln in out.splitlines() if "marked bounced" in ln)
    assert line.split() == ["marked", "bounced", "(Mailchimp", "cleaned", "export,",
                            "CLEAN_TIME)", "2"]
    assert main(["contact", "cle@example.com", "--db", str(db)]) == 0
    card = capsys.readouterr().out
    assert "address cleaned by Mailchimp on 2024-03-04 05:06" in card


def test_a_mapped_bounce_column_names_the_file_and_column(kit: Any) -> None:
    path = kit.text("Mail,Dead since\nann@example.com,2024-05-06 07:08:09\n", "crm.csv")
    import_contacts(kit.store, path, consent=True, now=NOW,
                    mapping={"Mail": "email", "Dead since": "bounced_at"})
    assert _bounce(kit, "ann@example.com") == (
        _utc(2024, 5, 6, 7, 8, 9), "marked bounced in crm.csv: column 'Dead since'")
    log = delivery_log(kit.store, _id(kit, "ann@example.com"))
    assert log.no_mail is not None
    assert log.no_mail.text == ("address marked bounced in crm.csv on 2024-05-06 07:08: "
                                "column 'Dead since'")

"""What every provider import keeps, checked for each provider: each real file is
recognised; a wrong --provider is refused naming what the file looks like; a file that
is not what it claims fails whole with file and line (one transaction, even after a good
file); importing again changes nothing; --dry-run leaves the store byte for byte;
--json; machine opens where the provider flags them and bot clicks by timing.
Expected figures worked out by hand (comments)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from journeytui.cli import main
from journeytui.domain.stats import email_stats
from journeytui.errors import UserError
from journeytui.importers.providers import NAMES, PROVIDERS, import_events, read_files
from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Store
from tests.blank_store import blank_store

DATA = Path(__file__).parent / "data" / "realworld"
NOW = 1_767_600_000
PROVIDER_FILES = {
    "mailgun": DATA / "anymail_mailgun_webhook_bodies.json",
    "postmark": DATA / "anymail_postmark_webhook_bodies.json",
    "ses": DATA / "anymail_ses_sns_notifications.json",
    "mandrill": DATA / "anymail_mandrill_events.json",
    "brevo": DATA / "anymail_brevo_webhook_bodies.json",
}
SENDGRID_FILES = sorted(p for p in DATA.glob("*.json")
                        if p not in PROVIDER_FILES.values())
T = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def _figures(store: Store) -> dict[str, tuple[int, ...]]:
    return {s.name: (s.sent, s.delivered, s.bounced_hard, s.bounced_soft, s.dropped,
                     s.opened, s.machine_opens, s.clicked, s.bot_clicks, s.unsubscribed,
                     s.spam_reports) for s in email_stats(store)}


def _state(store: Store) -> tuple[Any, ...]:
    c = store.conn
    return (_figures(store),) + tuple(
        c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("contacts", "sends", "activities", "subscription_changes",
                  "anonymous_events", "lists", "parked_events"))


def test_there_are_nine_sendgrid_files() -> None:
    assert len(SENDGRID_FILES) == 9


@pytest.mark.parametrize("path", [*PROVIDER_FILES.values(), *SENDGRID_FILES],
                         ids=lambda p: p.name)
def test_every_real_file_is_recognised(path: Path) -> None:
    expected = next((p for p, f in PROVIDER_FILES.items() if f == path), "sendgrid")
    assert read_files([path], "auto").chosen == [(str(path), expected)]


@pytest.mark.parametrize("path", SENDGRID_FILES, ids=lambda p: p.name)
def test_sendgrid_files_give_the_same_figures_as_import_sendgrid(
    tmp_path: Path, path: Path
) -> None:
    # the hand-worked figures of these files are in the SendGrid importer's tests:
    # import events (auto) must give exactly what import sendgrid gives
    with blank_store(tmp_path / "a.db") as a, blank_store(tmp_path / "b.db") as b:
        import_sendgrid(a, [path], now=NOW)
        report = import_events(b, [path], now=NOW)
        assert _state(a) == _state(b)
        assert f"{path}: recognised as {NAMES['sendgrid']}." in report.notes


@pytest.mark.parametrize(("found", "given"), [
    (f, g) for f in [*PROVIDER_FILES, "sendgrid"] for g in PROVIDERS if g != f])
def test_a_wrong_provider_is_refused_naming_what_the_file_looks_like(
    kit: Any, found: str, given: str
) -> None:
    path = PROVIDER_FILES.get(found, DATA / "anymail_sendgrid_fixtures.json")
    with pytest.raises(UserError) as exc:
        import_events(kit.store, [path], given, now=NOW)
    assert str(exc.value) == (
        f"{path}: this looks like {NAMES[found]} events, not {NAMES[given]}; import it with "
        f"'journeytui import events --provider {found}' (or --provider auto). Nothing was "
        "imported.")
    assert kit.store.count("contacts") == 0


@pytest.mark.parametrize("provider", PROVIDER_FILES)
def test_a_broken_file_after_a_good_one_fails_whole_with_file_and_line(
    kit: Any, tmp_path: Path, provider: str
) -> None:
    good = PROVIDER_FILES[provider]
    bad = tmp_path / "bad.json"
    lines = good.read_text().splitlines()
    bad.write_text("\n".join([lines[0], lines[1], '{"truncated": ']) + "\n")
    with pytest.raises(UserError, match=rf"^{bad}: line 3: not JSON"):
        import_events(kit.store, [good, bad], now=NOW)
    assert _state(kit.store) == ({}, 0, 0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("provider", PROVIDER_FILES)
def test_importing_again_changes_nothing(kit: Any, provider: str) -> None:
    path = PROVIDER_FILES[provider]
    import_events(kit.store, [path], now=NOW, default_email="All")
    before = _state(kit.store)
    assert before[1] > 0  # contacts were made
    again = import_events(kit.store, [path], now=NOW, default_email="All")
    assert _state(kit.store) == before
    assert again.added["new_contacts"] == 0 and again.added["sent"] == 0


@pytest.mark.parametrize("provider", PROVIDER_FILES)
def test_dry_run_leaves_the_store_byte_for_byte_and_json_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], provider: str
) -> None:
    db = tmp_path / "s.db"
    contacts = tmp_path / "c.csv"
    contacts.write_text("email,tracking_consent\nrecipient@example.com,yes\n")
    assert main(["import", "contacts", str(contacts), "--db", str(db)]) == 0
    before = db.read_bytes()
    path = PROVIDER_FILES[provider]
    assert main(["import", "events", str(path), "--dry-run", "--json", "--db", str(db)]) == 0
    assert db.read_bytes() == before
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{"):])
    assert data["dry_run"] is True and data["files"] == [str(path)]
    assert data["would_change"]["new_contacts"] == data["added"]["new_contacts"] > 0
    assert f"{path}: recognised as {NAMES[provider]}." in data["notes"]


# -- machine opens (the provider's own flag) and bot clicks (the Recorder's timing) ------
def _iso(at: int) -> str:
    return {T: "2023-11-14T22:13:20Z", T + 2: "2023-11-14T22:13:22Z",
            T + 100: "2023-11-14T22:15:00Z", T + 600: "2023-11-14T22:23:20Z"}[at]


def _mailgun(kind: str, at: int, **extra: Any) -> dict[str, Any]:
    return {"event-data": {"event": kind, "timestamp": at, "recipient": "a@example.com",
                           "id": f"{kind}{at}", "message": {"headers": {
                               "message-id": "m1@x", "subject": "M"}}, **extra}}


def _postmark(kind: str, at: int, **extra: Any) -> dict[str, Any]:
    when = "DeliveredAt" if kind == "Delivery" else "ReceivedAt"
    return {"RecordType": kind, "MessageID": "m1", "Recipient": "a@example.com",
            when: _iso(at), "Tag": "M", **extra}


def _brevo(kind: str, at: int, **extra: Any) -> dict[str, Any]:
    return {"event": kind, "email": "a@example.com", "ts_event": at, "message-id": "<m1@x>",
            "subject": "M", **extra}


def _ses(kind: str, at: int, **extra: Any) -> dict[str, Any]:
    part = {"Delivery": "delivery", "Open": "open", "Click": "click"}[kind]
    detail: dict[str, Any] = {"timestamp": _iso(at), **extra}
    if kind == "Delivery":
        detail["recipients"] = ["a@example.com"]
    return {"Type": "Notification", "MessageId": f"sns-{kind}-{at}", "Timestamp": _iso(at),
            "Message": json.dumps({"eventType": kind, "mail": {
                "messageId": "m1", "destination": ["a@example.com"],
                "commonHeaders": {"subject": "M"}}, part: detail})}


def _mandrill(kind: str, at: int, **extra: Any) -> str:
    return "mandrill_events=" + json.dumps([{"event": kind, "ts": at, "_id": "m1", "msg": {
        "_id": "m1", "email": "a@example.com", "subject": "M"}, **extra}]).replace(
        "&", "%26").replace("+", "%2B")


LINK = "https://example.com/offer"
MACHINE_CASES = {
    # delivered at T; an open the provider flags as a machine's at T + 100; a click 2 s
    # after the delivery (a suspected bot click) and one at T + 600 (a person's)
    "mailgun": [_mailgun("delivered", T), _mailgun("opened", T + 100,
                                                     **{"client-info": {"bot": "apple"}}),
                _mailgun("clicked", T + 2, url=LINK), _mailgun("clicked", T + 600, url=LINK)],
    "postmark": [_postmark("Delivery", T), _postmark("Open", T + 100, MachineOpen=True),
                 _postmark("Click", T + 2, OriginalLink=LINK),
                 _postmark("Click", T + 600, OriginalLink=LINK)],
    "brevo": [_brevo("delivered", T), _brevo("proxy_open", T + 100),
              _brevo("click", T + 2, link=LINK), _brevo("click", T + 600, link=LINK)],
    # SES and Mandrill flag no machine opens: the open is a person's
    "ses": [_ses("Delivery", T), _ses("Open", T + 100), _ses("Click", T + 2, link=LINK),
            _ses("Click", T + 600, link=LINK)],
    "mandrill": [_mandrill("send", T), _mandrill("open", T + 100),
                 _mandrill("click", T + 2, url=LINK), _mandrill("click", T + 600, url=LINK)],
}


@pytest.mark.parametrize("provider", MACHINE_CASES)
def test_machine_opens_and_bot_clicks(kit: Any, tmp_path: Path, provider: str) -> None:
    path = tmp_path / f"{provider}.txt"
    path.write_text("".join((b if isinstance(b, str) else json.dumps(b)) + "\n"
                            for b in MACHINE_CASES[provider]))
    report = import_events(kit.store, [path], now=NOW)
    assert not report.skipped
    flagged = provider in ("mailgun", "postmark", "brevo")
    # sent 1, delivered 1; opened 0 and 1 machine open when flagged, else opened 1;
    # clicked 1 (the person's click), 1 suspected bot click
    assert _figures(kit.store) == {"M": (1, 1, 0, 0, 0, 0 if flagged else 1,
                                         1 if flagged else 0, 1, 1, 0, 0)}

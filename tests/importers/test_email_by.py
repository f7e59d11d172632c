"""--email-by: the user names the field that says which email an event belongs to."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from journeytui.errors import UserError
from journeytui.importers.sendgrid import import_sendgrid, parse_email_by
from journeytui.store import Store
from tests.blank_store import blank_store

T = 1_790_000_000


def events(path: Path) -> Path:
    """Two sends tagged with a custom argument and tag-style categories."""
    rows = [
        {"email": "ann@example.com", "timestamp": T, "event": "processed",
         "sg_event_id": "e1", "sg_message_id": "m1.x", "category": ["news", "week-1"],
         "campaign_tag": "Spring A"},
        {"email": "bob@example.com", "timestamp": T + 1, "event": "processed",
         "sg_event_id": "e2", "sg_message_id": "m2.x", "category": ["news", "week-2"],
         "unique_args": {"campaign_tag": "Spring B"}},
    ]
    path.write_text(json.dumps(rows))
    return path


def sent_by_email(store: Store) -> dict[str, int]:
    return dict(store.conn.execute(
        "SELECT e.name, s.sent FROM email_stats s JOIN emails e ON e.id = s.email_id"))


@pytest.mark.parametrize(("spec", "expected"), [
    (None, {"news / week-1": 1, "news / week-2": 1}),       # the built-in category rule
    ("custom_arg:campaign_tag", {"Spring A": 1, "Spring B": 1}),  # top level, unique_args
    ("category:1", {"news": 2}),                              # both under their first tag
    ("category:2", {"week-1": 1, "week-2": 1}),
])
def test_the_named_field_decides_the_email(tmp_path: Path, spec: str | None,
                                           expected: dict[str, int]) -> None:
    store = blank_store(tmp_path / "s.db")
    try:
        import_sendgrid(store, [events(tmp_path / "e.json")], email_by=spec)
        assert sent_by_email(store) == expected
    finally:
        store.close()


def test_a_field_the_event_lacks_falls_back_to_the_built_in_order(tmp_path: Path) -> None:
    store = blank_store(tmp_path / "s.db")
    try:
        import_sendgrid(store, [events(tmp_path / "e.json")], email_by="category:3")
        assert sent_by_email(store) == {"news / week-1": 1, "news / week-2": 1}
    finally:
        store.close()


@pytest.mark.parametrize("spec", ["custom_arg:", "category:0", "category:x", "subject"])
def test_a_bad_field_is_refused(spec: str) -> None:
    with pytest.raises(UserError, match="expected custom_arg:NAME"):
        parse_email_by(spec)


def test_the_cli_says_a_bad_field_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "journeytui", "import", "sendgrid",
         str(events(tmp_path / "e.json")), "--email-by", "nope", "--db", str(tmp_path / "x.db")],
        capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "expected custom_arg:NAME" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()  # nothing created

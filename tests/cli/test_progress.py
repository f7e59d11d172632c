"""Progress on long work: plain lines on standard error when it is not a terminal,
a bar on a terminal, nothing with --json; standard output stays the answer."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from journeytui.cli import main
from journeytui.cli.progress import Progress, progress_for


def _events_file(path: Path, n: int) -> Path:
    lines = [
        json.dumps({"email": f"p{i}@example.com", "event": "processed", "timestamp": 1767600000 + i,
                    "sg_event_id": f"e{i}", "singlesend_name": "Launch"})
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


class Tty(io.StringIO):
    """A terminal: a bar is drawn on it (its rich Console is a terminal's)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress from the start (by default it waits a second: these runs are quick)."""
    monkeypatch.setenv("JOURNEYTUI_PROGRESS_AFTER", "0")


def test_demo_says_each_stage_in_plain_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_once: None
) -> None:
    assert main(["demo", "--db", str(tmp_path / "d.db"), "--contacts", "40"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Wrote ") and len(out.splitlines()) == 1  # the answer only
    lines = err.splitlines()
    for stage in ("choosing the contacts", "simulating the year (days)",
                  "building the indexes", "evaluating the journey 'Lead nurturing' (contacts)",
                  "evaluating the journey 'Webinar' (contacts)"):
        assert f"{stage} …" in lines, (stage, lines)
        assert any(ln.startswith(f"{stage}: done (") for ln in lines), (stage, lines)
    # the simulated year runs 2026-01-05 09:00 → 2026-11-01 00:00: 299 whole days
    assert any(ln.startswith("simulating the year (days): done (299, ") for ln in lines)
    assert "\x1b" not in err  # no terminal codes in a log


def test_import_says_lines_read_then_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_once: None
) -> None:
    f = _events_file(tmp_path / "ev.ndjson", 30)
    assert main(["import", "sendgrid", str(f), "--db", str(tmp_path / "s.db")]) == 0
    err = capsys.readouterr().err.splitlines()
    name = "reading ev.ndjson (lines)"
    assert err[0] == f"{name} …"
    assert err[1].startswith(f"{name}: done (30, ")  # 30 events, one a line
    assert err[2] == "recording the events …"
    assert err[3].startswith("recording the events: done (30, ")
    assert err[4] == "advancing the journeys …"
    assert err[5].startswith("advancing the journeys: done (")
    assert len(err) == 6


def test_json_prints_no_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_once: None
) -> None:
    f = _events_file(tmp_path / "ev.ndjson", 30)
    assert main(["import", "sendgrid", str(f), "--db", str(tmp_path / "s.db"), "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out)["records"] == 30


def test_plain_lines_at_each_tenth_of_a_slow_stage() -> None:
    stream = io.StringIO()
    with Progress("lines", stream) as report:
        for done in range(0, 101):
            report("counting", done, 100)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "counting …"
    assert lines[1:10] == [f"counting: {t} % ({t:,} of 100)" for t in range(10, 100, 10)]
    assert lines[10].startswith("counting: done (100, ")
    assert len(lines) == 11


def test_a_failed_stage_is_not_said_done() -> None:
    stream = io.StringIO()
    with pytest.raises(RuntimeError), Progress("lines", stream) as report:
        report("writing", 0, 10)
        raise RuntimeError("disk on fire")
    assert stream.getvalue() == "writing …\n"  # never "done"


def test_quick_work_says_nothing_and_an_error_stays_the_only_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """By default progress waits a second: a missing file fails at once, alone."""
    missing = tmp_path / "nope.ndjson"
    assert main(["import", "sendgrid", str(missing), "--db", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("journeytui: ") and "reading" not in err and "…" not in err


def test_nothing_before_the_delay_then_the_current_stage() -> None:
    stream = io.StringIO()
    report = Progress("lines", stream, after=3600)
    report("counting", 5, 10)
    assert stream.getvalue() == ""
    report._show_at = 0  # the hour has passed
    report("counting", 6, 10)
    assert stream.getvalue().splitlines() == ["counting …", "counting: 60 % (6 of 10)"]


def test_the_mode_follows_the_output() -> None:
    assert progress_for(stream=io.StringIO()).mode == "lines"
    assert progress_for(stream=Tty()).mode == "bar"
    assert progress_for(stream=Tty(), quiet=True).mode == "off"


def test_a_bar_on_a_terminal_ends_complete() -> None:
    stream = Tty()
    with Progress("bar", stream) as report:
        for done in range(0, 11):
            report("counting", done, 10)
    text = stream.getvalue()
    assert "counting" in text and "10/10" in text


def test_import_events_says_reading_then_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_once: None
) -> None:
    f = _events_file(tmp_path / "ev.ndjson", 30)  # SendGrid's shape, recognised as such
    assert main(["import", "events", str(f), "--db", str(tmp_path / "s.db")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "reading the files …"
    assert err[2] == "recording the events …"
    assert err[3].startswith("recording the events: done (30, ")
    assert err[4] == "advancing the journeys …"


def test_import_contacts_says_reading_then_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_once: None
) -> None:
    f = tmp_path / "contacts.csv"
    f.write_text("email,first_name,last_name,tracking_consent,lists\n"
                 + "".join(f"p{i}@example.com,P,{i},yes,News\n" for i in range(12)))
    assert main(["import", "contacts", str(f), "--db", str(tmp_path / "s.db")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "reading the file …"
    assert err[2] == "recording the contacts (rows) …"
    assert err[3].startswith("recording the contacts (rows): done (12, ")  # 12 rows
    assert len(err) == 4


@pytest.mark.parametrize("stage", [
    "evaluating the journey '[bold]x' (contacts)",  # a tag: not made bold, shown as typed
    "reading a[1].json (lines)",  # a file name with brackets
    "evaluating the journey 'x[/]' (contacts)",  # a stray closing tag: no MarkupError
    "reading [link=https://evil.example]a.csv[/link] (lines)",
])
def test_a_bar_shows_the_stage_as_typed_never_as_markup(stage: str) -> None:
    stream = Tty()
    with Progress("bar", stream) as report:
        report(stage, 1, 2)
        report(stage, 2, 2)
    assert stage in stream.getvalue()


def test_a_stage_with_control_characters_shows_them_visibly() -> None:
    stage = "reading \x1b[31mred\x07.csv (lines)"
    shown = "reading \\x1b[31mred\\x07.csv (lines)"  # ESC and BEL written out, not sent

    bar = Tty()
    with Progress("bar", bar) as report:
        report(stage, 1, 1)
    assert shown in bar.getvalue() and "\x07" not in bar.getvalue()
    lines = io.StringIO()
    with Progress("lines", lines) as report:
        report(stage, 1, 1)
    assert lines.getvalue().splitlines()[0] == f"{shown} …"
    assert "\x1b" not in lines.getvalue() and "\x07" not in lines.getvalue()

"""The real app over SSH: first screen, keys, resize, quit (needs the TUI, issue 4)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest

from journeytui.store import Store
from tests.ssh.conftest import connect, open_terminal, pid_alive, wait_until
from tests.ssh.test_palette import check_the_theme_picker

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("journeytui.cli.app_cmd") is None,
    reason="the app (journeytui.cli.app_cmd) is not there yet",
)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small demo store for the module (sessions only ever work on copies)."""
    path = tmp_path_factory.mktemp("ssh-real-app") / "demo.db"
    try:
        from journeytui.demo import generate
    except ImportError:
        Store.create(path).close()
    else:
        generate(path, contacts=200, journeys=False)  # the emails are what these tests need
    return path


async def test_real_app_session(make_server, demo_db, tmp_path, monkeypatch, caplog) -> None:
    """A whole session in an xterm-256color terminal.  Its colours and the command
    palette's theme picker (tests/ssh/test_palette.py) are checked in it too, the other
    terminals' colours in the test below: an app start is the dearest thing here."""
    from journeytui.ssh.config import app_command

    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    home = tmp_path / "operator"  # the server's user: the session writes nothing there
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    monkeypatch.setenv("JOURNEYTUI_CONFIG_DIR", str(tmp_path / "no-user-config"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLORTERM", "truecolor")  # the server's terminal: must not leak
    server = await make_server(db=demo_db, child_command=app_command)
    conn = await connect(server)
    term = await open_terminal(conn, 80, 24)
    # the app's start is CPU-bound: give a busy machine time
    await term.wait_for(
        lambda t: "Emails" in t and "Sent" in t and "Help" in t, "the Emails pane", timeout=60
    )
    (session,) = server.sessions.values()
    assert session.child is not None
    pid = session.child.pid
    assert term.screen.display[23].strip()  # the footer is on the last of 24 rows

    await term.wait_text("▼")  # the rows came, sorted by send time, newest first
    # the whole first screen in 256 colours, and no 24-bit colour unless the client asks
    raw = bytes(term.raw)
    assert b"38;5;" in raw and b"38;2;" not in raw
    term.press("r")  # reverse the sort of the emails
    await term.wait_text("▲")

    term.press("3")  # the Contacts pane
    await term.wait_for(lambda t: "search contacts" in t.lower(), "the Contacts pane")

    term.resize(100, 60)  # tall enough for the theme picker's whole list
    await term.wait_for(lambda t: term.screen.display[59].strip() != "", "the app at 100x60")
    assert any(len(line.rstrip()) > 80 for line in term.screen.display)

    await check_the_theme_picker(term)

    term.press("\x03")  # ctrl+c quits from anywhere (q would go into the search box)
    assert await term.wait_closed() == 0
    conn.close()
    await wait_until(lambda: not server.sessions, "the session to end")
    assert not pid_alive(pid)
    assert any("ended=quit status=0" in r.getMessage() for r in caplog.records)
    # nothing was written in the operator's home (no Downloads/, no screenshot SVG)
    assert {str(p.relative_to(home)) for p in home.rglob("*")} == set()
    assert not session.workdir.exists()


def _colours(term) -> set[str]:
    return {
        colour
        for row in term.screen.buffer.values()
        for cell in row.values()
        for colour in (cell.fg, cell.bg)
    }


def _grey(colour: str) -> bool:
    if colour in ("default", "black", "white", "brightblack", "brightwhite"):
        return True
    return len(colour) == 6 and colour[0:2] == colour[2:4] == colour[4:6]


@pytest.mark.parametrize(
    ("term_type", "client_env", "check"),
    [
        # (xterm-256color: 256 colours, checked in test_real_app_session)
        # `screen` has 16 colours: only the basic colour codes
        ("screen", {}, lambda raw, colours: b"38;5;" not in raw and b"38;2;" not in raw),
        # NO_COLOR from the client: greys only
        (
            "xterm-256color",
            {"NO_COLOR": "1"},
            lambda raw, colours: all(_grey(c) for c in colours) and len(colours) > 2,
        ),
    ],
    ids=["screen", "NO_COLOR"],
)
async def test_real_app_colours_follow_the_terminal(
    make_server, demo_db, tmp_path, monkeypatch, term_type, client_env, check
) -> None:
    from journeytui.ssh.config import app_command

    monkeypatch.setenv("JOURNEYTUI_CONFIG_DIR", str(tmp_path / "no-user-config"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLORTERM", "truecolor")  # the server's terminal: must not leak
    server = await make_server(db=demo_db, child_command=app_command)
    conn = await connect(server)
    term = await open_terminal(conn, 80, 24, term=term_type, env=client_env)
    # the whole first screen: the shell, then the Emails pane with its rows
    await term.wait_for(
        lambda t: "Emails" in t and "Help" in t and "▼" in t, "the first screen", timeout=60
    )
    colours = _colours(term)
    assert check(bytes(term.raw), colours), sorted(colours)
    term.press("\x03")
    assert await term.wait_closed() == 0
    conn.close()

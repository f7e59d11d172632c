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
    palette's theme picker (tests/ssh/test_palette.py) are checked in it too: an app
    start is the dearest thing here (see TERMINALS for the other terminals)."""
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
    check_first_screen_colours(term, "xterm-256color")
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


#: The terminals a real app is checked in, each by one session (an app start is the
#: dearest thing here): name -> (TERM, the client's environment).  xterm-256color in
#: test_real_app_session; screen and NO_COLOR in test_visitor_writes.py's sessions.
TERMINALS = {
    "xterm-256color": ("xterm-256color", {}),
    "screen": ("screen", {}),
    "NO_COLOR": ("xterm-256color", {"NO_COLOR": "1"}),
}


def check_first_screen_colours(term, terminal: str) -> None:  # type: ignore[no-untyped-def]
    """The colours of the app's whole first screen (its shell and the Emails rows: wait
    for them first) follow the client's *terminal* (a key of TERMINALS), never the
    server's own terminal (the server runs with NO_COLOR unset, COLORTERM=truecolor)."""
    raw, colours = bytes(term.raw), _colours(term)
    if terminal == "xterm-256color":  # 256 colours, no 24-bit colour unless asked for
        assert b"38;5;" in raw and b"38;2;" not in raw
    elif terminal == "screen":  # `screen` has 16 colours: only the basic colour codes
        assert b"38;5;" not in raw and b"38;2;" not in raw
    else:  # NO_COLOR from the client: greys only
        assert terminal == "NO_COLOR", terminal
        assert all(_grey(c) for c in colours) and len(colours) > 2, sorted(colours)

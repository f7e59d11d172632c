"""What a visitor can write over SSH: a new file in the session's own folder, nothing else.

The attack these guard against: in ``serve-ssh --shared`` a visitor pressed ``x``,
typed ``journeys.db`` and replaced the one store everybody used with a CSV.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from journeytui.store import Store
from tests.ssh.conftest import connect, open_terminal, wait_until
from tests.ssh.test_real_app import TERMINALS, check_first_screen_colours


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a small demo store (each test lays them down where it needs them)."""
    path = tmp_path_factory.mktemp("visitor-writes") / "journeys.db"
    from journeytui.demo import generate

    generate(path, contacts=120, journeys=False)
    Store.open(path).close()
    return path.read_bytes()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_of(folder: Path) -> dict[str, str]:
    """Name → digest of the files in *folder*, but SQLite's own -wal/-shm (a shared
    session opens the store there; the app itself writes nothing in that folder)."""
    return {
        p.name: digest(p)
        for p in folder.iterdir()
        if not p.name.endswith(("-wal", "-shm"))
    }


DIALOG = "Export the current list as CSV to:"


async def type_name(term, typed: str) -> None:
    """In the open export dialog: clear the field, type *typed*, Enter."""
    term.press("\x15")  # ctrl+u: clear the field (which clears a shown refusal too)
    # a binding runs after its key has bubbled up: wait for it before typing on
    await term.wait_for(lambda text: "✗" not in text and ".csv" not in text, "a clear field")
    term.press(typed + "\r")


async def refused(term, typed: str) -> str:
    """Type *typed* in the dialog; return the refusal it shows (the dialog stays)."""
    await type_name(term, typed)
    text = await term.wait_text("✗ Export refused")
    assert DIALOG in text
    return text


# Each session also checks its first screen's colours in a terminal of its own (see
# TERMINALS in test_real_app.py): a real app started for that alone would cost more.
@pytest.mark.parametrize(
    ("shared", "terminal"), [(True, "screen"), (False, "NO_COLOR")],
    ids=["shared-screen", "private-NO_COLOR"],
)
async def test_a_visitor_cannot_overwrite_the_store_or_the_servers_files(
    make_server, demo_store, tmp_path, monkeypatch, caplog, shared, terminal
) -> None:
    from journeytui.ssh.config import app_command

    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLORTERM", "truecolor")  # the server's terminal: must not leak
    # the server runs from a folder that holds the store and a file of the operator's
    home = tmp_path / "operator"
    home.mkdir()
    store = home / "journeys.db"
    store.write_bytes(demo_store)
    bashrc = home / ".bashrc"
    bashrc.write_text("# the operator's shell settings\n")
    monkeypatch.chdir(home)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("JOURNEYTUI_CONFIG_DIR", str(tmp_path / "operator-config"))
    before = files_of(home)

    server = await make_server(db=Path("journeys.db"), child_command=app_command, shared=shared)
    conn = await connect(server)
    term_type, client_env = TERMINALS[terminal]
    term = await open_terminal(conn, 100, 30, term=term_type, env=client_env)
    await term.wait_for(
        lambda t: "Emails" in t and "Help" in t and "▼" in t, "the first screen", timeout=60
    )
    check_first_screen_colours(term, terminal)
    (session,) = server.sessions.values()
    exports = session.workdir / "exports"

    # the attack of the report, and its variants: each is refused, in the dialog
    term.press("x")
    await term.wait_text(DIALOG)
    for typed in (
        str(store),
        "../journeys.db",
        str(bashrc),
        "../../operator/.bashrc",
        "~/.bashrc",
        "../server.pid",
    ):
        await refused(term, typed)
    # a plain name is a new file in the session's export folder, not the server's
    await type_name(term, "journeys.db")
    await term.wait_text("Exported", timeout=30)
    assert (exports / "journeys.db").read_bytes().startswith(b"name,subject,")
    # and the same name again does not replace it (once the first dialog is gone: the
    # message may show while it is still drawn, and an "x" then reaches no pane)
    await term.wait_for(lambda text: DIALOG not in text, "the dialog to close")
    term.press("x")
    await term.wait_text(DIALOG)
    assert "exists already" in await refused(term, "journeys.db")
    term.press("\x1b")
    await term.wait_for(lambda text: DIALOG not in text, "the dialog to close")

    assert files_of(home) == before
    if not shared:
        # a private session reads the store read-only: an export makes no copy of it
        assert session.copy is not None and not session.copy.exists()

    term.press("\x03")
    await term.wait_closed()
    conn.close()
    await wait_until(lambda: not server.sessions, "the session to end")
    assert not session.workdir.exists()  # the session's folder goes with it
    assert files_of(home) == before

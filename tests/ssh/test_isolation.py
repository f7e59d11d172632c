"""A private session reads the one store read-only and gets its own copy at its first
write, which no other session sees; --shared uses the one store."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from journeytui.ssh.storecopy import copy_store, remove_copy
from journeytui.store import Store
from tests.ssh.conftest import connect, open_terminal, screen_value, wait_until


def session_of(server, screen_text: str):
    """The server's session whose app shows *screen_text*."""
    pid = int(screen_value(screen_text, "pid"))
    (session,) = [s for s in server.sessions.values() if s.child and s.child.pid == pid]
    return session


def session_db(server, screen_text: str) -> Path:
    """Where the private copy of the session whose app shows *screen_text* goes."""
    session = session_of(server, screen_text)
    assert session.copy is not None
    return session.copy


def visitors(db: Path) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT email FROM contacts WHERE email LIKE 'visitor-%'")
        return [r[0] for r in rows]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


async def test_an_edit_in_one_session_is_not_seen_by_another(make_server, source_db) -> None:
    before = digest(source_db)
    server = await make_server()
    conn_a, conn_b = await connect(server), await connect(server)
    a, b = await open_terminal(conn_a), await open_terminal(conn_b)
    text_a, text_b = await a.wait_text("STANDIN"), await b.wait_text("STANDIN")
    db_a, db_b = session_db(server, text_a), session_db(server, text_b)
    # every private session reads the one store (read-only); nobody has a copy yet
    assert screen_value(text_a, "db").startswith(str(source_db.resolve())[:60])
    assert len({db_a, db_b, source_db}) == 3
    assert db_a.parent != db_b.parent
    assert not db_a.exists() and not db_b.exists()

    a.press("w")  # the app in session A writes a contact: its own copy is made first
    await a.wait_text("note=wrote contact")
    pid_a = screen_value(text_a, "pid")
    assert visitors(db_a) == [f"visitor-{pid_a}@example.com"]
    assert not db_b.exists()
    assert visitors(source_db) == []

    b.press("w")  # B's copy is its own, without A's edit
    await b.wait_text("note=wrote contact")
    assert visitors(db_b) == [f"visitor-{screen_value(text_b, 'pid')}@example.com"]
    assert visitors(db_a) == [f"visitor-{pid_a}@example.com"]

    # a session that starts after the edits reads the original
    conn_c = await connect(server)
    c = await open_terminal(conn_c)
    db_c = session_db(server, await c.wait_text("STANDIN"))
    assert not db_c.exists() and visitors(source_db) == []

    for conn in (conn_a, conn_b, conn_c):
        conn.close()
    await wait_until(lambda: not server.sessions, "the sessions to end")
    # the copies are gone with their sessions; the store's file was never written
    assert not db_a.parent.exists() and not db_b.parent.exists()
    assert visitors(source_db) == []
    assert digest(source_db) == before


async def test_a_session_that_only_reads_holds_kilobytes(make_server, source_db) -> None:
    # a store of a few MB: a copy would show in the session's folder at once
    with sqlite3.connect(source_db) as conn:
        conn.executemany(
            "INSERT INTO contacts(email, created_at) VALUES (?, 0)",
            ((f"c{i}-{'x' * 200}@example.com",) for i in range(20_000)),
        )
    assert source_db.stat().st_size > 4_000_000
    server = await make_server()
    conns = [await connect(server) for _ in range(3)]
    terms = [await open_terminal(conn) for conn in conns]
    for term in terms:
        await term.wait_text("STANDIN")
    sessions = list(server.sessions.values())
    assert len(sessions) == 3
    for session in sessions:
        assert session.workdir is not None and session.copy is not None
        assert not session.copy.exists()
        assert folder_bytes(session.workdir) < 64_000
    for conn in conns:
        conn.close()
    await wait_until(lambda: not server.sessions, "the sessions to end")


async def test_shared_sessions_use_the_one_store(make_server, source_db) -> None:
    server = await make_server(shared=True)
    conn = await connect(server)
    term = await open_terminal(conn)
    text = await term.wait_text("STANDIN")
    cmdline = Path(f"/proc/{screen_value(text, 'pid')}/cmdline").read_bytes().split(b"\0")
    assert Path(cmdline[cmdline.index(b"--db") + 1].decode()) == source_db.resolve()
    term.press("w")
    await term.wait_text("note=wrote contact")
    assert len(visitors(source_db)) == 1
    term.press("q")
    await term.wait_closed()
    conn.close()


def test_copy_of_a_wal_store_includes_uncheckpointed_writes(tmp_path) -> None:
    source = tmp_path / "wal.db"
    store = Store.create(source)
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")  # keep the writes in the WAL
    with store.transaction() as c:
        c.executemany(
            "INSERT INTO contacts(email, created_at) VALUES (?, 0)",
            [(f"visitor-{i}@example.com",) for i in range(50)],
        )
    wal = Path(str(source) + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the rows are only in the WAL
    try:
        copy = copy_store(source, tmp_path)
        assert len(visitors(copy)) == 50
        assert copy.parent != source.parent and copy.name == "journeys.db"
        # a writer on the source afterwards does not change the copy
        with store.transaction() as c:
            c.execute("INSERT INTO contacts(email, created_at) VALUES ('visitor-x@e.com', 0)")
        assert len(visitors(copy)) == 50
    finally:
        store.close()
    Store.open(copy).close()  # the copy is a valid store
    remove_copy(copy)
    assert not copy.parent.exists()
    assert len(visitors(source)) == 51


def test_copy_of_a_closed_store_is_a_file_copy(tmp_path, source_db) -> None:
    copy = copy_store(source_db, tmp_path)
    assert copy.read_bytes() == source_db.read_bytes()
    remove_copy(copy)


async def test_app_settings_are_copied_per_session(make_server, tmp_path, monkeypatch) -> None:
    operator = tmp_path / "operator-config"
    (operator / "themes").mkdir(parents=True)
    (operator / "settings.json").write_text('{"theme": "journey-light"}\n')
    (operator / "themes" / "mine.toml").write_text("# a theme\n")
    monkeypatch.setenv("JOURNEYTUI_CONFIG_DIR", str(operator))
    server = await make_server()
    conn = await connect(server)
    term = await open_terminal(conn)
    text = await term.wait_text("STANDIN")
    pid = int(screen_value(text, "pid"))
    environ = Path(f"/proc/{pid}/environ").read_text().split("\0")
    env = dict(item.split("=", 1) for item in environ if "=" in item)
    session_config = Path(env["JOURNEYTUI_CONFIG_DIR"])
    copy = session_db(server, text)
    assert session_config.is_relative_to(copy.parent)
    assert (session_config / "settings.json").read_text() == '{"theme": "journey-light"}\n'
    assert (session_config / "themes" / "mine.toml").exists()
    # what the visitor saves stays in the session
    (session_config / "settings.json").write_text('{"theme": "visitor-choice"}\n')
    assert "journey-light" in (operator / "settings.json").read_text()
    conn.close()
    await wait_until(lambda: not server.sessions, "the session to end")
    assert not session_config.exists()


def test_copies_left_by_a_dead_server_are_removed(tmp_path, source_db) -> None:
    import subprocess
    import sys

    from journeytui.ssh.storecopy import OWNER_FILE, remove_stale_copies

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    mine = copy_store(source_db, tmp_path)  # made by this (running) process
    stale = copy_store(source_db, tmp_path)
    (stale.parent / OWNER_FILE).write_text(f"{dead_pid}\n")
    unrelated = tmp_path / "journeytui-ssh-no-owner"
    unrelated.mkdir()
    assert remove_stale_copies(tmp_path) == 1
    assert not stale.parent.exists()
    assert mine.exists() and unrelated.exists()

"""Logging in: password (any user name), authorized keys, and refusals."""

from __future__ import annotations

import logging
import stat

import asyncssh
import pytest

from journeytui.cli import main
from journeytui.errors import UserError
from journeytui.ssh import ServerConfig, start_server
from tests.ssh.conftest import connect, open_terminal, wait_until


@pytest.fixture(autouse=True)
def short_failed_login_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong password is answered after FAILED_LOGIN_DELAY (0.5 s, to slow guessing);
    here after 10 ms, the refusal itself unchanged."""
    monkeypatch.setattr("journeytui.ssh.server.FAILED_LOGIN_DELAY", 0.01)


async def test_password_any_user_name(make_server) -> None:
    server = await make_server()
    for user in ("demo", "someone-else"):
        conn = await connect(server, username=user)
        term = await open_terminal(conn)
        assert "STANDIN" in await term.wait_text("STANDIN")
        assert [s.user for s in server.sessions.values()] == [user]
        conn.close()
        await term.wait_closed()
        # the server ends the session on its side after the client has gone
        await wait_until(lambda: not server.sessions, "the session to end on the server")


async def test_wrong_password_is_refused(make_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="journeytui.ssh")
    server = await make_server()
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server, password="not-it")
    assert any("refused: wrong password" in r.getMessage() for r in caplog.records)
    assert server.sessions == {}


async def test_key_auth_with_authorized_keys(make_server, tmp_path) -> None:
    allowed = asyncssh.generate_private_key("ssh-ed25519")
    other = asyncssh.generate_private_key("ssh-ed25519")
    keys_file = tmp_path / "authorized_keys"
    allowed.write_public_key(keys_file)
    server = await make_server(password=None, authorized_keys=keys_file)

    conn = await connect(server, password=None, client_keys=[allowed])
    term = await open_terminal(conn)
    await term.wait_text("STANDIN")
    conn.close()

    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server, password=None, client_keys=[other])
    # with keys only, a password is no way in
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server, password="anything")


async def test_password_and_keys_together(make_server, tmp_path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    keys_file = tmp_path / "authorized_keys"
    key.write_public_key(keys_file)
    server = await make_server(authorized_keys=keys_file)
    for how in ({"password": None, "client_keys": [key]}, {}):
        conn = await connect(server, **how)
        term = await open_terminal(conn)
        assert "STANDIN" in await term.wait_text("STANDIN")
        conn.close()


async def test_no_way_to_log_in_refuses_to_start(source_db, tmp_path) -> None:
    config = ServerConfig(db=source_db, port=0, host_key=tmp_path / "k")
    with pytest.raises(UserError, match="--password PW .* --authorized-keys FILE"):
        await start_server(config)
    assert not (tmp_path / "k").exists()  # nothing was made


def test_cli_without_password_or_keys_exits_2(source_db, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("JOURNEYTUI_SSH_PASSWORD", raising=False)
    code = main(["serve-ssh", "--db", str(source_db), "--host-key", str(tmp_path / "k")])
    assert code == 2
    err = capsys.readouterr().err
    assert "no way to log in" in err and "Traceback" not in err


def test_cli_missing_store_exits_2(tmp_path, capsys) -> None:
    missing = tmp_path / "nope.db"
    code = main(["serve-ssh", "--db", str(missing), "--password", "x", "--port", "0"])
    assert code == 2
    assert f"{missing}: no such store" in capsys.readouterr().err


async def test_bad_authorized_keys_file_is_named(source_db, tmp_path) -> None:
    bad = tmp_path / "keys"
    bad.write_text("this is not a key\n")
    config = ServerConfig(db=source_db, port=0, authorized_keys=bad, host_key=tmp_path / "k")
    with pytest.raises(UserError, match=f"{bad}: not an authorized_keys file"):
        await start_server(config)
    config.authorized_keys = tmp_path / "missing"
    with pytest.raises(UserError, match="cannot read --authorized-keys"):
        await start_server(config)


async def test_host_key_made_once_then_kept(make_server, tmp_path) -> None:
    key_path = tmp_path / "keys" / "host_key"
    first = await make_server(host_key=key_path)
    assert first.host_key_created
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    second = await make_server(host_key=key_path)
    assert not second.host_key_created
    assert second.fingerprint == first.fingerprint
    # and a client sees that key
    conn = await connect(second)
    assert conn.get_server_host_key().get_fingerprint() == first.fingerprint
    conn.close()


async def test_unreadable_host_key_is_named(source_db, tmp_path) -> None:
    key_path = tmp_path / "host_key"
    key_path.write_text("garbage")
    config = ServerConfig(db=source_db, port=0, password="x", host_key=key_path)
    with pytest.raises(UserError, match=f"{key_path}: cannot read the SSH host key"):
        await start_server(config)
    assert key_path.read_text() == "garbage"  # left as it was


async def test_port_in_use_is_a_user_error(make_server) -> None:
    server = await make_server()
    with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        await make_server(port=server.port)

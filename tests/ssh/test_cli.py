"""`journeytui serve-ssh` on the command line: flags, checks, and a real server process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from journeytui.cli import build_parser, main


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--max-sessions", "0", "must be at least 1"),
        ("--idle-timeout", "-1", "must be 0 or more seconds"),
        ("--session-ttl", "soon", "is not a number of seconds"),
        ("--rate-limit", "0", "must be at least 1"),
        ("--port", "x", "invalid int value"),
    ],
)
def test_bad_flag_values_are_named(flag, value, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve-ssh", "--password", "x", flag, value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and message in err


def test_defaults() -> None:
    args = build_parser("serve-ssh").parse_args(["serve-ssh", "--password", "pw"])
    assert (args.host, args.port, args.max_sessions) == ("127.0.0.1", 2222, 8)
    assert (args.idle_timeout, args.session_ttl, args.rate_limit) == (600.0, 3600.0, 10)
    assert args.shared is False and args.authorized_keys is None


def test_the_server_imports_no_textual() -> None:
    # the server stays small: the app (and Textual) live only in the session processes
    code = (
        "import sys, journeytui.cli.ssh_cmd, journeytui.ssh, journeytui.ssh.session\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_ssh_process_starts_logs_and_stops_on_sigterm(source_db, tmp_path) -> None:
    port = _free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "JOURNEYTUI_SSH_PASSWORD": "pw"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "journeytui",
            "--db",
            str(source_db),
            "serve-ssh",
            "--port",
            str(port),
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        lines: list[str] = []
        assert proc.stderr is not None
        while not any("connect with" in line for line in lines):
            assert time.monotonic() < deadline, lines
            line = proc.stderr.readline()
            assert line, f"the server ended early: {lines}"
            lines.append(line)
        text = "".join(lines)
        key = tmp_path / "data" / "journeytui" / "ssh_host_ed25519_key"
        assert f"new SSH host key written to {key}" in text
        assert re.search(rf"listening on 127\.0\.0\.1 port {port}: .*host key SHA256:", text)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            assert s.recv(64).startswith(b"SSH-2.0-")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert Path(key).exists()

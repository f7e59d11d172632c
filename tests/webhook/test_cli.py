"""`journeytui serve-webhook` from the command line: refusals, the warning, SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from journeytui.cli import main

from .conftest import body_of, dump, events, get, make_keys, wait_for


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def test_refuses_to_start_without_a_key(db: Path, capsys) -> None:
    code, err = run(["serve-webhook", "--db", str(db)], capsys)
    assert code == 2
    assert "needs at least one provider's verification" in err
    for option in ("--sendgrid-key", "--mailgun-key", "--postmark-auth", "--ses-topic",
                   "--no-verify"):
        assert option in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("not-base64!", "not a public key in base64 DER"),
        ("", "the key is empty"),
        ("@/nonexistent/key.txt", "no such file"),
    ],
)
def test_bad_keys_are_one_clear_line(db: Path, capsys, key: str, says: str) -> None:
    code, err = run(["serve-webhook", "--db", str(db), "--sendgrid-key", key], capsys)
    assert code == 2
    assert says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_rsa_key_is_refused(db: Path, capsys, tmp_path: Path) -> None:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    der = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_file = tmp_path / "key.txt"
    key_file.write_text(base64.b64encode(der).decode() + "\n")
    code, err = run(["serve-webhook", "--db", str(db), "--sendgrid-key", f"@{key_file}"], capsys)
    assert code == 2 and "not an ECDSA P-256 public key" in err


def test_key_and_no_verify_contradict(db: Path, capsys) -> None:
    key = make_keys().public_b64
    code, err = run(["serve-webhook", "--db", str(db), "--sendgrid-key", key, "--no-verify"],
                    capsys)
    assert code == 2 and "contradict" in err


def test_a_port_in_use_is_a_clear_error(db: Path, capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run(["serve-webhook", "--db", str(db), "--no-verify", "--port", str(port)],
                        capsys)
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err


class Lines:
    """A subprocess's stderr, read line by line in a thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stderr is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def find(self, pattern: str) -> re.Match[str] | None:
        for line in list(self.lines):
            m = re.search(pattern, line)
            if m:
                return m
        return None


def test_sigterm_finishes_the_request_in_flight(db: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "journeytui", "serve-webhook", "--db", str(db), "--no-verify",
         "--port", "0"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    out = Lines(proc)
    try:
        m = wait_for(lambda: out.find(r"listening on http://127\.0\.0\.1:(\d+)"), "the server")
        port = int(m.group(1))
        assert out.find(r"WARNING: --no-verify: .*anyone who can reach")
        base = f"http://127.0.0.1:{port}"
        body = body_of(events("Live", n=5))
        before = dump(db)
        # Send the headers and half the body: the request is in flight.
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        conn.sendall(
            b"POST /sendgrid HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:50]
        )
        wait_for(lambda: get(base + "/health")[1].get("in_flight") == 1, "the request in flight")
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: out.find("stopping: finishing the requests in flight"), "the stop")
        assert dump(db) == before
        conn.sendall(body[50:])
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            reply += chunk
        conn.close()
        assert reply.startswith(b"HTTP/1.1 200"), reply
        assert b'"recorded": 11' in reply
        assert proc.wait(timeout=60) == 0
        assert out.find(r"POST /sendgrid 200 sendgrid: 11 events: 11 recorded")
        assert out.find(r"^\S+ \S+ stopped$")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert dump(db) != before
    from journeytui.domain.stats import email_stats
    from journeytui.store import Store

    with Store.open(db, readonly=True) as store:
        assert [(s.name, s.sent, s.delivered) for s in email_stats(store)] == [("Live", 5, 5)]

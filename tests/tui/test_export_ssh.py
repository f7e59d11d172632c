"""In a serve-ssh session a visitor's CSV export stays inside the session's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.tui.screens.main import export_refusal


def test_local_sessions_may_write_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEYTUI_SSH", raising=False)
    monkeypatch.chdir(tmp_path)
    assert export_refusal(Path("/tmp/elsewhere.csv")) is None


def test_ssh_sessions_write_only_in_their_folder(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYTUI_SSH", "1")
    monkeypatch.chdir(tmp_path)
    assert export_refusal(Path("emails.csv")) is None
    assert export_refusal(tmp_path / "sub" / "x.csv") is None
    for bad in ("/etc/cron.d/x.csv", "../x.csv", str(Path.home() / ".bashrc")):
        message = export_refusal(Path(bad))
        assert message is not None and "only be written in the session's own folder" in message

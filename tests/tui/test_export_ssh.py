"""Where an export may be written: anywhere but the store locally; in a serve-ssh
session only a new file in the session's own export folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeytui.export_target import MAX_FILES, ExportPolicy, ExportRefused


def _confined(tmp_path: Path) -> tuple[ExportPolicy, Path, Path]:
    session = tmp_path / "session"
    exports = session / "exports"
    exports.mkdir(parents=True)
    store = session / "journeys.db"
    store.write_bytes(b"the store")
    env = {"JOURNEYTUI_SSH": "1", "JOURNEYTUI_EXPORT_DIR": str(exports)}
    return ExportPolicy.from_env(store, env), exports, store


def test_local_sessions_may_write_anywhere_but_the_store(tmp_path: Path) -> None:
    store = tmp_path / "journeys.db"
    store.write_bytes(b"x")
    policy = ExportPolicy.from_env(store, {})
    assert not policy.confined
    assert policy.target(str(tmp_path / "elsewhere.csv")) == tmp_path / "elsewhere.csv"
    for bad in (str(store), str(store) + "-wal", str(tmp_path / "." / "journeys.db-shm")):
        with pytest.raises(ExportRefused, match="is the store"):
            policy.target(bad)


def test_local_export_replaces_through_a_part_file(tmp_path: Path) -> None:
    policy = ExportPolicy.from_env(tmp_path / "journeys.db", {})
    target = tmp_path / "out.csv"
    target.write_text("old")
    policy.write_lines(target, iter(["a,b\r\n", "1,2\r\n"]))
    assert target.read_bytes() == b"a,b\r\n1,2\r\n"
    assert not (tmp_path / "out.csv.part").exists()


@pytest.mark.parametrize(
    "typed",
    [
        "/etc/cron.d/x.csv",
        "../journeys.db",
        "../server.pid",
        "sub/x.csv",
        "..",
        "~/.bashrc",
        ".bashrc",
        "a\\b.csv",
        "x\x00.csv",
    ],
)
def test_ssh_sessions_refuse_every_path_but_a_plain_name(tmp_path: Path, typed: str) -> None:
    policy, _, store = _confined(tmp_path)
    with pytest.raises(ExportRefused):
        policy.target(typed)
    assert store.read_bytes() == b"the store"


def test_ssh_session_writes_a_new_file_in_its_folder_only(tmp_path: Path) -> None:
    policy, exports, _ = _confined(tmp_path)
    assert policy.default_name("emails") == "emails.csv"
    path = policy.target("emails.csv")
    assert path == exports / "emails.csv"
    policy.write_lines(path, iter(["a\r\n"]))
    assert path.read_bytes() == b"a\r\n"
    # never over a file that exists, even one it wrote itself
    with pytest.raises(ExportRefused, match="exists already"):
        policy.target("emails.csv")
    assert policy.default_name("emails") == "emails-2.csv"


def test_ssh_session_does_not_follow_a_symlink(tmp_path: Path) -> None:
    policy, exports, store = _confined(tmp_path)
    (exports / "link.csv").symlink_to(store)
    with pytest.raises(ExportRefused):
        policy.target("link.csv")
    # and a link planted between the check and the write is not followed either
    path = exports / "race.csv"
    path.symlink_to(store)
    with pytest.raises(FileExistsError):
        policy.write_lines(path, iter(["overwritten"]))
    assert store.read_bytes() == b"the store"


def test_ssh_session_marked_but_without_a_folder_cannot_export(tmp_path: Path) -> None:
    policy = ExportPolicy.from_env(tmp_path / "journeys.db", {"JOURNEYTUI_SSH": "1"})
    with pytest.raises(ExportRefused, match="no folder of its own"):
        policy.target("x.csv")


def test_ssh_session_exports_are_limited_in_number(tmp_path: Path) -> None:
    policy, exports, _ = _confined(tmp_path)
    for n in range(MAX_FILES):
        (exports / f"f{n}.csv").write_text("x")
    with pytest.raises(ExportRefused, match="most a demo session may write"):
        policy.target("one-more.csv")

"""A full disk or a file-size limit during a write: "disk full, nothing was changed",
exit 2, and the store is exactly what it was.

The bug: SQLite had already rolled the transaction back, the explicit ROLLBACK then
failed, and the user read "unexpected error: OperationalError: cannot rollback - no
transaction is active" (exit 1).
"""

from __future__ import annotations

import json
import resource
import shlex
import sys
from pathlib import Path

import pytest

from tests.hostile.conftest import (
    contacts_csv,
    digest,
    in_mount_namespace,
    mount_namespace_available,
    run_cli,
    run_main,
)

# New contacts to import: their write-ahead log (about 520 KB for 2,000) is far past what
# either test leaves room for (16 KB, 64 KB); 20,000 only took longer to read.
CONTACTS = 2_000


def test_file_size_limit_during_an_import_says_disk_full_and_changes_nothing(
    small_db: Path, tmp_path: Path
) -> None:
    csv_file = contacts_csv(tmp_path / "contacts.csv", CONTACTS)
    before = digest(small_db)
    stats_before = run_main("--db", str(small_db), "stats", "--json").out
    limit = small_db.stat().st_size + 16_384  # the WAL cannot grow past this

    def limited() -> None:  # SIGXFSZ keeps Python's default: ignored, so write() fails
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = run_cli("--db", str(small_db), "import", "contacts", str(csv_file),
                     preexec_fn=limited)
    err = result.refused("disk full", "nothing was changed", str(small_db))
    assert "ulimit -f" in err and "rollback" not in err.lower()
    assert digest(small_db) == before
    # the store still opens and says what it said
    assert run_main("--db", str(small_db), "stats", "--json").out == stats_before
    check = run_main("--db", str(small_db), "contact", "user1", "--json")
    assert json.loads(check.out) == [] or all(
        c["address"] != "user1@example.com" for c in json.loads(check.out)
    )


@pytest.mark.skipif(not mount_namespace_available(),
                    reason="needs root with CAP_SYS_ADMIN for a private tmpfs (CI has it)")
def test_a_full_filesystem_during_an_import_says_disk_full_and_changes_nothing(
    small_db: Path, tmp_path: Path
) -> None:
    csv_file = contacts_csv(tmp_path / "contacts.csv", CONTACTS)
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    size_kb = small_db.stat().st_size // 1024 + 64  # room for the store, not the import
    q = shlex.quote
    result = in_mount_namespace(
        f"mount -t tmpfs -o size={size_kb}k tmpfs {q(str(mnt))}\n"
        f"cp {q(str(small_db))} {q(str(mnt))}/journeys.db\n"
        f"set +e\n"
        f"{q(sys.executable)} -m journeytui --db {q(str(mnt))}/journeys.db import contacts "
        f"{q(str(csv_file))} 2> {q(str(tmp_path))}/err.txt\n"
        f"echo $? > {q(str(tmp_path))}/code.txt\n"
        f"set -e\n"
        f"cp {q(str(mnt))}/journeys.db {q(str(tmp_path))}/after.db\n",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    err = (tmp_path / "err.txt").read_text()
    assert (tmp_path / "code.txt").read_text().strip() == "2", err
    assert err.startswith("journeytui: ") and "Traceback" not in err
    assert "disk full" in err and "nothing was changed" in err
    assert (tmp_path / "after.db").read_bytes() == small_db.read_bytes()


"""Hostile contacts CSV files (the importer this suite's owner keeps): each is refused
whole with the file, line and field named, exit 2, and the store is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.conftest import digest, run_main

HEADER = b"email,first_name,last_name,tracking_consent,lists\n"

CASES = {
    "nul-in-a-name": (HEADER + b"eve@example.com,E\x00ve,Z,yes,News\n",
                      ["line 2", "field 'first_name'", "NUL"]),
    "escape-in-a-list": (HEADER + b"eve@example.com,Eve,Z,yes,\x1b]0;pwned\x07\n",
                         ["line 2", "field 'lists'", "control character"]),
    "binary-file": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, []),
    "not-utf8": (HEADER + b"eve@example.com,\xff\xfe\xfa,Z,yes,News\n", []),
    "utf16": ("email,first_name\neve@example.com,Eve\n".encode("utf-16"), []),
    "only-a-header-of-junk": (b"\x00\x00\x00\n", []),
    "too-many-fields": (HEADER + b"eve@example.com,Eve,Z,yes,News,extra\n",
                        ["line 2", "6 fields"]),
    "quote-never-closed": (HEADER + b'eve@example.com,"Eve,Z,yes,News\n', []),
    "consent-is-a-formula": (HEADER + b"eve@example.com,Eve,Z,=1+1,News\n",
                             ["line 2", "field 'tracking_consent'"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_contacts_file_is_refused_and_nothing_is_imported(
    small_db: Path, tmp_path: Path, case: str
) -> None:
    content, words = CASES[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(content)
    before = digest(small_db)
    result = run_main("--db", str(small_db), "import", "contacts", str(path))
    err = result.refused(str(path), *words)
    assert "\x00" not in err and "\x1b" not in err
    assert digest(small_db) == before


@pytest.mark.parametrize("what", ["missing", "directory"])
def test_an_import_path_that_is_no_file_is_named(small_db: Path, tmp_path: Path, what: str) -> None:
    path = tmp_path / "contacts.csv"
    if what == "directory":
        path.mkdir()
    before = digest(small_db)
    run_main("--db", str(small_db), "import", "contacts", str(path)).refused(str(path))
    assert digest(small_db) == before

"""Text from data never reaches the terminal raw: control characters, bidi overrides,
zero-width and other format characters are made visible, in the CLI, the TUI, the
importers' messages, the SSH log and CSV cells.

The attack: a contact named ``abc\\u202egpj.exe`` read as ``abcexe.jpg``.
"""

from __future__ import annotations

import csv
import io
import sys
import unicodedata
from pathlib import Path

import pytest

from journeytui.store import Recorder
from journeytui.textsafe import csv_cell, safe_text
from tests.blank_store import blank_store
from tests.hostile.conftest import T0, run_main

SPOOF = "abc\u202egpj.exe"
SHOWN = "abc\\u202egpj.exe"
# bidi embeddings/overrides/isolates, marks, zero-width, BOM, line separators, a tag
FORMAT_CHARS = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u2028\u2029\U000e0041"
)


def raw_unsafe(text: str) -> list[str]:
    """The characters of *text* that must never reach a terminal."""
    return [
        ch for ch in text
        if (unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") and ch != "\n")
    ]


def test_safe_text_escapes_every_format_and_control_character() -> None:
    assert safe_text(SPOOF) == SHOWN
    assert safe_text("a\x1b[2Jb\x07\x9b") == "a\\x1b[2Jb\\x07\\x9b"
    assert safe_text("tab\tnew\nline\r") == "tab new line "
    assert safe_text("\ud800") == "\\ud800"  # a lone surrogate (unencodable)
    assert safe_text("x" * 10 + "\u202e", 8) == "xxxxxxx…"
    for ch in FORMAT_CHARS:
        assert raw_unsafe(safe_text(f"a{ch}b")) == [], repr(ch)
    # every Cf/Cc/Cs/Zl/Zp code point this Python knows, not only the listed ones
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            assert ch not in safe_text(ch), hex(code)
    # ordinary text is untouched: accents, CJK, emoji, RTL letters themselves
    for text in ("Zoë Ñúñez", "李小龙", "👍🏽", "שלום עולם", "مرحبا"):
        assert safe_text(text) == text


def test_csv_cells_carry_no_format_characters_and_no_formula() -> None:
    assert csv_cell(SPOOF) == SHOWN
    assert csv_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert csv_cell("\tcmd") == "'\\x09cmd"
    assert csv_cell("\r=1") == "'\\x0d=1"
    assert csv_cell("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert csv_cell(3) == 3 and csv_cell(None) == ""
    buf = io.StringIO()
    csv.writer(buf).writerow([csv_cell(v) for v in (SPOOF, "x\ny", "\u2066ok\u2069")])
    assert raw_unsafe(buf.getvalue().rstrip("\r\n")) == []
    assert buf.getvalue().count("\n") == 1  # one row, one line


def test_importer_messages_and_ssh_log_use_the_same_cleaner() -> None:
    from journeytui.importers._report import printable

    assert printable(SPOOF) == safe_text(SPOOF) == SHOWN
    assert printable(b"\x1b") == "b'\\x1b'"  # a non-string is shown as its repr
    from journeytui.ssh import server, session

    assert not hasattr(session, "clean_text")  # the old, different cleaner is gone
    assert server.safe_text is safe_text


@pytest.fixture
def spoof_db(tmp_path: Path) -> Path:
    path = tmp_path / "spoof.db"
    store = blank_store(path, token_key=b"s" * 16)
    with store.transaction():
        rec = Recorder(store)
        news = rec.ensure_list("News\u2067x")
        email = rec.ensure_email(SPOOF, subject="Invoice \u202eFDP.exe", list_id=news,
                                 status="sent", send_at=T0)
        eve = rec.contact("eve@example.com", first_name=SPOOF, last_name="Z\u200bero",
                          consent=True, at=T0 - 100)
        assert eve is not None
        rec.subscribe(eve, news, "subscribed", T0 - 100)
        rec.send(email, eve, T0)
        rec.click(email, eve, "https://x.example/\u202eevil", T0 + 600)
    store.close()
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["contact", "abc"],
        ["contact", "eve@example.com"],
        ["stats"],
        ["stats", "--email", SPOOF],
        ["activities", SPOOF],
        ["contact", "\u202enobody\x1b[2J"],  # the query itself is data too
    ],
    ids=["contact-by-name", "contact-by-address", "stats", "stats-email", "activities",
         "query"],
)
def test_cli_text_never_carries_a_raw_format_character(spoof_db: Path, argv: list[str]) -> None:
    result = run_main("--db", str(spoof_db), *argv)
    assert result.code in (0, 1), result.err
    assert "Traceback" not in result.err
    assert raw_unsafe(result.out) == [] and raw_unsafe(result.err) == []
    if argv[0] != "contact" or argv[1] != "\u202enobody\x1b[2J":
        assert SHOWN in result.out


async def test_tui_shows_the_spoofed_name_escaped(spoof_db: Path, app_factory, settle) -> None:
    from tests.tui.test_text_safety import screen_text

    app = app_factory(spoof_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert SHOWN in text and raw_unsafe(text.replace("\n", "")) == []
        await pilot.press("3", *"abc")  # the Contacts pane, searched
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert f"{SHOWN} Z\\u200bero" in text
        assert raw_unsafe(text.replace("\n", "")) == []

"""The demo's names: a long tail, as a real list has, from a stream of their own."""

from __future__ import annotations

import random
import sqlite3

from journeytui.demo.names import (
    FIRST_NAMES,
    LAST_NAMES,
    TAIL_FIRST,
    TAIL_LAST,
    NamePicker,
)


def _draw(n: int, seed: int) -> list[tuple[str, str]]:
    """n names as the generator draws them (common pair from one stream, tail from its own)."""
    common = random.Random(seed)
    pick = NamePicker(seed)
    return [
        pick(FIRST_NAMES[common.randrange(len(FIRST_NAMES))],
             LAST_NAMES[common.randrange(len(LAST_NAMES))])
        for _ in range(n)
    ]


def test_a_large_list_has_thousands_of_distinct_names() -> None:
    names = _draw(100_000, 2026)
    first = {f for f, _ in names}
    last = {s for _, s in names}
    # The tail: 346 first names and 1,436 surnames, Zipf weights 1/(rank + 8).  The
    # rarest surname's chance per draw is 0.6 (tail share) × (1/1444) / H, with
    # H = Σ 1/(r+8) over 1,436 ranks ≈ ln(1444/8) ≈ 5.2: 100,000 draws expect 8 of it,
    # so (nearly) every tail surname shows; likewise every tail first name (≈ 33 each).
    assert len(TAIL_FIRST) == 346 and len(TAIL_LAST) == 1_436
    assert len(last) >= 1_400 + 100  # the tail and (most of) the 116 common ones
    assert len(first) >= 340 + 100
    # the old generator had 115 + 116 = 231 names at any size
    assert len(first) + len(last) > 8 * 231
    assert len(set(names)) > 50_000  # full names: far more than the 13,340 pairs of old


def test_the_tail_is_deterministic_by_seed() -> None:
    assert _draw(500, 7) == _draw(500, 7)
    assert _draw(500, 7) != _draw(500, 8)


def test_common_names_stay_common(default_conn: sqlite3.Connection) -> None:
    """Zipf-like: a few names are frequent, most are rare (a real list looks so)."""
    counts = [n for (n,) in default_conn.execute(
        "SELECT count(*) FROM contacts GROUP BY last_name ORDER BY 1 DESC")]
    assert len(counts) > 500  # 2,000 contacts: hundreds of surnames, not 116
    assert counts[0] >= 10 and counts[-1] == 1

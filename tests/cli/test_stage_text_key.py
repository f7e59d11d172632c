"""The text list of a stage's contacts reads, instead of each contact's time in the
stage, a key of what its last cells show (minute, whole days, stalled): times with
one key show the same cells, whatever the evaluation time's second."""

from __future__ import annotations

import math
import sqlite3

import pytest

from journeytui.domain.in_stage import text_key_since, text_key_sql

DAY = 86_400


def _shown(since: int, now: int, limit: int) -> tuple[int, int, bool]:
    """What the text list shows of a time, from PRODUCT.md: the minute, the whole days
    completed of the days in the stage to one decimal (never below 0), stalled or
    not (in the stage since before the limit)."""
    return since // 60, max(0, math.floor(round((now - since) / DAY, 1))), since < limit


def _keys(sinces: list[int], now: int) -> list[int]:
    """The keys SQLite gives the times *sinces* (evaluation time *now*)."""
    conn = sqlite3.connect(":memory:")
    sql = f"SELECT {text_key_sql(':t')}"
    return [conn.execute(sql, {"t": s, "second": now % 60}).fetchone()[0] for s in sinces]


@pytest.mark.parametrize("now", [1_793_491_158, 1_793_491_140, 1_793_491_199, 17])
def test_one_key_one_set_of_cells(now: int) -> None:
    limit = now - 30 * DAY
    # around each change of the days shown (4,320 s before a whole number of days
    # before now: 1.95 days is the float 1.9499999999999999556, shown 1; a second
    # earlier 1.950012 days, shown 2), the stalled limit, now, and times before 1970
    edges = [now - k * DAY + 4_320 for k in (1, 2, 3, 31)] + [limit, now, 0, -3_600]
    sinces = sorted({e + d for e in edges for d in range(-130, 131)})
    seen: dict[int, tuple[int, int, bool]] = {}
    for since, key in zip(sinces, _keys(sinces, now), strict=True):
        shown = _shown(since, now, limit)
        assert seen.setdefault(key, shown) == shown, (since, key)
        # the time a key stands for shows the same
        assert _shown(text_key_since(key, now % 60), now, limit) == shown, (since, key)
    # the key is coarser than the second: at most three keys a minute
    assert len(seen) <= 3 * len({s // 60 for s in sinces})


def test_the_day_changes_between_two_seconds() -> None:
    now = 1_793_491_158  # 18 s into its minute
    edge = now - 2 * DAY + 4_320  # 1.95 days before now: shown 1 (see above)
    assert [_shown(s, now, 0)[1] for s in (edge - 1, edge, edge + 1)] == [2, 1, 1]
    k_before, k_at, k_after = _keys([edge - 1, edge, edge + 1], now)
    assert k_before != k_at  # same minute, different days shown
    assert (edge - 1) // 60 == edge // 60

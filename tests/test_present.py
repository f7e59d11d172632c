"""The one wording of figures (journeytui.present), worked out by hand."""

from __future__ import annotations

from journeytui import present


def test_rates_and_points() -> None:
    assert present.pct(None) == "—"  # no denominator: nothing to divide by
    assert present.pct(0.1234) == "12.3 %"  # 0.1234 × 100 = 12.34 → one decimal
    assert present.pct(0.5, 0) == "50 %"
    assert present.pts(0.012) == "+1.2 pts"  # 0.012 × 100 = 1.2 points
    assert present.pts(-0.25) == "−25.0 pts"  # a minus sign, not a hyphen
    assert present.pts(None) == "—"


def test_days() -> None:
    assert present.days(None) == "—"
    assert present.days(0.04) == "< 0.1"
    assert present.days(1.74) == "1.7"  # one decimal below 10 days
    assert present.days(298.4) == "298"  # whole days from 10 on
    assert present.whole_days(298.9) == "298"  # days in a stage: completed days
    assert present.whole_days(-0.2) == "0"
    assert present.whole_days(None) == "—"


def test_activity_labels() -> None:
    assert present.activity_label("click", bot=True) == "click (bot?)"
    assert present.activity_label("click") == "click"
    assert present.activity_label("open", machine=True) == "machine open"
    assert present.activity_label("unsubscribe") == "unsubscribe"


def test_counts_times_sizes() -> None:
    assert present.num(None) == "—" and present.num(1234567) == "1,234,567"
    assert present.when(None) == "—"
    assert present.when(1_767_261_600) == "2026-01-01 10:00"  # 1,767,225,600 is 00:00 UTC
    assert present.plural(1, "activity") == "1 activity"
    assert present.plural(2, "activity") == "2 activities"
    assert present.size(2048) == "2 kB"

"""The panes' name for :mod:`journeytui.present` (the one wording of figures, rates,
times and activities, shared with the CLI)."""

from __future__ import annotations

from journeytui.present import (
           DASH,
           activity_label,
           days,
           num,
           pct,
           plural,
           pts,
           size,
           when,
           whole_days,
)

__all__ = ["DASH", "activity_label", "days", "num", "pct", "plural", "pts", "size", "when",
           "whole_days"]

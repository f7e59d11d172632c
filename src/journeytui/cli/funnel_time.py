"""`funnel NAME --as-of / --entered-from / --entered-to / --within / --compare …`:
the funnel at a past time, for an entry cohort, and the change between two of them
(journeytui.domain.cohort has the rules)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from journeytui.cli.output import open_store, print_json, table
from journeytui.errors import UserError
from journeytui.present import DASH, pct, pts
from journeytui.textsafe import safe_text


def add_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("time and cohorts")
    g.add_argument("--as-of", metavar="DATE",
                   help="the funnel as it stood then (a date alone: the end of that day UTC)")
    g.add_argument("--entered-from", metavar="DATE",
                   help="entry cohort: contacts who entered the journey from DATE (included)")
    g.add_argument("--entered-to", metavar="DATE",
                   help="entry cohort: contacts who entered up to DATE (the whole day)")
    g.add_argument("--within", type=int, metavar="DAYS",
                   help="with a cohort: count each contact's moves only within DAYS of its entry")
    g.add_argument("--compare", metavar="DATE",
                   help="show the change per stage from the funnel as of DATE to this one")
    g.add_argument("--compare-cohort", metavar="FROM..TO",
                   help="show the change per stage from the cohort that entered FROM..TO "
                   "to this cohort (same --within and --as-of)")


def wanted(args: argparse.Namespace) -> bool:
    return any(getattr(args, k, None) is not None for k in (
        "as_of", "entered_from", "entered_to", "within", "compare", "compare_cohort"))


def run(args: argparse.Namespace) -> int:
    from journeytui.domain.cohort import (
        Slice,
        compare_slices,
        parse_range,
        parse_when,
        slice_funnel,
    )

    if args.stage or args.contacts or args.csv or args.stalled:
        raise UserError("--stage/--contacts list who is in a stage now; they do not go with "
                        "--as-of, a cohort or a comparison")
    if args.compare is not None and args.compare_cohort is not None:
        raise UserError("--compare DATE and --compare-cohort FROM..TO: give one of them")
    sl = Slice(
        as_of=parse_when(args.as_of, "--as-of", end_of_day=True) if args.as_of else None,
        entered_from=parse_when(args.entered_from, "--entered-from")
        if args.entered_from else None,
        entered_to=parse_when(args.entered_to, "--entered-to", end_of_day=True)
        if args.entered_to else None,
        within_days=args.within,
    )
    sl.check()
    before: Slice | None = None
    if args.compare is not None:
        t = parse_when(args.compare, "--compare", end_of_day=True)
        before = Slice(t, sl.entered_from, sl.entered_to, sl.within_days)
    elif args.compare_cohort is not None:
        lo, hi = parse_range(args.compare_cohort, "--compare-cohort")
        before = Slice(sl.as_of, lo, hi, sl.within_days)
    with open_store(args, readonly=True) as store:
        if before is not None:
            data = compare_slices(store, args.name, before, sl, stall_days=args.stall_days)
        else:
            data = slice_funnel(store, args.name, sl, stall_days=args.stall_days)
    if args.json:
        print_json(data)
    elif before is not None:
        print(format_comparison(data, before, sl))
    else:
        print(format_slice(data, sl))
    return 0


def _evaluated(data: dict[str, Any]) -> int | None:
    """A funnel's ``evaluated_at`` (ISO, as in the JSON) as seconds."""
    iso = data.get("evaluated_at")
    if not iso:
        return None
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _which(data: dict[str, Any], sl: Any) -> str:
    from journeytui.domain.cohort import describe

    return describe(sl, _evaluated(data) if sl.as_of is None else None)


def format_slice(data: dict[str, Any], sl: Any) -> str:
    """The plain funnel's text, its second line saying which funnel this is (the
    date, the cohort) once, times as ``YYYY-MM-DD HH:MM`` UTC."""
    from journeytui.cli.journey_cmd import format_funnel

    shown = dict(data)
    if shown["clicks_with_no_move"] is None:
        shown["clicks_with_no_move"] = []
    title, _, rest = format_funnel(shown).split("\n", 2)  # its "as of" line is said here
    stalled = f"stalled = more than {data['stall_days']} days in a stage"
    if sl.is_cohort:  # a long description: the counts on a line of their own
        head = [_which(data, sl), f"{data['in_journey']:,} contacts in this cohort; {stalled}"]
    else:
        head = [f"{_which(data, sl)}; {data['in_journey']:,} contacts in the journey; {stalled}"]
    out = "\n".join([title, *head, rest])
    if data["clicks_with_no_move"] is None:
        out += ("\n\n(clicks with no move are counted per journey, not per date or cohort:"
                " see the plain funnel)")
    return out


def _num(v: float | int | None, rate: bool) -> str:
    if v is None:
        return DASH
    return pct(v) if rate else f"{v:,}"


def _change(cell: dict[str, Any], rate: bool = False) -> str:
    a, b, d = cell["before"], cell["after"], cell["delta"]
    if d is None:
        delta = ""
    elif rate:
        delta = f" ({pts(d)})"
    else:
        delta = f" ({d:+,})"
    return f"{_num(a, rate)} → {_num(b, rate)}{delta}"


def format_comparison(data: dict[str, Any], before: Any, after: Any) -> str:
    lines = [f"{safe_text(data['journey'])}: change per stage",
             f"before: {_which(data['before'], before)}",
             f"after:  {_which(data['after'], after)}",
             f"contacts in the journey: {_change(data['in_journey'])}",
             ""]
    lines.append(table(
        ["stage", "reached", "current", "cumulative", "stalled"],
        [(s["stage"], _change(s["reached"]), _change(s["current"]),
          _change(s["cumulative_conversion"], True),
          _change(s["stalled"]) if s["stalled"]["after"] is not None else "goal")
         for s in data["stages"]],
        {1, 2, 3, 4},
    ))
    if data["exits"]:
        lines.append("")
        lines.append("exits: " + "; ".join(
            f"{safe_text(e['stage'])} now {_change(e['current'])}, ever {_change(e['reached'])}"
            for e in data["exits"]))
    return "\n".join(lines)

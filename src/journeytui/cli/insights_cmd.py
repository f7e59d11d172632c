"""`insights JOURNEY`: what moved people, where they stall, who to follow up."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from journeytui.cli.output import open_store, print_json, table
from journeytui.errors import UserError
from journeytui.present import pct, pts
from journeytui.textsafe import safe_text
from journeytui.timefmt import fmt_time

TOP = 10


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    from journeytui.domain.insights import DEFAULT_DAYS

    p = sub.add_parser(
        "insights", parents=[common],
        help="a journey's findings: stalls after a message, clicks without progress, "
             "unsubscribe spikes, dormant contacts re-engaging")
    p.add_argument("name", metavar="JOURNEY")
    p.add_argument("--json", action="store_true", help="JSON output (every finding)")
    p.add_argument("--days", type=int, default=DEFAULT_DAYS, metavar="D",
                   help=f"how long after a message or a click counts as not moving on "
                        f"(default {DEFAULT_DAYS})")
    p.add_argument("--finding", metavar="ID", help="with --contacts: the finding (its id)")
    p.add_argument("--contacts", action="store_true",
                   help="list the contacts behind --finding")
    p.add_argument("--csv", metavar="FILE", help="with --contacts: write them as CSV to FILE")
    p.add_argument("--all", action="store_true",
                   help=f"text output: every finding, not the first {TOP} of each pattern")
    p.set_defaults(func=cmd_insights)


def cmd_insights(args: argparse.Namespace) -> int:
    from journeytui.domain import insights as ins

    if (args.contacts or args.csv) and not args.finding:
        raise UserError("--contacts and --csv need --finding ID (`journeytui insights "
                        "JOURNEY` lists the ids)")
    if args.finding and not (args.contacts or args.csv):
        raise UserError("--finding ID goes with --contacts (list the contacts behind it)")
    with open_store(args, readonly=True) as store:
        if args.finding:
            kind = ins.finding_kind(args.finding)
            rows = ins.finding_contacts(store, args.name, args.finding, days=args.days,
                                        limit=None)
            if args.csv:
                out = Path(args.csv)
                try:
                    out.write_text(ins.contacts_csv(rows, kind), encoding="utf-8")
                except OSError as exc:
                    raise UserError(f"{out}: cannot write: {exc.strerror or exc}") from None
                print(f"wrote {len(rows):,} contacts to {out}")
            elif args.json:
                print_json([r.to_json() for r in rows])
            else:
                print(table(["contact", "name", ins.TIME_LABELS[kind]],
                            [(r.email, f"{r.first_name} {r.last_name}".strip(),
                              fmt_time(r.at)) for r in rows], set()))
                print(f"{len(rows):,} contacts")
            return 0
        result = ins.insights(store, args.name, days=args.days)
    if args.json:
        print_json(result.to_json())
    else:
        print(format_insights(result, top=None if args.all else TOP))
    return 0


def _more(items: list[Any], top: int | None) -> tuple[list[Any], list[str]]:
    if top is None or len(items) <= top:
        return items, []
    return items[:top], [f"  … {len(items) - top} more (--all or --json for every one)"]


def format_insights(r: Any, top: int | None = TOP) -> str:
    from journeytui.domain.insights import MIN_COUNT, MIN_EVENTS

    lines = [(f"{safe_text(r.journey)}: insights as of {fmt_time(r.evaluated_at)} UTC; "
              f"not moved on = still in the stage {r.days} days later"),
             (f"shown only when a share rests on at least {MIN_COUNT} contacts "
              f"(dormant: and {MIN_EVENTS} re-engaged); ⚠ = worth acting on")]

    def section(title: str, items: list[Any], kind: str, headers: list[str],
                cells: Any, right: set[int]) -> None:
        lines.append("")
        left = r.left_out.get(kind, 0)
        lines.append(f"{title} ({len(items)}" + (f"; {left} left out, too few contacts)"
                                                   if left else ")"))
        if not items:
            lines.append("  (nothing to show)")
            return
        shown, more = _more(items, top)
        lines.append(table(["", "id", *headers],
                           [("⚠" if f.flagged else "", f.id, *cells(f)) for f in shown],
                           {i + 2 for i in right}))
        lines.extend(more)
        best = next((f for f in items if f.flagged), None)
        if best is not None:
            lines.append(f"  ⚠ {best.reading}")

    section("Stall after a message", r.stall, "stall",
            ["email", "stage", "not moved", "baseline", "diff"],
            lambda f: (f.email, f.stage, f"{pct(f.share)} of {f.sent:,}",
                       f"{pct(f.baseline_share)} of {f.baseline:,}",
                       pts(f.difference)), {2, 3, 4})
    section("Clicks without progress", r.clicks, "clicks",
            ["email", "link", "stage", "not moved"],
            lambda f: (f.email, f.url, f.stage,
                       f"{f.not_moved:,} of {f.clickers:,} ({pct(f.share)})"), {3})
    section("Unsubscribe spikes", r.unsubscribes, "unsubscribes",
            ["email", "list", "unsubscribed", "list median", "×"],
            lambda f: (f.email, f.list, (f"{f.unsubscribed:,} of {f.delivered:,} "
                       f"({pct(f.rate)})"), pct(f.list_median),
                       "—" if f.times_median is None else f"{f.times_median:.1f}"),
            {2, 3, 4})
    section("Dormant re-engaging", r.dormant, "dormant",
            ["email", "exit stage", "clicked", "came back"],
            lambda f: (f.email, f.stage, f"{f.reengaged:,} of {f.recipients:,}",
                       f"{f.back:,}"), {2, 3})
    lines.append("")
    lines.append("contacts behind a finding: journeytui insights JOURNEY --finding ID "
                 "--contacts [--csv FILE]")
    return "\n".join(lines)

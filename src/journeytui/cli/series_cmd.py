"""`timing EMAIL` (opens and clicks by hour and day after the send) and `series LIST`
(a list's last emails side by side, with the change from one to the next)."""

from __future__ import annotations

import argparse
from typing import Any

from journeytui.cli.output import open_store, print_json, table
from journeytui.present import pct, pts
from journeytui.textsafe import safe_text
from journeytui.timefmt import fmt_time

BAR = 30


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("timing", parents=[common],
                       help="an email's opens and clicks by hour and by day after the send")
    p.add_argument("email", metavar="EMAIL")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_timing)

    p = sub.add_parser("series", parents=[common],
                       help="the last emails of a list side by side, with their changes")
    p.add_argument("list", metavar="LIST")
    p.add_argument("--last", type=int, default=5, metavar="N", help="how many (default 5)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_series)


def _bar(n: int, top: int) -> str:
    return "█" * (round(n / top * BAR) if top else 0) if n else ""


def cmd_timing(args: argparse.Namespace) -> int:
    from journeytui.domain.timing import DAYS, timing

    with open_store(args, readonly=True) as store:
        t = timing(store, args.email)
    if args.json:
        print_json(t.to_json())
        return 0
    print(f"{safe_text(t.email)} — sent {fmt_time(t.send_at)} UTC")
    print(f"opens and clicks of contacts with tracking consent (machine opens and suspected "
          f"bot clicks left out): {t.opens:,} opens, {t.clicks:,} clicks; the statistics hold "
          f"{t.anonymous_opens:,} opens and {t.anonymous_clicks:,} clicks more, anonymous")
    med_o = "—" if t.median_hours_to_first_open is None else f"{t.median_hours_to_first_open} h"
    med_c = "—" if t.median_hours_to_first_click is None else f"{t.median_hours_to_first_click} h"
    print(f"{t.openers:,} openers (median {med_o} to the first open), {t.clickers:,} clickers "
          f"(median {med_c} to the first click)")
    if t.before_send:
        print(f"{t.before_send:,} stamped before the send time: left out")
    top = max(t.hour_opens + t.hour_clicks) or 1
    print()
    print(table(["hour after send", "opens", "clicks", ""],
                [(f"{h}–{h + 1} h", f"{o:,}", f"{c:,}", _bar(max(o, c), top))
                 for h, (o, c) in enumerate(zip(t.hour_opens, t.hour_clicks, strict=True))],
                {1, 2}))
    top = max(t.day_opens + t.day_clicks) or 1
    print()
    print(table(["day after send", "opens", "clicks", ""],
                [(f"day {d}" if d < DAYS else f"day {DAYS} and later", f"{o:,}", f"{c:,}",
                  _bar(max(o, c), top))
                 for d, (o, c) in enumerate(zip(t.day_opens, t.day_clicks, strict=True))],
                {1, 2}))
    return 0


def _delta(v: float | None) -> str:
    return "" if v is None else f" ({pts(v)})"


def cmd_series(args: argparse.Namespace) -> int:
    from journeytui.domain.timing import series

    with open_store(args, readonly=True) as store:
        items = series(store, args.list, last=args.last)
    if args.json:
        print_json({"list": args.list, "last": args.last,
                    "emails": [i.to_json() for i in items]})
        return 0
    if not items:
        print(f"No sent emails in '{safe_text(args.list)}'.")
        return 0
    print(f"{safe_text(args.list)}: the last {len(items)} sent emails, oldest first "
          "(in brackets: the change from the email before, in points)")
    print(table(
        ["email", "sent at", "delivered", "open rate", "click rate", "click-to-open",
         "unsub rate"],
        [(i.stats.name, fmt_time(i.stats.send_at), f"{i.stats.delivered:,}",
          pct(i.stats.open_rate) + _delta(i.delta["open_rate"]),
          pct(i.stats.click_rate) + _delta(i.delta["click_rate"]),
          pct(i.stats.click_to_open) + _delta(i.delta["click_to_open"]),
          pct(i.stats.unsubscribe_rate) + _delta(i.delta["unsubscribe_rate"]))
         for i in items],
        {2, 3, 4, 5, 6},
    ))
    return 0

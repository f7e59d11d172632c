"""`explain`: the events behind a figure of an email, or behind a contact's journey
moves, with where each came from (file and line, webhook request, provider event id)."""

from __future__ import annotations

import argparse
from typing import Any

from journeytui.cli.output import open_store, print_json, table
from journeytui.domain.provenance import (
    DEFAULT_LIMIT,
    FIGURE_TITLES,
    FIGURES,
    explain_figure,
    explain_moves,
)
from journeytui.errors import UserError
from journeytui.textsafe import safe_text
from journeytui.timefmt import fmt_time


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "explain", parents=[common],
        help="the events behind a figure of an email, or behind a contact's journey moves",
        description="journeytui explain EMAIL --figure clicked [--link TEXT] | "
        "journeytui explain --contact ADDRESS --journey NAME",
    )
    p.add_argument("email_name", metavar="EMAIL", nargs="?", help="the email's name")
    p.add_argument("--figure", choices=FIGURES, help="which figure of the email")
    p.add_argument("--link", metavar="TEXT", help="with --figure clicked: links containing TEXT")
    p.add_argument("--contact", metavar="ADDRESS", help="a contact's moves (with --journey)")
    p.add_argument("--journey", metavar="NAME", help="the journey of --contact")
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                   help=f"events listed (default {DEFAULT_LIMIT}; 0 = all)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    if args.contact or args.journey:
        if not (args.contact and args.journey):
            raise UserError("explain: --contact ADDRESS and --journey NAME go together")
        if args.email_name or args.figure:
            raise UserError("explain: give either EMAIL --figure F or --contact/--journey")
        with open_store(args, readonly=True) as store:
            moves = explain_moves(store, args.contact, args.journey)
        if args.json:
            print_json(moves.to_json())
            return 0
        print(f"{safe_text(moves.contact)} in {safe_text(moves.journey)}:"
              f" {len(moves.moves)} move{'s' if len(moves.moves) != 1 else ''}")
        for m in moves.moves:
            src = safe_text(m.from_stage) if m.from_stage else "(entry)"
            prov = " (provisional: redone at every evaluation)" if m.provisional else ""
            print(f"  {fmt_time(m.at)}  {src} → {safe_text(m.to_stage)}{prov}")
            print(f"    because of {safe_text(m.trigger)}")
            for r in m.sources:
                eid = f"  event id {safe_text(r.source.event_id)}" if r.source and \
                    r.source.event_id else ""
                print(f"    {fmt_time(r.at)}  {safe_text(r.event)}  {safe_text(r.where)}{eid}")
        return 0
    if not args.email_name or not args.figure:
        raise UserError("explain: name an EMAIL and a --figure "
                        f"({', '.join(FIGURES)}), or --contact ADDRESS --journey NAME")
    if args.limit < 0:
        raise UserError("explain: --limit must be 0 (all) or more")
    with open_store(args, readonly=True) as store:
        ex = explain_figure(store, args.email_name, args.figure, link=args.link,
                            limit=args.limit or None)
    if args.json:
        print_json(ex.to_json())
        return 0
    title = FIGURE_TITLES[ex.figure] + (f" (links containing {safe_text(ex.link)!r})"
                                        if ex.link else "")
    print(f"{safe_text(ex.email)} — {title}: {ex.value:,}")
    print(f"  {ex.total:,} event{'s' if ex.total != 1 else ''} behind it"
          + (f", the first {len(ex.rows):,} listed" if len(ex.rows) < ex.total else "")
          + f"; {safe_text(ex.note)}")
    if ex.rows:
        print(table(
            ["Time (UTC)", "Event", "Contact", "Detail", "From", "Provider event id"],
            [(fmt_time(r.at), r.event, r.who or "(anonymous)", r.detail, r.where,
              (r.source.event_id if r.source else None) or "")
             for r in ex.rows],
            right=set(),
        ).replace("\n", "\n  ").join(["  ", ""]))
    return 0

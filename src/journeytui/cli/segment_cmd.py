"""`segment list | show | export`: the follow-up segments journeys feed."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from journeytui.cli.output import open_store, print_json, table
from journeytui.errors import UserError
from journeytui.textsafe import safe_text
from journeytui.timefmt import fmt_time, iso_time


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("segment", parents=[common],
                        help="follow-up segments fed by journey stages: list, show, export")
    ssub = sp.add_subparsers(dest="segment_command", metavar="ACTION", required=True)

    p = ssub.add_parser("list", parents=[common], help="every journey's segments and sizes")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_list)

    p = ssub.add_parser("show", parents=[common], help="the contacts in a segment")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--journey", metavar="J", help="the journey (when two have NAME)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_show)

    p = ssub.add_parser("export", parents=[common],
                        help="a segment as a contact upload CSV for SendGrid or Mailchimp")
    p.add_argument("name", metavar="NAME")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", required=True, choices=("sendgrid", "mailchimp"),
                   help="the upload's column layout")
    p.add_argument("--journey", metavar="J", help="the journey (when two have NAME)")
    p.set_defaults(func=cmd_export)


def cmd_list(args: argparse.Namespace) -> int:
    from journeytui.domain.segments import list_segments

    with open_store(args, readonly=True) as store:
        items = list_segments(store)
    if args.json:
        print_json([{"name": i.segment.name, "journey": i.journey, "stage": i.segment.stage,
                     "rule": i.segment.rule(), "description": i.segment.description,
                     "members": i.members, "as_of": iso_time(i.evaluated_at)} for i in items])
        return 0
    if not items:
        print("No segments. A journey file defines them under \"segments\" "
              "(see README: Time, cohorts and segments).")
        return 0
    print(table(
        ["segment", "journey", "members", "who"],
        [(i.segment.name, i.journey, "not evaluated" if i.members is None
          else f"{i.members:,}", i.segment.rule()) for i in items],
        {2},
    ))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from journeytui.domain.segments import members

    with open_store(args, readonly=True) as store:
        j, seg, at, rows = members(store, args.name, args.journey)
    if args.json:
        print_json({
            "name": seg.name, "journey": j.name, "stage": seg.stage, "rule": seg.rule(),
            "description": seg.description, "as_of": iso_time(at), "members": len(rows),
            "contacts": [{"email": r.email, "first_name": r.first_name,
                          "last_name": r.last_name, "in_stage_since": iso_time(r.since),
                          "days_in_stage": r.days_in_stage,
                          "unsubscribed_from_all": r.unsubscribed_all} for r in rows],
        })
        return 0
    print(f"{safe_text(seg.name)} ({safe_text(j.name)}): {seg.rule()}")
    if seg.description:
        print(safe_text(seg.description))
    print(f"as of {fmt_time(at)} UTC (the journey's evaluation); {len(rows):,} contacts")
    print()
    print(table(
        ["contact", "name", "in stage since", "days", ""],
        [(r.email, f"{r.first_name} {r.last_name}".strip(), fmt_time(r.since),
          r.days_in_stage, "unsubscribed from all" if r.unsubscribed_all else "")
         for r in rows],
        {3},
    ))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from journeytui.cli import db_path, halves
    from journeytui.cli.stream import map_for_long_read
    from journeytui.domain.in_stage import Half, split_key
    from journeytui.domain.segments import export_read, export_stream
    from journeytui.export_target import ExportPolicy, ExportRefused
    from journeytui.store import Store

    policy = ExportPolicy.from_env(Path(db_path(args)))
    try:
        path = policy.target(args.file)
    except ExportRefused as exc:
        raise UserError(str(exc)) from None

    def reopen() -> Store:
        again = open_store(args, readonly=True)
        map_for_long_read(again.conn)
        return again

    with open_store(args, readonly=True) as store:
        # written as read, a chunk of members at a time, whatever the segment's size;
        # a long one by two processes (journeytui.cli.halves), each writing a half
        # (both read the same snapshot: the same segment and stage read)
        map_for_long_read(store.conn)
        seg, read = export_read(store, args.name, args.journey, args.format)

        def part(s: Store, half: Half | None) -> tuple[Iterator[str], list[int]]:
            return export_stream(s, seg, read, args.format, half)

        key = split_key(store.conn, read, False, halves.SPLIT_FROM) if halves.can_split() else None
        cut = None if key is None else (key, key._replace(second=True))
        with halves.in_halves(store, cut, reopen, part) as (text, counts):
            try:
                policy.write_lines(path, halves.texts(text))
            except OSError as exc:
                raise UserError(f"{args.file}: cannot write: {exc}") from None
    kept, left = counts
    note = f"; {left:,} unsubscribed from all lists left out" if left else ""
    print(f"wrote {kept:,} contacts of '{safe_text(seg.name)}' to {safe_text(args.file)} "
          f"({args.format} contact upload{note})")
    return 0

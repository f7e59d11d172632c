"""`batches`: the import batches on record, and removing the events of one (a wrong
file imported is taken back, figures and journeys with it)."""

from __future__ import annotations

import argparse
from typing import Any

from journeytui.cli.output import open_store, print_json, table
from journeytui.domain.batches import list_batches, remove_batch
from journeytui.textsafe import safe_text
from journeytui.timefmt import fmt_time, iso_time


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "batches", parents=[common], help="import batches: list them, remove one's events",
        description="journeytui batches list [--json] | journeytui batches remove ID [--dry-run]",
    )
    bsub = p.add_subparsers(dest="batches_command", metavar="ACTION")
    ls = bsub.add_parser("list", parents=[common], help="every import batch on record")
    ls.add_argument("--json", action="store_true", help="JSON output")
    ls.set_defaults(func=cmd_list)
    rm = bsub.add_parser(
        "remove", parents=[common],
        help="remove the events an import batch applied (figures and journeys follow)",
    )
    rm.add_argument("batch_id", metavar="ID", type=int, help="the batch (see batches list)")
    rm.add_argument("--dry-run", action="store_true",
                    help="say what would change; the store is left as it is")
    rm.add_argument("--json", action="store_true", help="JSON output")
    rm.set_defaults(func=cmd_remove)
    p.set_defaults(func=lambda _args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_usage()
    return 2


def cmd_list(args: argparse.Namespace) -> int:
    with open_store(args, readonly=True) as store:
        batches = list_batches(store)
    if args.json:
        print_json([{**b.to_json(), "started_at": iso_time(b.started_at)} for b in batches])
        return 0
    if not batches:
        print("No import batches on record.")
        return 0
    print(table(
        ["ID", "Started (UTC)", "Kind", "Events", "Label"],
        [(b.id, fmt_time(b.started_at), b.kind, f"{b.events:,}", b.label) for b in batches],
        right={0, 3},
    ))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    # a dry run, too, writes in a transaction (rolled back): a writable connection
    with open_store(args) as store:
        r = remove_batch(store, args.batch_id, dry_run=args.dry_run)
    if args.json:
        print_json(r.to_json())
        return 0
    verb = "Would remove" if r.dry_run else "Removed"
    print(f"{verb} batch {r.batch.id} ({safe_text(r.batch.label)}, {r.batch.kind},"
          f" {fmt_time(r.batch.started_at)}): {r.activities:,} contact activities,"
          f" {r.anonymous:,} anonymous events, {r.sends_deleted:,} sends"
          f" ({r.sends_changed:,} shared sends re-read), {r.subscription_changes:,}"
          f" subscription changes, {r.contacts:,} contacts it alone knew of.")
    if r.figures:
        print("Figures per email (before → after):")
        for name, figs in r.figures.items():
            parts = ", ".join(f"{k} {a:,} → {b:,}" for k, (a, b) in figs.items())
            print(f"  {safe_text(name)}: {parts}")
    else:
        print("Figures per email: no change.")
    if r.stages:
        print("Journeys, contacts per stage (before → after):")
        for key, (a, b) in r.stages.items():
            print(f"  {safe_text(key)}: {a:,} → {b:,}")
    else:
        print("Journeys: no contact changes stage.")
    if r.dry_run:
        print("Dry run: nothing was changed.")
    return 0

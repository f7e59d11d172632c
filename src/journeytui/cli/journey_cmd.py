"""`journey …`, `evaluate` and `funnel`: journeys from the command line."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journeytui.cli import funnel_time
from journeytui.cli.output import open_store, print_json, table
from journeytui.errors import UserError
from journeytui.present import days, pct, whole_days
from journeytui.textsafe import safe_text
from journeytui.timefmt import fmt_time, iso_time


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    jp = sub.add_parser("journey", parents=[common], help="list, show, load, export, preview journeys")
    jsub = jp.add_subparsers(dest="journey_command", metavar="ACTION", required=True)

    p = jsub.add_parser("list", parents=[common], help="the journeys in the store")
    p.add_argument("--json", action="store_true", help="JSON: [{name, goal, stages}]")
    p.set_defaults(func=cmd_list)

    p = jsub.add_parser("show", parents=[common], help="a journey's stages and transitions")
    p.add_argument("name")
    p.set_defaults(func=cmd_show)

    p = jsub.add_parser("export", parents=[common], help="a journey as a JSON file")
    p.add_argument("name")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = jsub.add_parser("load", parents=[common],
                        help="save the journey in FILE.json (same schema as export) and evaluate it")
    p.add_argument("file", metavar="FILE.json")
    p.set_defaults(func=cmd_load)

    p = jsub.add_parser("delete", parents=[common], help="delete a journey and its results")
    p.add_argument("name")
    p.set_defaults(func=cmd_delete)

    p = jsub.add_parser("preview", parents=[common],
                        help="the funnel FILE.json would give, without saving anything")
    p.add_argument("file", metavar="FILE.json")
    _funnel_options(p)
    p.set_defaults(func=cmd_preview)

    p = jsub.add_parser("versions", parents=[common], help="the saved versions of a journey")
    p.add_argument("name")
    p.set_defaults(func=cmd_versions)

    p = jsub.add_parser("restore", parents=[common], help="save an old version again as newest")
    p.add_argument("name")
    p.add_argument("version", type=int)
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("evaluate", parents=[common],
                       help="re-evaluate one journey (or all) from every event")
    p.add_argument("name", nargs="?", metavar="JOURNEY")
    p.add_argument("--now", metavar="TIME", help="evaluation time, YYYY-MM-DD[THH:MM] UTC "
                   "(default: the latest event in the store)")
    p.add_argument("--json", action="store_true",
                   help="JSON: [{journey, in_journey, moves, evaluated_at}], no progress shown")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("funnel", parents=[common], help="a journey's funnel")
    p.add_argument("name", metavar="NAME")
    _funnel_options(p)
    p.add_argument("--stage", metavar="S", help="with --contacts: the stage")
    p.add_argument("--contacts", action="store_true", help="list the contacts in --stage")
    p.add_argument("--stalled", action="store_true", help="with --contacts: only stalled ones")
    p.add_argument("--csv", metavar="FILE", help="with --contacts: write them as CSV to FILE")
    funnel_time.add_options(p)
    p.set_defaults(func=cmd_funnel)


def _funnel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--stall-days", type=int, default=30, metavar="D",
                   help="stalled = in a stage for more than D days (default 30)")


def parse_time(value: str) -> int:
    v = value.strip()
    if v.isdigit():
        return int(v)
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return int(datetime.strptime(v, fmt).replace(tzinfo=UTC).timestamp())
        except ValueError:
            continue
    raise UserError(f"--now {safe_text(value)}: not a time; use YYYY-MM-DD or "
                    "YYYY-MM-DDTHH:MM (UTC), or seconds since the epoch")


# -- journey … ---------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    from journeytui.domain.journeys import list_journeys

    with open_store(args, readonly=True) as store:
        items = list_journeys(store)
    if args.json:
        print_json([{"name": i.name, "goal": i.goal, "stages": i.stages} for i in items])
        return 0
    if not items:
        print("No journeys. Load one with `journeytui journey load FILE.json`.")
        return 0
    print(table(
        ["journey", "stages", "version", "evaluated"],
        [(i.name, " → ".join(i.stages), i.version, fmt_time(i.evaluated_at)) for i in items],
        {2},
    ))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from journeytui.domain.conditions import render
    from journeytui.domain.journey_model import transition_label
    from journeytui.domain.journeys import get_journey

    with open_store(args, readonly=True) as store:
        j, version = get_journey(store, args.name)
    print(f"{safe_text(j.name)} (version {version})")
    if j.goal:
        print(f"  goal: {safe_text(j.goal)}")
    print("  main line: " + " → ".join(safe_text(n) for n in j.main_line))
    if j.exits:
        print("  exits: " + ", ".join(safe_text(n) for n in j.exits))
    print(f"  entry into {safe_text(j.stages[0].name)}: {render(j.entry)}")
    order = sorted(range(len(j.transitions)), key=lambda k: (j.transitions[k].priority, k))
    for k in order:
        t = j.transitions[k]
        print(f"  {transition_label(j, k)}, priority {t.priority}:")
        print(f"      {render(t.when)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from journeytui.domain.journeys import export_journey

    with open_store(args, readonly=True) as store:
        text = export_journey(store, args.name)
    if args.output:
        out = Path(args.output)
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{out}: cannot write: {exc}") from None
        print(f"wrote {out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from journeytui.domain.journeys import load_file

    with open_store(args) as store:
        j, version = load_file(store, args.file)
        n = store.conn.execute(
            "SELECT count(*) FROM journey_positions p JOIN journeys j ON j.id = p.journey_id"
            " WHERE j.name = ? AND p.stage IS NOT NULL", (j.name,)
        ).fetchone()[0]
    print(f"loaded '{safe_text(j.name)}' (version {version}); evaluated: {n:,} contacts "
          "in the journey")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from journeytui.domain.journeys import delete_journey

    with open_store(args) as store:
        delete_journey(store, args.name)
    print(f"deleted '{safe_text(args.name)}'")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from journeytui.domain.funnel import preview
    from journeytui.domain.journeys import read_file

    j = read_file(args.file)
    with open_store(args, readonly=True) as store:
        data = preview(store, j, stall_days=args.stall_days)
    if args.json:
        print_json(data)
    else:
        print("PREVIEW (nothing saved)")
        print(format_funnel(data))
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from journeytui.domain.journeys import version_history

    with open_store(args, readonly=True) as store:
        history = version_history(store, args.name)
    print(table(["version", "saved", "stages", "what changed"],
                 [(v.version, fmt_time(v.saved_at), " → ".join(v.stages), "; ".join(changes))
                  for v, changes in history], {0}))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from journeytui.domain.journeys import restore_version

    with open_store(args) as store:
        version = restore_version(store, args.name, args.version)
    print(f"restored version {args.version} of '{safe_text(args.name)}' as version {version}")
    return 0


# -- evaluate / funnel ---------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    from journeytui.cli.progress import progress_for
    from journeytui.domain.engine import evaluate, evaluate_all

    now = parse_time(args.now) if args.now else None
    with open_store(args) as store:
        if args.name:
            names = [args.name]
        else:
            names = [r[0] for r in store.conn.execute("SELECT name FROM journeys ORDER BY name")]
            if not names and not args.json:
                print("No journeys to evaluate.")
                return 0
        # contacts replayed, on standard error: a bar on a terminal, lines otherwise;
        # all journeys are evaluated in one read of the events
        stage = (f"evaluating {safe_text(args.name)} (contacts)" if args.name
                 else f"evaluating {len(names)} journeys (contacts)")

        def step(d: int, t: int) -> None:
            report(stage, d, t)

        with progress_for(args) as report:
            if args.name:
                done = [evaluate(store, args.name, now=now, progress=step)]
            else:
                done = evaluate_all(store, now=now, progress=step)
        if not args.json:
            for r in done:
                print(f"{safe_text(r.journey)}: {r.in_journey:,} contacts in the journey,"
                      f" {r.moves:,} moves (as of {fmt_time(r.now)} UTC)")
    if args.json:
        print_json([{"journey": r.journey, "in_journey": r.in_journey, "moves": r.moves,
                     "evaluated_at": iso_time(r.now)} for r in done])
    return 0


def cmd_funnel(args: argparse.Namespace) -> int:
    if funnel_time.wanted(args):
        return funnel_time.run(args)
    if (args.contacts or args.csv or args.stalled) and not args.stage:
        raise UserError("--contacts, --stalled and --csv need --stage S")
    if args.stage and not (args.contacts or args.csv):
        raise UserError("--stage S goes with --contacts (list who is in the stage)")
    with open_store(args, readonly=True) as store:
        if args.stage:
            return _stage_contacts(args, store)
        from journeytui.domain.funnel import funnel

        data = funnel(store, args.name, stall_days=args.stall_days)
    if args.json:
        print_json(data)
    else:
        print(format_funnel(data))
    return 0


def _stage_contacts(args: argparse.Namespace, store: Any) -> int:
    """``funnel --stage S --contacts`` (text, ``--json``, ``--csv FILE``): written as
    read (over the stage's index), whatever the stage's size — the contact's cells
    shaped by SQLite, those of the time in the stage made once per time; a long list
    by two processes (:mod:`journeytui.cli.halves`), each writing a half."""
    from journeytui.cli import halves, stream
    from journeytui.domain.in_stage import (
        Half,
        contacts_csv_chunks,
        read_figures,
        split_key,
        stage_cells,
        stage_read,
    )
    from journeytui.store import Store

    stream.map_for_long_read(store.conn)
    form = "csv" if args.csv else "json" if args.json else "text"
    # (a wrong journey or stage is said here, before anything is written; both
    # processes of a long list read the same snapshot, so the same stage read)
    read = stage_read(store, args.name, args.stage, args.stall_days)
    figures = read_figures(read)
    key = split_key(store.conn, read, args.stalled,
                    max(halves.SPLIT_FROM, 2 * stream.SAMPLE)) if halves.can_split() else None

    def reopen() -> Store:
        again = open_store(args, readonly=True)
        stream.map_for_long_read(again.conn)
        return again

    def part(s: Store, half: Half | None) -> tuple[Iterator[str], list[int]]:
        rows = stage_cells(s.conn, read, form=form, stalled_only=args.stalled, half=half)
        count = [0]
        if form == "csv":
            return contacts_csv_chunks(rows, figures, args.stage, count), count
        if form == "json":
            return _stage_json(rows, figures, args.stage, count), count
        # the second half's columns are as wide as the first rows of the list need
        # (the first half's: it holds at least the sample)
        sizing = (stage_cells(s.conn, read, form=form, stalled_only=args.stalled,
                              half=half._replace(second=False))
                  if half is not None and half.second else None)
        return stream.table_text(["contact", "name", "in stage since", "days", "stalled"],
                                 rows, {3}, texts=True,
                                 tail=_stage_text_tail(figures, read.now % 60),
                                 strip=1, count=count, sizing=sizing), count

    cut = None if key is None else (key, key._replace(second=True))
    with halves.in_halves(store, cut, reopen, part) as (text, counts):
        if args.csv:
            _write_csv(Path(args.csv), text)
        elif args.json:
            stream.write_json(stream.Encoded(text, level=0, joined=True),
                              halves.Sink(sys.stdout))
        else:
            halves.write_all(text, sys.stdout)
    if args.csv:
        print(f"wrote {counts[0]:,} contacts to {args.csv}")
    elif not args.json:
        print(f"{counts[0]:,} contacts")
    return 0


def _write_csv(out: Path, text: Iterator[Any]) -> None:
    """Stage contacts as CSV (the header, then *text*: :func:`halves.in_halves`),
    written as read into FILE.part, then renamed to FILE (a failed write leaves no
    half file)."""
    from journeytui.cli.halves import write_all
    from journeytui.domain.in_stage import CSV_HEADER_LINE

    part = out.with_name(out.name + ".part")
    try:
        with part.open("w", encoding="utf-8", newline="") as fh:
            fh.write(CSV_HEADER_LINE)
            write_all(text, fh)
        part.replace(out)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise UserError(f"{out}: cannot write: {exc}") from None
    except BaseException:  # (Ctrl-C: no half file either)
        part.unlink(missing_ok=True)
        raise


def _stage_text_tail(figures: Callable[[int], tuple[float, bool]], second: int
                     ) -> Callable[[int], tuple[str, str, str]]:
    """The text list's cells from the key of a time in the stage (the text rows'
    last item, :func:`~journeytui.domain.in_stage.text_key_sql`; *second*: the
    evaluation time's second in its minute): in stage since, days (whole days
    completed), stalled; each minute's text made once."""
    from journeytui.domain.in_stage import text_key_since

    minutes: dict[int, str] = {}
    day_texts: dict[float, str] = {}

    def cells(key: int) -> tuple[str, str, str]:
        since = text_key_since(key, second)
        minute = since - since % 60
        when = minutes.get(minute)
        if when is None:
            when = minutes[minute] = fmt_time(minute)
        days, stalled = figures(since)
        shown = day_texts.get(days)
        if shown is None:
            shown = day_texts[days] = whole_days(days)
        return when, shown, "stalled" if stalled else ""

    return cells


def _stage_json(rows: Iterator[tuple[str, str, str, int]],
                figures: Callable[[int], tuple[float, bool]], stage: str, count: list[int],
                ) -> Iterator[str]:
    """The JSON items of the stage's contacts, as ``write_json`` indents a top-level
    list's items, each after the list's separator (``Encoded(…, joined=True)``), a
    text a chunk of rows (``count[0]`` grows by its rows): the contact's part filled
    in per row (no encoder call), the rest (stage, since, days in stage, stalled)
    made once per time."""
    from journeytui.cli.stream import CHUNK
    from journeytui.cli.stream import json_str as js
    from journeytui.domain.in_stage import IsoMinutes, PerKey

    stage_js = js(stage)
    times = IsoMinutes()

    def tail(since: int) -> str:
        days, stalled = figures(since)
        return (f',\n    "stage": {stage_js},\n    "since": "{times.iso(since)}",'
                f'\n    "days_in_stage": {days!r},'
                f'\n    "stalled": {"true" if stalled else "false"}\n  }}')

    tails = PerKey(tail)
    # a chunk of rows at a time, one comprehension (no generator step per row)
    while chunk := list(itertools.islice(rows, CHUNK)):
        count[0] += len(chunk)
        yield "".join([f',\n  {{\n    "email": {js(e)},\n    "first_name": {js(f)},'
                       f'\n    "last_name": {js(last)}{tails[since]}'
                       for e, f, last, since in chunk])


def _n(v: int | None) -> str | None:
    return None if v is None else f"{v:,}"


def _shown_time(iso: str | None) -> str:
    """An ISO time of a JSON result as text shows times: YYYY-MM-DD HH:MM (UTC)."""
    if not iso:
        return "—"
    return fmt_time(int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()))


def format_funnel(data: dict[str, Any]) -> str:
    lines = [f"{safe_text(data['journey'])}" + (f" — {safe_text(data['goal'])}"
                                                  if data["goal"] else "")]
    lines.append(f"as of {_shown_time(data['evaluated_at'])}; {data['in_journey']:,} contacts in the "
                 f"journey; stalled = more than {data['stall_days']} days in a stage")
    lines.append("")
    lines.append(table(
        ["stage", "reached", "current", "next step", "cumulative", "drop-off",
         "median days", "stalled"],
        [(s["stage"], f"{s['reached']:,}", f"{s['current']:,}",
          pct(s["next_step_conversion"]) if s["next_step_conversion"] is not None else None,
          pct(s["cumulative_conversion"]), _n(s["drop_off"]), days(s["median_days_to_next"]),
          _n(s["stalled"]) if s["stalled"] is not None else "goal")
         for s in data["stages"]],
        {1, 2, 3, 4, 5, 6, 7},
    ))
    if data["exits"]:
        lines.append("")
        lines.append("exits: " + "; ".join(
            f"{safe_text(e['stage'])} {e['current']:,} now ({e['reached']:,} ever)"
            for e in data["exits"]))
    lines.append("")
    lines.append("what moved contacts (top emails):")
    entry = data["entry"]
    lines.append(f"  entry → {safe_text(entry['stage'])}: {entry['entered']:,} — "
                 f"{entry['condition']}")
    lines.extend(_emails(entry["emails"]))
    for t in data["transitions"]:
        src = safe_text(t["from"]) if t["from"] is not None else "any stage"
        lines.append(f"  {t['number']}. {src} → {safe_text(t['to'])}: {t['moved']:,} moves — "
                     f"{t['condition']}")
        lines.extend(_emails(t["emails"]))
    busy = [c for c in data["clicks_with_no_move"] if c["clicks_with_no_move"] > 0]
    if busy:
        lines.append("")
        lines.append("clicks with no move (stage, email: clicks with no move / all clicks):")
        for c in busy[:12]:
            lines.append(f"  {safe_text(c['stage'])}, {safe_text(c['email'])}: "
                         f"{c['clicks_with_no_move']:,} / {c['clicks']:,}")
        if len(busy) > 12:
            lines.append(f"  … {len(busy) - 12} more (--json for all)")
    return "\n".join(lines)


def _emails(items: list[dict[str, Any]], top: int = 3) -> list[str]:
    out = []
    for e in items[:top]:
        name = (safe_text(e["email"]) if e["email"] is not None
                else "(no email: form, visit, subscription change or check)")
        out.append(f"      {e['moved']:>7,}  {name}")
    if len(items) > top:
        out.append(f"      … {len(items) - top} more")
    return out

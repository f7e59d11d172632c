"""`stats`, `contact`, `activities` and `forget`: the questions the panes answer, as text or JSON."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from journeytui.cli.output import open_store, print_json, table
from journeytui.domain.activities import (
    ActivityCells,
    ActivityRow,
    Cut,
    anonymous_line,
    count_email_activities,
    iter_email_activity_cells,
    iter_email_activity_rows,
)
from journeytui.domain.stats import EmailStats, email_stats, find_email
from journeytui.present import activity_label, pct
from journeytui.store import Store
from journeytui.textsafe import safe_text
from journeytui.timefmt import fmt_time, iso_time

if TYPE_CHECKING:
    from journeytui.domain.delivery import DeliveryLog


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "stats", parents=[common], help="email statistics (every non-draft email)"
    )
    p.add_argument("--email", metavar="NAME", help="only the email with this name")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "contact", parents=[common], help="find contacts (fuzzy) and show their activity"
    )
    p.add_argument("query", help="part of a name or address (typos are fine)")
    p.add_argument("--limit", type=int, default=5, help="how many matches (default 5)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_contact)

    p = sub.add_parser(
        "activities", parents=[common], help="contact activities of one email (consented only)"
    )
    p.add_argument("email_name", metavar="EMAIL_NAME", help="the email's name")
    p.add_argument("--link", metavar="TEXT", help="only clicks on links containing TEXT")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_activities)

    p = sub.add_parser(
        "forget", parents=[common], help="erase a contact's identity and activities"
    )
    p.add_argument("address", help="the contact's email address")
    p.set_defaults(func=cmd_forget)


# -- stats ------------------------------------------------------------------------
def _describe(s: EmailStats) -> str:
    name = safe_text(s.name)
    lines = [
        f"{name} — {safe_text(s.subject)}",
        f"  status {s.status}, sent {fmt_time(s.send_at)} UTC"
        + (f", list {safe_text(s.list_name)}" if s.list_name else ""),
        f"  Sent          {s.sent:>8,}",
        (f"  Delivered     {s.delivered:>8,}  delivery rate {pct(s.delivery_rate)} of sent"
        f"  (bounced {s.bounced:,}: hard {s.bounced_hard:,}, soft {s.bounced_soft:,})"),
        (f"  Not sent      {s.dropped:>8,}  dropped by the provider (suppressed or refused"
         " addresses; not in Sent)"),
        (f"  Opened        {s.opened:>8,}  open rate {pct(s.open_rate)} of delivered"
        f"  ({s.opens_total:,} opens; {s.machine_opens:,} machine opens left out)"),
        (f"  Clicked       {s.clicked:>8,}  click rate {pct(s.click_rate)} of delivered,"
        f" click-to-open {pct(s.click_to_open)} of openers"
        f"  ({s.clicks_total:,} clicks; {s.bot_clicks:,} suspected bot clicks left out)"),
        f"  Unsubscribed  {s.unsubscribed:>8,}  {pct(s.unsubscribe_rate)} of delivered",
        f"  Spam reports  {s.spam_reports:>8,}  {pct(s.spam_rate)} of delivered",
        f"  {anonymous_line(s)}",
        ("  Opens are a weak signal (privacy proxies open everything): clicks are the"
        " headline figure."),
    ]
    if s.variants:
        lines.extend(_variant_lines(s))
    if s.links:
        lines.append("  Links (unique clickers / total clicks):")
        for link in s.links:
            lines.append(f"    {link.clicked:>6,} / {link.clicks_total:<6,} {safe_text(link.url)}")
    for w in s.warnings:
        lines.append(f"  ⚠ WARNING: {w}")
    return "\n".join(lines)


def _variant_lines(s: EmailStats) -> list[str]:
    """The A/B test's variants beside the totals (README: What the numbers mean)."""
    rows = [
        (v.label, f"{v.sent:,}", f"{v.delivered:,}", f"{v.opened:,}", f"{v.clicked:,}",
         f"{v.unsubscribed:,}", f"{v.spam_reports:,}")
        for v in s.variants
    ]
    text = table(["Variant", "Sent", "Delivered", "Opened", "Clicked", "Unsub", "Spam"],
                 rows, right={1, 2, 3, 4, 5, 6})
    named = sum(v.variant is not None for v in s.variants)
    return [
        f"  A/B test, {named} variants (Sent and Delivered: every recipient;"
        " Opened, Clicked, Unsub, Spam: contacts with tracking consent only):",
        *("    " + line for line in text.split("\n")),
    ]


def cmd_stats(args: argparse.Namespace) -> int:
    with open_store(args, readonly=True) as store:
        items = email_stats(store, args.email)
    if args.json:
        print_json([s.to_json() for s in items])
        return 0
    if args.email:
        print(_describe(items[0]))
        return 0
    rows = [
        (
            s.name,
            fmt_time(s.send_at),
            f"{s.sent:,}",
            pct(s.delivery_rate),
            pct(s.open_rate),
            pct(s.click_rate),
            pct(s.click_to_open),
            f"{s.unsubscribed:,}",
            f"{s.spam_reports:,}",
            "⚠ " + str(len(s.warnings)) if s.warnings else "",
        )
        for s in items
    ]
    print(
        table(
            ["Email", "Sent at (UTC)", "Sent", "Deliv.", "Open", "Click", "CTO", "Unsub",
             "Spam", "Warn"],
            rows,
            right={2, 3, 4, 5, 6, 7, 8},
        )
    )
    print(
        "\nRates: delivery of sent; open and click of delivered; CTO = clickers of openers."
        " `journeytui stats --email NAME` for one email in full."
    )
    return 0


# -- contact ----------------------------------------------------------------------
def _journey_stages(store: Store, contact_id: int) -> list[dict[str, Any]]:
    """The contact's current stage in each journey it is in."""
    from journeytui.domain.journeys import contact_stages  # pydantic: only when needed

    return [
        {"journey": st.journey, "stage": st.stage, "since": iso_time(st.since), "exit": st.exit}
        for st in contact_stages(store, contact_id)
    ]


def cmd_contact(args: argparse.Namespace) -> int:
    # the fuzzy search (rapidfuzz) and the delivery log load only for this command
    from journeytui.domain.contacts import contact_card, search_contacts, timeline
    from journeytui.domain.delivery import delivery_log

    with open_store(args, readonly=True) as store:
        matches = search_contacts(store, args.query, limit=max(1, args.limit))
        results = []
        for m in matches:
            card = contact_card(store, m.id)
            results.append(
                (m, card, timeline(store, m.id, limit=None), _journey_stages(store, m.id),
                 delivery_log(store, m.id))
            )
    if args.json:
        print_json(
            [
                {
                    **card.to_json(),
                    "name": card.name,
                    "score": m.score,
                    "journeys": stages,
                    "delivery": log.to_json(),
                    "activities": [row.to_json() for row in rows],
                }
                for m, card, rows, stages, log in results
            ]
        )
        return 0
    if not results:
        print(f"No contact matches {safe_text(args.query)!r}.")
        return 1
    for m, card, rows, stages, log in results:
        consent = "yes" if card.consent else "no"
        since = f" (since {fmt_time(card.consent_at)})" if card.consent_at else ""
        print(f"{safe_text(card.name) or '(no name)'} <{safe_text(card.address)}>  match {m.score:g}")
        print(f"  tracking consent: {consent}{since}")
        if card.unsubscribed_all:
            print(f"  UNSUBSCRIBED FROM ALL since {fmt_time(card.unsubscribed_all_at)}")
        if card.spam_reported_at is not None:
            print(f"  REPORTED SPAM on {fmt_time(card.spam_reported_at)}: no further mail")
        for sub in card.subscriptions:
            print(f"  list {safe_text(sub.list_name)}: {sub.status} ({fmt_time(sub.changed_at)})")
        for st in stages:
            where = "exit stage " if st["exit"] else "stage "
            since = (st["since"] or "—").replace("T", " ")[:16]
            print(f"  journey {safe_text(st['journey'])}: {where}{safe_text(st['stage'])}"
                  f" since {since}")
        _print_delivery(log)
        if not card.consent and not rows:
            print("  no activity history (no tracking consent)")
        elif rows:
            print(
                table(
                    ["Time (UTC)", "Email", "Activity", "Value"],
                    [
                        (fmt_time(r.at), r.email or "—",
                         activity_label(r.activity, bot=r.bot, machine=r.machine), r.value or "")
                        for r in rows
                    ],
                    right=set(),
                ).replace("\n", "\n  ").join(["  ", ""])
            )
        print()
    return 0


def _print_delivery(log: DeliveryLog) -> None:
    """The delivery log: one line on why no mail (if so), then every send."""
    if log.no_mail is not None:
        print(f"  NO MAIL: {safe_text(log.no_mail.text)}")
    print(f"  delivery log: {log.summary()} (known for every recipient)")
    if log.sends:
        print(
            table(
                ["Time (UTC)", "Email", "Outcome", "Reason"],
                [(fmt_time(s.at), s.email, s.outcome_word, s.reason_text) for s in log.sends],
                right=set(),
            ).replace("\n", "\n    ").join(["    ", ""])
        )


# -- activities -------------------------------------------------------------------
def cmd_activities(args: argparse.Namespace) -> int:
    """``activities EMAIL`` (text, ``--json``): written as read from one cursor,
    nothing kept, the same rows and order as the pane's pages; a long list by two
    processes (:mod:`journeytui.cli.halves`), each writing a half."""
    from journeytui.cli import halves, stream
    from journeytui.domain.activities import split_key

    with open_store(args, readonly=True) as store:
        stream.map_for_long_read(store.conn)
        email_id, name, status = find_email(store, args.email_name)
        stats = email_stats(store, name)[0] if status != "draft" else None
        total = count_email_activities(store, email_id)
        if stats is None and not args.json:
            print(f"{safe_text(name)} is a draft: no activities.")
            return 0
        # (the text table's widths: the first rows', which the first part holds)
        at_least = max(halves.SPLIT_FROM, 2 * stream.SAMPLE)
        key = split_key(store.conn, email_id, total) if (
            total >= at_least and halves.can_split()) else None

        def reopen() -> Store:
            again = open_store(args, readonly=True)
            stream.map_for_long_read(again.conn)
            return again

        def part(s: Store, half: Cut | None) -> tuple[Iterator[str], list[int]]:
            count = [0]
            if args.json:
                rows = iter_email_activity_rows(s, email_id, url_contains=args.link, half=half)
                return _activities_json(rows, count), count
            return _activities_text(s, email_id, args.link, half, count), count

        cut = None if key is None else (key, key._replace(second=True))
        if not args.json:
            assert stats is not None
            print(f"{safe_text(name)}: {total:,} contact activities (consented contacts only)")
            print(anonymous_line(stats))
        with halves.in_halves(store, cut, reopen, part) as (text, _):
            if not args.json:
                halves.write_all(text, sys.stdout)
                return 0
            stream.write_json(
                {
                    "email": name,
                    "anonymous_clicks": stats.anonymous_clicks if stats else 0,
                    "clicks_total": stats.clicks_total if stats else 0,
                    "activities": stream.Encoded(text, level=1, joined=True),
                },
                halves.Sink(sys.stdout),
            )
    return 0


def _activities_text(store: Store, email_id: int, link: str | None, half: Cut | None,
                     count: list[int]) -> Iterator[str]:
    """The text table of the email's activities (of part *half* of them): none when
    there are none; the second part's lines as wide as the whole table's first rows
    need, with the table's headers when the first part has no row (a link's clicks
    can all be older than the cut)."""
    from journeytui.cli.stream import table_text

    cells = iter_email_activity_cells(store, email_id, url_contains=link, half=half)
    first = next(cells, None)
    if first is None:
        return iter(())
    sizing = None
    if half is not None and half.second and next(iter_email_activity_cells(
            store, email_id, url_contains=link, half=half._replace(second=False)), None):
        sizing = _activity_cells(iter_email_activity_cells(store, email_id, url_contains=link))
    return table_text(["Time (UTC)", "Contact", "Address", "Activity", "Value"],
                      _activity_cells(itertools.chain((first,), cells)), set(), texts=True,
                      count=count, sizing=sizing)


# What EmailActivity.to_json gives, encoded as print_json would write it in the
# "activities" list (its lines indented for level 1), each after the list's separator
# (``Encoded(…, joined=True)``): a template filled per row (no encoder call per row),
# the time formatted once per minute.
_ACTIVITY_JSON = (
    ',\n{\n  "contact": %s,\n  "address": %s,\n  "activity": %s,\n  "time": "%s%02dZ",'
    '\n  "value": %s,\n  "suspected_bot": %s,\n  "machine_open": %s\n}'
).replace("\n", "\n    ")


def _activities_json(rows: Iterator[ActivityRow], count: list[int]) -> Iterator[str]:
    """The JSON items of the activities, a text a chunk of rows (``count[0]`` grows by
    its rows)."""
    from journeytui.cli.stream import CHUNK
    from journeytui.cli.stream import json_str as js
    from journeytui.domain.in_stage import IsoMinutes

    minutes = IsoMinutes()
    # a chunk of rows at a time, one comprehension (no generator step per row)
    while chunk := list(itertools.islice(rows, CHUNK)):
        count[0] += len(chunk)
        yield "".join([
            _ACTIVITY_JSON % (
                "null" if contact is None else js(contact),
                "null" if address is None else js(address),
                js(kind), minutes[at - at % 60], at % 60,
                "null" if value is None else js(value),
                "true" if bot else "false", "true" if machine else "false",
            )
            for _, _, contact, address, kind, at, value, bot, machine in chunk
        ])


def _activity_cells(rows: Iterable[ActivityCells]) -> Iterator[tuple[str, str, str, str, str]]:
    """The text table's cells of each row (as the Activities pane shows them): every
    one a str; the time is formatted once per minute."""
    minutes: dict[int, str] = {}
    for minute, contact, address, label, value in rows:
        when = minutes.get(minute)
        if when is None:
            when = minutes[minute] = fmt_time(minute)
        yield when, contact, address, label, value


# -- forget -----------------------------------------------------------------------
def cmd_forget(args: argparse.Namespace) -> int:
    from journeytui.domain.contacts import forget_contact

    with open_store(args) as store:
        erased = forget_contact(store, args.address)
    print(
        f"Forgot {safe_text(args.address)}: identity and {erased['activities']:,} activities"
        " erased; email statistics unchanged."
    )
    return 0

"""How a contacts file's columns are read: our own layout, the presets of real exports
(Mailchimp, SendGrid, HubSpot; recognised from the header) and ``--map COLUMN=FIELD``
(plain Python)."""

from __future__ import annotations

from dataclasses import dataclass

from journeytui.errors import UserError
from journeytui.importers._report import printable
from journeytui.importers._tabular import Table

COLUMNS = ("email", "first_name", "last_name", "tracking_consent", "lists")

# -- presets: column (as the export writes it) -> target -------------------------------
TARGETS = ("email", "first_name", "last_name", "name", "tracking_consent", "lists",
           "unsubscribed_at", "bounced_at")
PRESETS: dict[str, dict[str, str]] = {
    "mailchimp": {
        "Email Address": "email", "First Name": "first_name", "Last Name": "last_name",
        "Name": "name", "UNSUB_TIME": "unsubscribed_at", "CLEAN_TIME": "bounced_at",
    },
    "sendgrid": {
        "email": "email", "first_name": "first_name", "last_name": "last_name",
    },
    "hubspot": {
        "Email": "email", "First Name": "first_name", "Last Name": "last_name",
    },
}
_MAILCHIMP_MARKS = frozenset({"MEMBER_RATING", "LEID", "EUID", "OPTIN_TIME"})
_SENDGRID_MARKS = frozenset({"CONTACT_ID", "CREATED_AT", "UPDATED_AT"})


def recognise(header: list[str]) -> str | None:
    """The preset a header is recognised as (None: our own layout, or unknown)."""
    names = {h.strip() for h in header}
    lower = {h.lower() for h in names}
    if "Email Address" in names and names & _MAILCHIMP_MARKS:
        return "mailchimp"
    if "Email" in names and "Record ID" in names:
        return "hubspot"
    if "email" in lower and "tracking_consent" not in lower and (
        names & _SENDGRID_MARKS or not lower <= set(COLUMNS)
    ):
        return "sendgrid"
    return None


def parse_map(items: list[str]) -> dict[str, str]:
    """``--map 'COLUMN=FIELD'`` options as a dict."""
    out: dict[str, str] = {}
    for item in items:
        source, sep, target = item.rpartition("=")
        target = target.strip().lower()
        if not sep or not source.strip():
            raise UserError(f"--map '{printable(item, 60)}': expected 'COLUMN=FIELD', e.g. "
                            "--map 'Email Address=email'")
        if target not in TARGETS:
            raise UserError(f"--map '{printable(item, 60)}': unknown field '{target}'; "
                            f"fields: {', '.join(TARGETS)}")
        out[source.strip()] = target
    return out


@dataclass
class Layout:
    columns: dict[str, int]  # target -> index
    preset: str | None
    ignored: list[str]
    kind: str  # subscribed | unsubscribed | cleaned (a Mailchimp export) | contacts


def layout_of(table: Table, preset: str | None, mapping: dict[str, str]) -> Layout:
    name = table.name
    header = table.header
    if len(header) == 1 and ";" in header[0]:
        raise UserError(
            f"{name}: line 1: the columns are separated by semicolons; save the file "
            "with commas or tabs between columns (';' separates lists inside a cell). "
            "Nothing was imported."
        )
    chosen = preset or (None if mapping else recognise(header))
    if chosen is None and not mapping:  # our own layout: every column must be known
        columns: dict[str, int] = {}
        expected = ",".join(COLUMNS)
        for i, raw in enumerate(header):
            col = raw.strip().lower()
            if col not in COLUMNS:
                shown = printable(raw.strip(), 40) or "(empty)"
                raise UserError(
                    f"{name}: line 1: unknown column '{shown}'; the header must name "
                    f"{expected} (any order), or give --preset or --map. Nothing was "
                    "imported."
                )
            if col in columns:
                raise UserError(f"{name}: line 1: column '{col}' appears twice. Nothing was "
                                "imported.")
            columns[col] = i
        if "email" not in columns:
            raise UserError(
                f"{name}: line 1: missing column 'email'; the header must name {expected} "
                "(any order). Nothing was imported."
            )
        return Layout(columns, None, [], "contacts")
    wanted = dict(PRESETS.get(chosen or "", {}))
    wanted.update(mapping)
    by_lower = {k.lower(): v for k, v in wanted.items()}
    columns = {}
    ignored: list[str] = []
    for i, raw in enumerate(header):
        col = raw.strip()
        target = wanted.get(col)
        if target is None and (chosen == "sendgrid" or col.lower() in ("tracking_consent",
                                                                       "lists")):
            target = by_lower.get(col.lower()) or (
                col.lower() if col.lower() in ("tracking_consent", "lists") else None)
        if target is None or target in columns:
            ignored.append(col)
            continue
        columns[target] = i
    if "email" not in columns:
        what = f"preset {chosen}" if chosen else "--map"
        raise UserError(
            f"{name}: line 1: no column gives the address with {what}; map it, e.g. "
            "--map 'Email Address=email'. Nothing was imported."
        )
    names = {h.strip() for h in header}
    kind = "contacts"
    if chosen == "mailchimp":
        if names & {"CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID"}:
            kind = "cleaned"
        elif names & {"UNSUB_REASON", "UNSUB_CAMPAIGN_ID", "UNSUB_CAMPAIGN_TITLE"}:
            kind = "unsubscribed"
        else:
            kind = "subscribed"
        # read for the dates and the bounce reason, not ignored
        for col, target in (("LAST_CHANGED", "last_changed"),
                            ("CLEAN_CAMPAIGN_TITLE", "clean_campaign")):
            if col in names:
                columns.setdefault(target, [h.strip() for h in header].index(col))
                if col in ignored:
                    ignored.remove(col)
    return Layout(columns, chosen, ignored, kind)

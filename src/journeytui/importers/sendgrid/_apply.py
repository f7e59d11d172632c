"""Applying checked events to the store through the Recorder, one import batch at a
time, with where each came from (event_sources)."""

from __future__ import annotations

import json
from typing import Any

from journeytui.domain.provenance import source_kind
from journeytui.importers._report import (
    ImportReport,
    printable,
)
from journeytui.importers.sendgrid._events import (
    MESSAGE_KINDS,
    EmailKey,
    _Event,
    _legacy_id,
)
from journeytui.store import ContactRef, Recorder, Store

_NAMES_LISTED = 10
# event_sources rows are written every this many
_SOURCES_CHUNK = 8_192


def _has_rows(store: Store, table: str) -> bool:
    """Whether *table* (one of the importer's own) holds any row: an import into a new
    store needs no lookups."""
    return store.conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0] == 1


# -- applying -----------------------------------------------------------------------------
class _Importer:
    def __init__(self, store: Store, report: ImportReport) -> None:
        self.store = store
        self.c = store.conn
        self.rec = Recorder(store)
        self.report = report
        self.emails: dict[EmailKey, int] = {}
        self.created_emails: set[int] = set()
        self.email_has_list: set[int] = set()
        self.contacts: dict[str, ContactRef] = {}
        self.new_contacts = 0  # the contacts this import created
        self.groups: dict[int, int] = {}
        self.remembered: set[str] = set()
        self.legacy_seen = store.meta("seen_events_legacy") is not None
        # provenance: the batch, its files, and one event_sources row per write
        self.batch_id = 0
        self.files: dict[str, int] = {}
        self.sources: list[tuple[Any, ...]] = []
        self.traced = 0
        self.rec.touched = []
        self.rec.counts = {}  # email_stats counters written once, in finish()

    def start_batch(self, kind: str, label: str, files: list[str], at: int) -> None:
        """The import_batches row this import's event sources point at."""
        self.files = {name: i for i, name in enumerate(files)}
        cur = self.c.execute(
            "INSERT INTO import_batches(started_at, kind, label, files) VALUES (?, ?, ?, ?)",
            (at, kind, label, json.dumps(files, ensure_ascii=False)),
        )
        self.batch_id = int(cur.lastrowid or 0)

    def trace(self, ev: _Event) -> None:
        """Record where *ev* came from for every row it wrote (see event_sources)."""
        touched = self.rec.touched
        assert touched is not None
        name, line, index = ev.loc
        file_no = self.files.get(name)
        if file_no is None:  # an event parked by an earlier import: its file then
            file_no = self.files[name] = len(self.files)
        batch, at, event_id = self.batch_id, ev.ts, ev.event_id
        kind = ev.kind if ev.own is None else source_kind(ev.kind, ev.own)
        self.traced += 1
        add = self.sources.append
        if len(touched) == 1 and touched[0][3] is None:  # the common case: one row
            target, row, email, _ = touched[0]
            add((batch, target, row, email, kind, at, file_no, line, index, event_id, None))
            touched.clear()
            if len(self.sources) >= _SOURCES_CHUNK:
                self.flush_sources()
            return
        for target, row, email, mark in touched:
            if mark is None:
                add((batch, target, row, email, kind, at, file_no, line, index, event_id, None))
            elif mark == "inferred":
                if self.contacts[ev.address].consent:
                    add((batch, "s", row, email, "inferred", at, file_no, line, index,
                         event_id, None))
                else:  # no place or id: they would name the anonymous event
                    add((batch, "s", row, email, "inferred", at, None, None, None, None, None))
            elif mark == "quiet":
                add((batch, target, row, None, kind, 0, None, None, None, None, None))
            else:  # 'u' / 'p': the recipient token, no row
                add((batch, target, None, email, kind, at, file_no, line, index, event_id,
                     mark))
        touched.clear()
        if len(self.sources) >= _SOURCES_CHUNK:
            self.flush_sources()

    def flush_sources(self) -> None:
        """Write the event_sources rows gathered so far (in chunks: few rows in memory)."""
        self.c.executemany(
            "INSERT INTO event_sources(batch_id, target, row_id, email_id, kind, at, file_no,"
            " line, idx, event_id, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.sources,
        )
        self.sources = []

    def write_sources(self) -> None:
        if not self.traced:  # nothing applied (e.g. every event a duplicate): no batch
            self.c.execute("DELETE FROM import_batches WHERE id = ?", (self.batch_id,))
            self.batch_id = 0
            return
        self.flush_sources()
        self.c.execute(
            "UPDATE import_batches SET events = ?, files = ? WHERE id = ?",
            (self.traced,
             json.dumps(sorted(self.files, key=self.files.__getitem__), ensure_ascii=False),
             self.batch_id),
        )
        self.sources = []

    def _find(self, column: str, value: str) -> tuple[int, str, str] | None:
        """(id, status, name) of the email whose *column* is *value*."""
        row = self.c.execute(
            f"SELECT id, status, name FROM emails WHERE {column} = ?", (value,)
        ).fetchone()
        return (int(row[0]), str(row[1]), str(row[2])) if row else None

    def email(self, key: EmailKey, at: int) -> int:
        email_id = self.emails.get(key)
        if email_id is not None:
            return email_id
        kind = key[0]
        if kind == "id":
            self.emails[key] = int(key[1])
            return int(key[1])
        found: tuple[int, str, str] | None
        if kind == "name":
            name, cid = key[1], key[2] or None
            found = self._find("name", name) or (self._find("campaign_id", cid) if cid else None)
        elif kind == "cid":
            cid = name = key[1]
            found = self._find("campaign_id", cid) or self._find("name", name)
        else:
            name, cid = key[1], None
            found = self._find("name", name)
        if found is not None:
            email_id, status, stored_name = found
            if cid:  # remember the provider's id, so events that carry only the id find it
                self.rec.fill_campaign_id(email_id, cid)
            if status == "sent":  # a sent email without a time gets its earliest event's
                self.rec.fill_send_time(email_id, at)
            else:
                self.rec.mark_sent(email_id, at)
                self.report.notes.append(
                    f"Email '{printable(stored_name)}' was {status}; it is now marked sent."
                )
        else:
            email_id = self.rec.ensure_email(name, status="sent", send_at=at, campaign_id=cid)
            self.created_emails.add(email_id)
            self.report.add("new_emails")
            created = self.report.added["new_emails"]
            if created <= _NAMES_LISTED:
                self.report.notes.append(f"Created email '{printable(name)}' (status sent).")
            elif created == _NAMES_LISTED + 1:
                self.report.notes.append("Created more emails (see the count below).")
        self.emails[key] = email_id
        return email_id

    def list_for_group(self, group: int) -> int:
        list_id = self.groups.get(group)
        if list_id is None:
            known = self.c.execute(
                "SELECT id FROM lists WHERE asm_group_id = ?", (group,)
            ).fetchone()
            list_id = self.rec.list_for_group(group)
            if not known:
                self.report.add("new_lists")
            self.groups[group] = list_id
        return list_id

    def know_contacts(self, pending: list[_Event]) -> None:
        """Look up, in one go, the contacts the events name that are in the store."""
        if _has_rows(self.store, "contacts"):
            self.contacts = self.rec.known_contacts(sorted({ev.address for ev in pending}))

    def contact(self, addr: str, at: int) -> ContactRef:
        ref = self.contacts.get(addr)
        if ref is None:
            # not in the store (know_contacts): created without consent, and counted
            ref = self.contacts[addr] = self.rec.new_contact(addr, at)
            self.new_contacts += 1
        return ref

    def park(self, ev: _Event) -> None:
        """Keep *ev* until an import names its message's email (see parked_events)."""
        contact = self.contact(ev.address, ev.ts)
        d = ev.detail
        payload = [ev.kind, ev.url, ev.flag, ev.group,
                   None if d is None else [d.reason, d.classification, d.status], list(ev.loc),
                   ev.variant, ev.own]
        self.c.execute(
            "INSERT OR REPLACE INTO parked_events(event_id, message_id, contact_id, at, event)"
            " VALUES (?, ?, ?, ?, ?)",
            (ev.event_id, ev.msg, contact.id, ev.ts, json.dumps(payload, ensure_ascii=False)),
        )

    def prepare_seen(self, event_ids: set[str]) -> None:
        """Look up, in one go, which events of this import were imported before."""
        self.now: set[str] = set()
        if not _has_rows(self.store, "seen_events"):  # a store that saw no event yet
            self.before: set[str] = set()
            return
        ids = sorted(event_ids)
        self.before = self.rec.already_seen(ids)
        if self.legacy_seen:  # an older store remembered bare sg_event_ids
            bare: dict[str, list[str]] = {}
            for event_id in ids:
                legacy = _legacy_id(event_id)
                if legacy is not None:
                    bare.setdefault(legacy, []).append(event_id)
            for legacy in self.rec.already_seen(sorted(bare)):
                self.before.update(bare[legacy])

    def seen(self, event_id: str) -> bool:
        """True if *event_id* was imported before (or earlier in this import)."""
        if event_id in self.before or event_id in self.now:
            return True
        self.now.add(event_id)
        return False

    def finish(self) -> None:
        self.rec.flush_counts()
        self.write_sources()
        self.rec.mark_seen(self.now)
        self.rec.flush_messages()

    def apply(self, ev: _Event, email_id: int | None) -> None:
        rec = self.rec
        added = self.report.added  # every LABELS key is there (0 at the start)
        kind, at, group, msg = ev.kind, ev.ts, ev.group, ev.msg
        contact = self.contacts.get(ev.address) or self.contact(ev.address, at)
        if email_id is not None:
            if msg is not None and msg not in self.remembered:
                self.remembered.add(msg)
                rec.remember_message(msg, email_id)
            if (
                group is not None
                and email_id in self.created_emails
                and email_id not in self.email_has_list
            ):
                self.email_has_list.add(email_id)
                rec.fill_list(email_id, self.list_for_group(group))
        if kind in MESSAGE_KINDS:
            assert email_id is not None
            _, created = rec.message_event(
                email_id, contact, kind, at, message_id=msg, hard=ev.flag, detail=ev.detail
            )
            if created and kind != "dropped":
                added["sent"] += 1
            if kind == "bounce":
                added["bounced_hard" if ev.flag else "bounced_soft"] += 1
            else:
                added[kind] += 1
        elif kind == "open":
            assert email_id is not None
            if rec.infer_send(email_id, contact, at, msg):
                added["inferred"] += 1
            rec.open(email_id, contact, at, machine=ev.flag)
            added["machine_opens" if ev.flag else "opens"] += 1
            if not contact.consent:
                added["anonymous"] += 1
        elif kind == "click":
            assert email_id is not None and ev.url is not None
            if rec.infer_send(email_id, contact, at, msg):
                added["inferred"] += 1
            bot = rec.click(email_id, contact, ev.url, at)
            added["bot_clicks" if bot else "clicks"] += 1
            if not contact.consent:
                added["anonymous"] += 1
        else:
            if email_id is None:
                added["no_email"] += 1
            elif kind != "group_resubscribe" and rec.infer_send(email_id, contact, at, msg):
                # unsubscribing or reporting spam through an email proves it arrived too
                added["inferred"] += 1
            if kind == "unsubscribe":
                rec.unsubscribe(contact, at, email_id=email_id)
                added["unsubscribes_all"] += 1
            elif kind == "group_unsubscribe":
                assert group is not None
                list_id = self.list_for_group(group)
                rec.unsubscribe(contact, at, email_id=email_id, list_id=list_id)
                added["unsubscribes_list"] += 1
            elif kind == "group_resubscribe":
                assert group is not None
                list_id = self.list_for_group(group)
                rec.resubscribe(contact, list_id, at, email_id=email_id)
                added["resubscribes"] += 1
            elif kind == "spamreport":
                rec.spam_report(email_id, contact, at)
                added["spam_reports"] += 1
            else:  # pragma: no cover - _check lets only HANDLED kinds through
                raise AssertionError(kind)
        if ev.variant is not None and email_id is not None:
            rec.set_variant(email_id, contact, msg, ev.variant)


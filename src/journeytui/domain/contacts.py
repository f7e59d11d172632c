"""Support lookup: fuzzy contact search, the contact card, the timeline, forgetting.

Search is fast on a million contacts because it never scans them: candidates come
from indexes only, then a few hundred are scored.

1. an exact address (``email = ?``) ranks first; an address prefix uses the unique
   index on ``contacts.email``;
2. every word of the query is scored with rapidfuzz against ``name_vocab`` — the
   distinct first and last names, a small table the schema keeps by trigger — which
   finds typos ("Jonh" → "john") and prefixes ("mar" → "maria", "martin");
3. contacts whose first/last name is one of the matched names come from the
   expression indexes on ``lower(first_name)`` / ``lower(last_name)``;
4. the candidates are scored on name and address apart, the better of the two wins.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from journeytui.errors import UserError
from journeytui.store import Store
from journeytui.timefmt import iso_time

Key = tuple[int, int]

WORD_CANDIDATES = 12  # vocabulary matches kept per query word
PER_NAME_LIMIT = 60  # contacts fetched per matched name (pair)
VOCAB_CUTOFF = 72  # rapidfuzz ratio a vocabulary value needs


@dataclass(frozen=True)
class ContactMatch:
    id: int
    address: str
    name: str
    score: float


@dataclass
class Subscription:
    list_name: str
    status: str
    changed_at: int


@dataclass
class ContactCard:
    id: int
    address: str
    first_name: str
    last_name: str
    consent: bool
    consent_at: int | None
    unsubscribed_all: bool
    unsubscribed_all_at: int | None
    spam_reported_at: int | None = None
    subscriptions: list[Subscription] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "tracking_consent": self.consent,
            "consent_changed_at": iso_time(self.consent_at),
            "unsubscribed_from_all": self.unsubscribed_all,
            "unsubscribed_from_all_at": iso_time(self.unsubscribed_all_at),
            "spam_reported_at": iso_time(self.spam_reported_at),
            "subscriptions": [
                {"list": s.list_name, "status": s.status, "changed_at": iso_time(s.changed_at)}
                for s in self.subscriptions
            ],
        }


@dataclass(frozen=True)
class TimelineRow:
    id: int
    at: int
    email: str | None
    activity: str
    value: str | None
    bot: bool
    machine: bool

    @property
    def key(self) -> Key:
        return (self.at, self.id)

    def to_json(self) -> dict[str, Any]:
        return {
            "time": iso_time(self.at),
            "email": self.email,
            "activity": self.activity,
            "value": self.value,
            "suspected_bot": self.bot,
            "machine_open": self.machine,
        }


# -- search -----------------------------------------------------------------------
class _Vocab:
    """The name vocabulary of one store file, cached until it grows."""

    def __init__(self, values: list[str]) -> None:
        self.values = sorted(values)
        self.processed = [default_process(v) for v in self.values]
        # a multi-part name ("de la cruz", "anne-marie") is found by each part too
        self.parts: dict[str, set[str]] = {}
        for v in self.values:
            for part in re.split(r"[\s\-']+", v):
                if part and part != v:
                    self.parts.setdefault(part, set()).add(v)
        self.part_keys = sorted(self.parts)

    def match(self, word: str) -> dict[str, float]:
        """Vocabulary values close to *word*, with a score out of 100."""
        found: dict[str, float] = {}
        w = word.lower()
        for values, keys in ((self.values, None), (self.part_keys, self.parts)):
            i = bisect.bisect_left(values, w)
            while i < len(values) and values[i].startswith(w) and len(found) < 200:
                targets = keys[values[i]] if keys else {values[i]}
                for t in targets:
                    score = 100.0 if values[i] == w else 90.0 + 10.0 * len(w) / len(values[i])
                    found[t] = max(found.get(t, 0.0), score)
                i += 1
        if len(w) >= 3:
            hits = process.extract(
                default_process(word),
                self.processed,
                scorer=fuzz.ratio,
                processor=None,
                limit=WORD_CANDIDATES,
                score_cutoff=VOCAB_CUTOFF,
            )
            for _, score, idx in hits:
                v = self.values[idx]
                found[v] = max(found.get(v, 0.0), float(score))
        best = sorted(found.items(), key=lambda kv: -kv[1])[: WORD_CANDIDATES * 2]
        return dict(best)


_vocab_cache: dict[str, tuple[int, _Vocab]] = {}
_vocab_lock = threading.Lock()


def _vocab(store: Store) -> _Vocab:
    size = int(store.conn.execute("SELECT count(*) FROM name_vocab").fetchone()[0])
    key = f"{store.path.resolve()}:{store.token_key.hex()}"
    with _vocab_lock:
        cached = _vocab_cache.get(key)
        if cached and cached[0] == size:
            return cached[1]
    vocab = _Vocab([r[0] for r in store.conn.execute("SELECT value FROM name_vocab")])
    with _vocab_lock:
        _vocab_cache[key] = (size, vocab)
    return vocab


_WORD = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*", re.UNICODE)
_SELECT = "SELECT id, email, trim(first_name || ' ' || last_name) FROM contacts"


def search_contacts(store: Store, query: str, limit: int = 50) -> list[ContactMatch]:
    """The best matches for part of a name or address, best first (exact address first)."""
    q = query.strip()
    if not q:
        return []
    ql = q.lower()
    c = store.conn
    rows: dict[int, tuple[str, str]] = {}
    exact: set[int] = set()

    for cid, address, name in c.execute(_SELECT + " WHERE email = ?", (ql,)):
        rows[cid] = (address, name)
        exact.add(cid)
    if len(ql) >= 2:
        for cid, address, name in c.execute(
            _SELECT + " WHERE email >= ? AND email < ? ORDER BY email LIMIT ?",
            (ql, ql + "\U0010ffff", limit),
        ):
            rows[cid] = (address, name)

    # the local part of an address reads like a name: "jane.doe@x" -> jane, doe
    words = [w for w in _WORD.findall(q.split("@", 1)[0] if "@" in q else q) if w]
    vocab = _vocab(store)
    matched = [vocab.match(w) for w in words[:4]]
    matched = [m for m in matched if m]
    if len(matched) >= 2:
        a, b = matched[0], matched[1]
        pairs = sorted(
            ((x, y, sa + sb) for x, sa in a.items() for y, sb in b.items()),
            key=lambda t: -t[2],
        )[:12]
        for x, y, _ in pairs:
            for cid, address, name in c.execute(
                _SELECT + " WHERE lower(first_name) = ? AND lower(last_name) = ? LIMIT ?",
                (x, y, PER_NAME_LIMIT),
            ):
                rows[cid] = (address, name)
            for cid, address, name in c.execute(
                _SELECT + " WHERE lower(last_name) = ? AND lower(first_name) = ? LIMIT ?",
                (x, y, PER_NAME_LIMIT),
            ):
                rows[cid] = (address, name)
    if matched and len(rows) < limit * 2:
        for word_matches in matched:
            for value, _ in sorted(word_matches.items(), key=lambda kv: -kv[1])[:6]:
                for cid, address, name in c.execute(
                    _SELECT + " WHERE lower(first_name) = ? LIMIT ?", (value, PER_NAME_LIMIT)
                ):
                    rows[cid] = (address, name)
                for cid, address, name in c.execute(
                    _SELECT + " WHERE lower(last_name) = ? LIMIT ?", (value, PER_NAME_LIMIT)
                ):
                    rows[cid] = (address, name)

    scored: list[ContactMatch] = []
    pwords = [default_process(w) for w in words] or [default_process(q)]
    for cid, (address, name) in rows.items():
        if cid in exact:
            score = 200.0
        else:
            addr_score = fuzz.ratio(ql, address)
            if address.startswith(ql):
                addr_score = max(addr_score, 95.0 + 5.0 * len(ql) / len(address))
            score = max(_name_score(pwords, name), addr_score)
        scored.append(ContactMatch(cid, address, name, round(score, 1)))
    scored.sort(key=lambda m: (-m.score, m.name.lower(), m.address))
    return scored[:limit]


def _word_score(word: str, token: str) -> float:
    if token.startswith(word):
        return 90.0 + 10.0 * len(word) / len(token)
    return float(fuzz.ratio(word, token))


def _name_score(words: list[str], name: str) -> float:
    """Mean over the query's words of how well each matches a part of *name*."""
    tokens = [t for t in re.split(r"[\s\-']+", default_process(name)) if t]
    if not tokens or not words:
        return 0.0
    return sum(max(_word_score(w, t) for t in tokens) for w in words) / len(words)


# -- card and timeline ------------------------------------------------------------
def find_contact(store: Store, address: str) -> int:
    row = store.conn.execute(
        "SELECT id FROM contacts WHERE email = ?", (address.strip().lower(),)
    ).fetchone()
    if row is None:
        raise UserError(f"no contact with address {address!r} in {store.path}")
    return int(row[0])


def contact_card(store: Store, contact_id: int) -> ContactCard:
    row = store.conn.execute(
        "SELECT id, email, first_name, last_name, consent, consent_at, unsubscribed_all,"
        " unsubscribed_all_at, spam_reported_at FROM contacts WHERE id = ?",
        (contact_id,),
    ).fetchone()
    if row is None:
        raise UserError(f"contact #{contact_id} does not exist (forgotten?)")
    card = ContactCard(
        row[0], row[1], row[2], row[3], bool(row[4]), row[5], bool(row[6]), row[7], row[8]
    )
    card.subscriptions = [
        Subscription(*r)
        for r in store.conn.execute(
            "SELECT l.name, s.status, s.changed_at FROM subscriptions s"
            " JOIN lists l ON l.id = s.list_id WHERE s.contact_id = ? ORDER BY l.name",
            (contact_id,),
        )
    ]
    return card


@dataclass(frozen=True)
class TimelineFilter:
    """Which of a contact's activities to list: *words* each found in the email's name or
    the value (link, form, page, list), and a time range [*since*, *until*)."""

    words: tuple[str, ...] = ()
    since: int | None = None
    until: int | None = None

    @classmethod
    def parse(cls, text: str) -> TimelineFilter:
        """``spring 2026-03``: words, and dates as ``YYYY``, ``YYYY-MM`` or
        ``YYYY-MM-DD`` (that year, month or day; two dates: from the first to the end
        of the second)."""
        words: list[str] = []
        spans: list[tuple[int, int]] = []
        for token in text.split():
            span = _date_span(token)
            if span is None:
                words.append(token.lower())
            else:
                spans.append(span)
        since = min(a for a, _ in spans) if spans else None
        until = max(b for _, b in spans) if spans else None
        return cls(tuple(words), since, until)

    def __bool__(self) -> bool:
        return bool(self.words) or self.since is not None or self.until is not None

    def sql(self) -> tuple[str, list[Any]]:
        where, params = "", cast(list[Any], [])
        for word in self.words:
            where += (" AND (instr(lower(coalesce(e.name, '')), ?) > 0"
                      f" OR instr(lower(coalesce({_TIMELINE_VALUE}, '')), ?) > 0)")
            params += [word, word]
        if self.since is not None:
            where += " AND a.at >= ?"
            params.append(self.since)
        if self.until is not None:
            where += " AND a.at < ?"
            params.append(self.until)
        return where, params


def _date_span(token: str) -> tuple[int, int] | None:
    """The [start, end) epoch seconds of a year, month or day written ISO-style."""
    import calendar
    import re

    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", token)
    if not m:
        return None
    year, month, day = int(m[1]), m[2], m[3]
    try:
        if month is None:
            start = calendar.timegm((year, 1, 1, 0, 0, 0))
            end = calendar.timegm((year + 1, 1, 1, 0, 0, 0))
        elif day is None:
            mo = int(month)
            if not 1 <= mo <= 12:
                return None
            start = calendar.timegm((year, mo, 1, 0, 0, 0))
            end = calendar.timegm((year + (mo == 12), mo % 12 + 1, 1, 0, 0, 0))
        else:
            mo, d = int(month), int(day)
            if not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(year, mo)[1]:
                return None
            start = calendar.timegm((year, mo, d, 0, 0, 0))
            end = start + 86400
    except (ValueError, OverflowError):
        return None
    return start, end


_TIMELINE_VALUE = (
    "CASE WHEN a.kind = 'unsubscribe' AND a.list_id IS NOT NULL THEN l.name"
    " WHEN a.kind = 'confirm' THEN l.name ELSE a.value END"
)
_TIMELINE_FROM = (
    " FROM activities a LEFT JOIN emails e ON e.id = a.email_id"
    " LEFT JOIN lists l ON l.id = a.list_id"
)


def _timeline_where(contact_id: int, flt: TimelineFilter | None) -> tuple[str, list[Any]]:
    where = "a.contact_id = ?"
    params: list[Any] = [contact_id]
    if flt:
        extra, more = flt.sql()
        where += extra
        params += more
    return where, params


def _timeline_page(
    store: Store, contact_id: int, key: Key | None, limit: int | None,
    flt: TimelineFilter | None, *, backwards: bool,
) -> list[TimelineRow]:
    where, params = _timeline_where(contact_id, flt)
    if key is not None:
        where += " AND (a.at, a.id) > (?, ?)" if backwards else " AND (a.at, a.id) < (?, ?)"
        params.extend(key)
    order = "ASC" if backwards else "DESC"
    sql = (
        f"SELECT a.id, a.at, e.name, a.kind, {_TIMELINE_VALUE}, a.bot, a.machine"
        f"{_TIMELINE_FROM} WHERE {where} ORDER BY a.at {order}, a.id {order}"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    rows = [TimelineRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6]))
            for r in store.conn.execute(sql, params)]
    return rows[::-1] if backwards else rows


def timeline(
    store: Store, contact_id: int, *, before: Key | None = None, limit: int | None = 200,
    flt: TimelineFilter | None = None,
) -> list[TimelineRow]:
    """The contact's activities with their emails and links, newest first (keyset paged:
    the rows after *before* in that order)."""
    return _timeline_page(store, contact_id, before, limit, flt, backwards=False)


def timeline_older_first(
    store: Store, contact_id: int, *, after: Key | None, limit: int,
    flt: TimelineFilter | None = None,
) -> list[TimelineRow]:
    """The *limit* rows just after keyset *after* read from the oldest end (the oldest
    rows when *after* is None), returned newest first: the timeline read backwards."""
    return _timeline_page(store, contact_id, after, limit, flt, backwards=True)


def count_timeline(store: Store, contact_id: int, flt: TimelineFilter | None = None) -> int:
    where, params = _timeline_where(contact_id, flt)
    return int(
        store.conn.execute(f"SELECT count(*){_TIMELINE_FROM} WHERE {where}", params).fetchone()[0]
    )


# -- forgetting -------------------------------------------------------------------
def forget_contact(store: Store, address: str) -> dict[str, int]:
    """Erase a contact's identity and activities; the statistics stay as they were.

    Sends stay counted without a contact; anonymous counters never had one.  Deleted
    pages are overwritten (``secure_delete``) and the WAL is checkpointed, so the
    address and name do not linger in the file.
    """
    contact_id = find_contact(store, address)
    c = store.conn
    c.execute("PRAGMA secure_delete = ON")
    try:
        with store.transaction():
            row = c.execute(
                "SELECT lower(first_name), lower(last_name) FROM contacts WHERE id = ?",
                (contact_id,),
            ).fetchone()
            # the sources of the contact's activities and subscription changes go too
            # (a file line and event id would say what the person did)
            c.execute(
                "DELETE FROM event_sources WHERE target = 'a' AND row_id IN"
                " (SELECT id FROM activities WHERE contact_id = ?)", (contact_id,)
            )
            c.execute(
                "DELETE FROM event_sources WHERE target = 'c' AND row_id IN"
                " (SELECT id FROM subscription_changes WHERE contact_id = ?)", (contact_id,)
            )
            activities = c.execute(
                "DELETE FROM activities WHERE contact_id = ?", (contact_id,)
            ).rowcount
            c.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
            for value in set(row):
                c.execute(
                    "DELETE FROM name_vocab WHERE value = ? AND NOT EXISTS"
                    " (SELECT 1 FROM contacts WHERE lower(first_name) = ?)"
                    " AND NOT EXISTS (SELECT 1 FROM contacts WHERE lower(last_name) = ?)",
                    (value, value, value),
                )
    finally:
        c.execute("PRAGMA secure_delete = OFF")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"activities": activities}

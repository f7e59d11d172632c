"""Hand-built stores for engine tests, written through the Recorder (so the consent
rule applies exactly as in real imports)."""

from __future__ import annotations

from pathlib import Path

from journeytui.store import ContactRef, Recorder, Store
from tests.blank_store import blank_store

T0 = 1_767_600_000  # 2026-01-05 08:00 UTC
DAY = 86_400

CATALOG_LINKS = {
    "Spring product teaser": ("Product updates", [
        "https://www.example.com/products/tracker",
        "https://www.example.com/products/planner",
        "https://www.example.com/pricing",
    ]),
    "Webinar invitation: Journeys 101": ("Webinars", [
        "https://www.example.com/webinar/signup",
        "https://www.example.com/products/tracker",
    ]),
    "Whitepaper: Email benchmarks 2026": ("Newsletter", [
        "https://www.example.com/whitepaper/email-benchmarks",
        "https://www.example.com/pricing",
    ]),
    "Pricing update": ("Customers", [
        "https://www.example.com/pricing",
        "https://www.example.com/contact-sales",
    ]),
    "Newsletter — January 2026": ("Newsletter", ["https://www.example.com/blog/one"]),
    "Newsletter — February 2026": ("Newsletter", ["https://www.example.com/blog/two"]),
    "Newsletter — March 2026": ("Newsletter", ["https://www.example.com/blog/three"]),
    "Newsletter — April 2026": ("Newsletter", ["https://www.example.com/blog/four"]),
}
FORMS = ["Webinar registration", "Contact sales", "Whitepaper download"]


class Builder:
    """Small DSL over Recorder: names in, ids handled."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.r = Recorder(store)
        self.emails: dict[str, int] = {}
        self.lists: dict[str, int] = {}
        self.contacts: dict[str, ContactRef] = {}

    def catalog(self) -> Builder:
        with self.store.transaction():
            for i, (name, (lst, links)) in enumerate(CATALOG_LINKS.items()):
                lid = self.lists.get(lst) or self.r.ensure_list(lst)
                self.lists[lst] = lid
                self.emails[name] = self.r.ensure_email(
                    name, subject=name, list_id=lid, send_at=T0 + i * DAY
                )
                for url in links:
                    self.r.ensure_link(self.emails[name], url)
            self.r.ensure_email("Draft: Summer sale", status="draft", list_id=self.lists["Newsletter"])
            # A consented contact submits each form once, so the forms exist.
            seed = self.r.contact("forms@example.com", consent=True, at=T0 - DAY)
            for f in FORMS:
                self.r.form(seed, f, T0 - DAY)
        return self

    def contact(self, name: str, *, consent: bool = True) -> ContactRef:
        with self.store.transaction():
            c = self.r.contact(f"{name}@example.com", first_name=name, consent=consent, at=T0 - DAY)
        self.contacts[name] = c
        return c

    def __call__(self, action: str, who: str, at: int, *args: object, **kw: object) -> None:
        c = self.contacts[who]
        with self.store.transaction():
            if action == "send":
                self.r.send(self.emails[str(args[0])], c, at)
            elif action == "open":
                self.r.open(self.emails[str(args[0])], c, at, **kw)  # type: ignore[arg-type]
            elif action == "click":
                self.r.click(self.emails[str(args[0])], c, str(args[1]), at)
            elif action == "form":
                self.r.form(c, str(args[0]), at)
            elif action == "visit":
                self.r.visit(c, str(args[0]), at)
            elif action == "unsub_all":
                self.r.unsubscribe(c, at, email_id=self.emails.get(str(args[0])) if args else None)
            elif action == "unsub":
                self.r.unsubscribe(c, at, list_id=self.lists[str(args[0])])
            elif action == "spam":
                self.r.spam_report(self.emails[str(args[0])], c, at)
            elif action == "confirm":
                self.r.confirm(c, self.lists[str(args[0])], at)
            elif action == "resub":
                self.r.resubscribe(c, self.lists[str(args[0])], at)
            elif action == "bounce":  # the latest delivered send of the email bounces
                self.r.bounce(self.emails[str(args[0])], c, at, hard=bool(kw.get("hard", True)))
            elif action == "earlier":
                # An earlier event of a message already on record arrives late (a
                # provider's "processed" after its "delivered"): the send's time moves
                # back.  The recorder does this in place, like a bounce.
                self.store.conn.execute(
                    "UPDATE sends SET at = at - ? WHERE id = (SELECT max(id) FROM sends"
                    " WHERE contact_id = ? AND email_id = ?)",
                    (int(str(args[1])), c.id, self.emails[str(args[0])]),
                )
            elif action == "consent":
                self.contacts[who] = self.r.set_consent(c, bool(args[0]), at)
            else:  # pragma: no cover
                raise ValueError(action)


def new_store(tmp: Path, name: str = "t.db") -> Store:
    """A new store (a copy of one made once per process: see ``tests/blank_store.py``)."""
    return blank_store(tmp / name, token_key=b"k" * 16)

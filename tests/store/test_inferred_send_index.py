"""A message event finds the send an open inferred through an index, not a scan of every send.

An open or click that names no message infers a send (no message id, proofs = the
inferred bit alone, PRODUCT.md §3); the first provider event about a message then looks
for such a send to name.  Whether the store holds any, and which, is read from the
partial index sends_inferred (schema v10): without it every webhook request scanned
the whole sends table once.  The statements checked are the ones the Recorder really
runs (traced on its connection), with the values it binds.
"""

from __future__ import annotations

from journeytui.store import Recorder, Store

T0 = 1_767_600_000  # 2026-01-05 08:00 UTC


def _plans(store: Store, statements: list[str]) -> dict[str, list[str]]:
    return {
        sql: [row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
        for sql in statements
    }


def test_looking_for_an_unnamed_inferred_send_reads_the_index(store: Store) -> None:
    traced: list[str] = []
    with store.transaction():
        r = Recorder(store)
        email = r.ensure_email("Teaser", subject="Spring", send_at=T0)
        anna = r.contact("anna@example.com", consent=True, at=T0 - 100)
        bob = r.contact("bob@example.org", consent=True, at=T0 - 100)
        for n in range(50):  # sends of other recipients, named by their message ids
            other = r.contact(f"c{n}@example.net", at=T0 - 100)
            r.message_event(email, other, "delivered", T0 + 1, message_id=f"m-{n}")
        r.open(email, bob, T0 + 60)
        assert r.infer_send(email, bob, T0 + 60)  # no send of bob on record: inferred
    store.conn.set_trace_callback(traced.append)
    try:
        with store.transaction():
            r = Recorder(store)
            r.message_event(email, anna, "delivered", T0 + 2, message_id="m-anna")
            r.message_event(email, bob, "delivered", T0 + 3, message_id="m-bob")
    finally:
        store.conn.set_trace_callback(None)
    lookups = [sql for sql in traced if "message_id IS NULL AND proofs" in sql
               and sql.lstrip().upper().startswith("SELECT")]
    plans = _plans(store, lookups)
    whether = [p for sql, p in plans.items() if "EXISTS" in sql]
    assert whether == [["SCAN CONSTANT ROW", "SCALAR SUBQUERY 1",
                        "SCAN sends USING INDEX sends_inferred"]], plans
    for sql, plan in plans.items():  # nothing reads every send
        assert all(not step.startswith("SCAN sends") or "sends_inferred" in step
                   for step in plan), (sql, plan)
    # bob's inferred send became message m-bob's (one send, not two); anna got a new one
    rows = store.conn.execute(
        "SELECT contact_id, message_id FROM sends WHERE contact_id IN (?, ?) ORDER BY contact_id",
        (anna.id, bob.id),
    ).fetchall()
    assert rows == [(anna.id, "m-anna"), (bob.id, "m-bob")]

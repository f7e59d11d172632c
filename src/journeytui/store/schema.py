"""The SQLite schema and its forward migrations.

Times are whole seconds since the Unix epoch (UTC) in INTEGER columns.

The consent rule (PRODUCT.md §2) is built into the tables:

* ``activities`` holds contact activities and always names a contact; a row is
  written only while that contact has tracking consent.
* ``anonymous_events`` holds opens and clicks of recipients without consent.  It
  has no contact column; the only recipient key is ``token``, an opaque per-email
  keyed hash that no table maps back to a contact.
* ``recipient_engagement`` and ``link_recipients`` keep, per email (per link) and
  token, what is needed to count unique recipients.  They too have no contact
  column, so statistics stay right after a contact is forgotten.
* ``email_stats`` and ``link_stats`` are counters kept current by every write
  (``journeytui.store.recorder``), so panes never recount events.
"""

from __future__ import annotations

APP_ID = "journeytui"

# Each entry upgrades the schema from version i to i + 1 (index i).
MIGRATIONS: list[str] = [
    # --- version 1 -------------------------------------------------------------
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE TABLE contacts (
        id                  INTEGER PRIMARY KEY,
        email               TEXT NOT NULL UNIQUE,       -- lower-cased address
        first_name          TEXT NOT NULL DEFAULT '',
        last_name           TEXT NOT NULL DEFAULT '',
        consent             INTEGER NOT NULL DEFAULT 0 CHECK (consent IN (0, 1)),
        consent_at          INTEGER,                    -- when given or revoked
        unsubscribed_all    INTEGER NOT NULL DEFAULT 0 CHECK (unsubscribed_all IN (0, 1)),
        unsubscribed_all_at INTEGER,
        created_at          INTEGER NOT NULL
    );
    CREATE INDEX contacts_first_lc ON contacts(lower(first_name), lower(last_name));
    CREATE INDEX contacts_last_lc ON contacts(lower(last_name), lower(first_name));

    -- Distinct lower-cased first and last names: the small vocabulary that fuzzy
    -- contact search scores before it looks contacts up by index.
    CREATE TABLE name_vocab (
        value TEXT PRIMARY KEY
    ) WITHOUT ROWID;
    CREATE TRIGGER contacts_vocab_insert AFTER INSERT ON contacts BEGIN
        INSERT OR IGNORE INTO name_vocab(value)
        SELECT v FROM (SELECT lower(NEW.first_name) AS v UNION SELECT lower(NEW.last_name))
        WHERE v != '';
    END;
    CREATE TRIGGER contacts_vocab_update AFTER UPDATE OF first_name, last_name ON contacts
    BEGIN
        INSERT OR IGNORE INTO name_vocab(value)
        SELECT v FROM (SELECT lower(NEW.first_name) AS v UNION SELECT lower(NEW.last_name))
        WHERE v != '';
    END;

    CREATE TABLE lists (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL UNIQUE,
        asm_group_id INTEGER UNIQUE              -- SendGrid unsubscribe group
    );

    CREATE TABLE subscriptions (
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        list_id    INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
        status     TEXT NOT NULL CHECK (status IN ('pending', 'subscribed', 'unsubscribed')),
        changed_at INTEGER NOT NULL,
        PRIMARY KEY (contact_id, list_id)
    ) WITHOUT ROWID;
    CREATE INDEX subscriptions_list ON subscriptions(list_id, status);

    CREATE TABLE emails (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        subject     TEXT NOT NULL DEFAULT '',
        list_id     INTEGER REFERENCES lists(id),
        status      TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sent')),
        send_at     INTEGER,
        campaign_id TEXT UNIQUE                  -- provider's campaign id, if any
    );

    CREATE TABLE links (
        id       INTEGER PRIMARY KEY,
        email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
        url      TEXT NOT NULL,
        UNIQUE (email_id, url)
    );

    -- Sending is not tracking: known for every recipient.  contact_id becomes NULL
    -- when a contact is forgotten; the row keeps counting as a send.
    CREATE TABLE sends (
        id         INTEGER PRIMARY KEY,
        email_id   INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
        contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
        status     TEXT NOT NULL
                   CHECK (status IN ('delivered', 'bounced_hard', 'bounced_soft', 'dropped')),
        at         INTEGER NOT NULL
    );
    CREATE INDEX sends_contact ON sends(contact_id, at);
    CREATE INDEX sends_email ON sends(email_id, contact_id);

    -- Contact activities: consented contacts only (see module docstring).
    -- kind: open | click | unsubscribe | spam | confirm | form | visit
    -- list_id: for unsubscribe (NULL = from all) and confirm.
    -- value: the clicked URL, the form name or the visited page.
    CREATE TABLE activities (
        id         INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL CHECK (kind IN
                   ('open', 'click', 'unsubscribe', 'spam', 'confirm', 'form', 'visit')),
        email_id   INTEGER REFERENCES emails(id) ON DELETE SET NULL,
        link_id    INTEGER REFERENCES links(id) ON DELETE SET NULL,
        list_id    INTEGER REFERENCES lists(id) ON DELETE SET NULL,
        value      TEXT,
        at         INTEGER NOT NULL,
        machine    INTEGER NOT NULL DEFAULT 0,   -- provider-flagged machine open
        bot        INTEGER NOT NULL DEFAULT 0    -- suspected bot click
    );
    CREATE INDEX activities_contact ON activities(contact_id, at);
    CREATE INDEX activities_email ON activities(email_id, at);
    CREATE INDEX activities_at ON activities(at, id);

    -- Opens and clicks of recipients without tracking consent: no contact column.
    CREATE TABLE anonymous_events (
        id       INTEGER PRIMARY KEY,
        email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
        token    TEXT NOT NULL,
        kind     TEXT NOT NULL CHECK (kind IN ('open', 'click')),
        link_id  INTEGER REFERENCES links(id) ON DELETE SET NULL,
        at       INTEGER NOT NULL,
        machine  INTEGER NOT NULL DEFAULT 0,
        bot      INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX anonymous_events_email ON anonymous_events(email_id, kind);

    -- Per email and recipient token: what unique counts need.  No contact column.
    CREATE TABLE recipient_engagement (
        email_id      INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
        token         TEXT NOT NULL,
        opens         INTEGER NOT NULL DEFAULT 0,
        machine_opens INTEGER NOT NULL DEFAULT 0,
        clicks        INTEGER NOT NULL DEFAULT 0,
        bot_clicks    INTEGER NOT NULL DEFAULT 0,
        last_click_at INTEGER,
        unsubscribed  INTEGER NOT NULL DEFAULT 0,
        spam          INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (email_id, token)
    ) WITHOUT ROWID;

    CREATE TABLE link_recipients (
        link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,
        token   TEXT NOT NULL,
        clicks  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (link_id, token)
    ) WITHOUT ROWID;

    CREATE TABLE email_stats (
        email_id         INTEGER PRIMARY KEY REFERENCES emails(id) ON DELETE CASCADE,
        sent             INTEGER NOT NULL DEFAULT 0,
        bounced_hard     INTEGER NOT NULL DEFAULT 0,
        bounced_soft     INTEGER NOT NULL DEFAULT 0,
        dropped          INTEGER NOT NULL DEFAULT 0,
        opened           INTEGER NOT NULL DEFAULT 0,  -- unique, machine opens left out
        opens_total      INTEGER NOT NULL DEFAULT 0,  -- machine opens left out
        machine_opens    INTEGER NOT NULL DEFAULT 0,  -- events
        clicked          INTEGER NOT NULL DEFAULT 0,  -- unique, bot clicks left out
        clicks_total     INTEGER NOT NULL DEFAULT 0,  -- bot clicks left out
        bot_clicks       INTEGER NOT NULL DEFAULT 0,  -- events
        unsubscribed     INTEGER NOT NULL DEFAULT 0,  -- unique recipients
        spam_reports     INTEGER NOT NULL DEFAULT 0,  -- unique recipients
        anonymous_opens  INTEGER NOT NULL DEFAULT 0,  -- of opens_total
        anonymous_clicks INTEGER NOT NULL DEFAULT 0   -- of clicks_total
    );

    CREATE TABLE link_stats (
        link_id      INTEGER PRIMARY KEY REFERENCES links(id) ON DELETE CASCADE,
        clicked      INTEGER NOT NULL DEFAULT 0,
        clicks_total INTEGER NOT NULL DEFAULT 0,
        bot_clicks   INTEGER NOT NULL DEFAULT 0
    );

    -- Provider event ids already imported (deduplication).
    CREATE TABLE seen_events (
        event_id TEXT PRIMARY KEY
    ) WITHOUT ROWID;

    -- Journeys (definition = the pydantic Journey model as JSON).
    CREATE TABLE journeys (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        definition TEXT NOT NULL,
        version    INTEGER NOT NULL DEFAULT 1,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE journey_versions (
        journey_id INTEGER NOT NULL REFERENCES journeys(id) ON DELETE CASCADE,
        version    INTEGER NOT NULL,
        definition TEXT NOT NULL,
        saved_at   INTEGER NOT NULL,
        PRIMARY KEY (journey_id, version)
    ) WITHOUT ROWID;

    -- ---- Journey engine (issue 3, journeytui.domain.engine) -------------------
    -- Where each contact stands in each journey.  One row per contact the engine
    -- has seen (it has at least one activity); stage IS NULL = not in the journey
    -- (yet).  stage/since are the position as of the last evaluation time; state is
    -- the engine's private per-contact state (JSON) to continue incrementally.
    CREATE TABLE journey_positions (
        journey_id INTEGER NOT NULL REFERENCES journeys(id) ON DELETE CASCADE,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        stage      TEXT,                        -- current stage name, NULL = not entered
        since      INTEGER,                     -- when the current stage was entered
        state      TEXT NOT NULL,
        PRIMARY KEY (journey_id, contact_id)
    ) WITHOUT ROWID;
    CREATE INDEX journey_positions_stage ON journey_positions(journey_id, stage, since);

    -- Every move: from_stage NULL = entry into the first stage.  The triggering
    -- event is activity_id (a contact activity) or send_id (an inactivity check at a
    -- send); both NULL = the check at evaluation time.  provisional = 1 for moves
    -- made by the check at evaluation time (redone at every evaluation).
    CREATE TABLE journey_moves (
        id          INTEGER PRIMARY KEY,
        journey_id  INTEGER NOT NULL REFERENCES journeys(id) ON DELETE CASCADE,
        contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        from_stage  TEXT,
        to_stage    TEXT NOT NULL,
        transition  INTEGER,                    -- 1-based index in the definition; NULL = entry
        at          INTEGER NOT NULL,
        activity_id INTEGER REFERENCES activities(id) ON DELETE SET NULL,
        send_id     INTEGER REFERENCES sends(id) ON DELETE SET NULL,
        email_id    INTEGER REFERENCES emails(id) ON DELETE SET NULL,
        provisional INTEGER NOT NULL DEFAULT 0 CHECK (provisional IN (0, 1))
    );
    CREATE INDEX journey_moves_contact ON journey_moves(journey_id, contact_id, at);

    -- Per journey, stage and email: clicks by contacts while in that stage, and how
    -- many of them moved the contact (the funnel's "clicks with no move").
    CREATE TABLE journey_click_stats (
        journey_id INTEGER NOT NULL REFERENCES journeys(id) ON DELETE CASCADE,
        stage      TEXT NOT NULL,
        email_id   INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
        clicks     INTEGER NOT NULL DEFAULT 0,
        moved      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (journey_id, stage, email_id)
    ) WITHOUT ROWID;

    -- What the engine has processed per journey: high-water marks of activities.id
    -- and sends.id, the definition version, the evaluation time ("now") and the
    -- format of the stored states.
    CREATE TABLE journey_progress (
        journey_id   INTEGER PRIMARY KEY REFERENCES journeys(id) ON DELETE CASCADE,
        version      INTEGER NOT NULL,
        activity_hwm INTEGER NOT NULL,
        send_hwm     INTEGER NOT NULL,
        evaluated_at INTEGER NOT NULL,
        engine       TEXT NOT NULL DEFAULT ''   -- state format; another one = full replay
    );
    -- ---- end of journey engine tables ------------------------------------------
    """,
    # --- version 2 -------------------------------------------------------------
    # A spam report acts on the contact: providers suppress all further mail to a
    # spam reporter, so the contact records when it first reported spam.
    """
    ALTER TABLE contacts ADD COLUMN spam_reported_at INTEGER;
    """,
    # --- version 3 -------------------------------------------------------------
    # Subscription changes are points in time for the journeys (PRODUCT.md §4),
    # with or without tracking consent: an unsubscribe (from a list, or from all
    # when list_id is NULL), a resubscribe, a spam report.  This is subscription
    # state, not tracking: email_id (which email it came through) is kept only for
    # consented contacts.  Existing stores are filled from what they know: the
    # consented contacts' unsubscribe and spam activities, and the current state.
    """
    CREATE TABLE subscription_changes (
        id         INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL CHECK (kind IN ('unsubscribe', 'resubscribe', 'spam')),
        list_id    INTEGER REFERENCES lists(id) ON DELETE SET NULL,
        email_id   INTEGER REFERENCES emails(id) ON DELETE SET NULL,
        at         INTEGER NOT NULL
    );
    CREATE INDEX subscription_changes_contact ON subscription_changes(contact_id, at);
    CREATE INDEX subscription_changes_at ON subscription_changes(at, id);

    INSERT INTO subscription_changes(contact_id, kind, list_id, email_id, at)
    SELECT contact_id, kind, list_id, email_id, at FROM (
        SELECT contact_id, kind, list_id, email_id, at, id AS o FROM activities
         WHERE kind IN ('unsubscribe', 'spam')
        UNION ALL
        SELECT c.id, 'unsubscribe', NULL, NULL, c.unsubscribed_all_at, 0 FROM contacts c
         WHERE c.unsubscribed_all = 1 AND c.unsubscribed_all_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = c.id
                           AND a.kind = 'unsubscribe' AND a.list_id IS NULL)
        UNION ALL
        SELECT s.contact_id, 'unsubscribe', s.list_id, NULL, s.changed_at, 0
          FROM subscriptions s
         WHERE s.status = 'unsubscribed'
           AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = s.contact_id
                           AND a.kind = 'unsubscribe' AND a.list_id = s.list_id)
        UNION ALL
        SELECT c.id, 'spam', NULL, NULL, c.spam_reported_at, 0 FROM contacts c
         WHERE c.spam_reported_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = c.id
                           AND a.kind = 'spam')
    ) ORDER BY at, o;
    """,
    # --- version 4 -------------------------------------------------------------
    # A send is a *message* (PRODUCT.md §3): every provider event about one message
    # (SendGrid's sg_message_id up to its first '.', per recipient) lands on one row.
    # proofs: bit set of what is on record about it — 1 processed, 2 delivered,
    # 4 deferred, 8 bounce, 16 dropped, 32 inferred from an open or click (no
    # provider event about the message itself).  delivered_at: the provider's
    # delivery time (bot clicks are measured from it).  reason / bounce_class /
    # smtp_status: why it bounced or was dropped (or deferred), as the provider said.
    # A drop is not a send (the provider refused to send it): email_stats.sent counts
    # delivered and bounced sends only, and older stores are corrected to that.
    # messages: which email each message belongs to, so a later import's events that
    # carry only the message id find their email.
    # The journey indexes let `forget` delete a contact without scanning the journey
    # tables (journey_positions and journey_moves by contact, journey_moves by the
    # activity it points at, which ON DELETE SET NULL looks up per deleted activity).
    """
    ALTER TABLE sends ADD COLUMN message_id TEXT;
    ALTER TABLE sends ADD COLUMN delivered_at INTEGER;
    ALTER TABLE sends ADD COLUMN proofs INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sends ADD COLUMN reason TEXT;
    ALTER TABLE sends ADD COLUMN bounce_class TEXT;
    ALTER TABLE sends ADD COLUMN smtp_status TEXT;
    UPDATE sends SET proofs = CASE status WHEN 'delivered' THEN 1 WHEN 'dropped' THEN 17
                                          ELSE 9 END;
    CREATE INDEX sends_message ON sends(message_id, contact_id) WHERE message_id IS NOT NULL;

    CREATE TABLE messages (
        message_id TEXT PRIMARY KEY,
        email_id   INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE
    ) WITHOUT ROWID;

    UPDATE email_stats SET sent = sent - dropped;

    CREATE INDEX journey_positions_contact ON journey_positions(contact_id);
    CREATE INDEX journey_moves_by_contact ON journey_moves(contact_id);
    CREATE INDEX journey_moves_activity ON journey_moves(activity_id)
        WHERE activity_id IS NOT NULL;

    INSERT INTO meta(key, value)
    SELECT 'seen_events_legacy', '1' WHERE EXISTS (SELECT 1 FROM seen_events);
    """,
    # --- version 5 -------------------------------------------------------------
    # Events that carry only a message id (no campaign, no category) whose message no
    # import has named yet wait here, so a later import that names the message applies
    # them: two imports in either order give what one import gives.  event holds what
    # the importer needs (JSON, no address: the contact is contact_id, so forgetting
    # the contact deletes its waiting events too).
    """
    CREATE TABLE parked_events (
        event_id   TEXT PRIMARY KEY,
        message_id TEXT NOT NULL,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        at         INTEGER NOT NULL,
        event      TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX parked_events_message ON parked_events(message_id);
    CREATE INDEX parked_events_contact ON parked_events(contact_id);
    """,
    # --- version 6 -------------------------------------------------------------
    # Provenance: where each recorded event came from.  An import
    # batch is one run of an importer (kind file | stdin | webhook | demo; files: the
    # JSON list of the files read, in order).  event_sources has one row per provider
    # event applied: the row it wrote or changed (target: 's' sends, 'a' activities,
    # 'n' anonymous_events, 'c' subscription_changes, 'u' / 'p' an unsubscribe / spam
    # report through an email by a recipient without consent — no row id, so it never
    # joins back to the person; token is then the per-email recipient token, for
    # undoing a batch), its email, the provider's event type and time, the file (index
    # in the batch's files), line and array index, and the provider's event id.
    # A send inferred from the engagement of a recipient without consent keeps no
    # file, line or event id (they would name the engagement's event).
    """
    CREATE TABLE import_batches (
        id         INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('file', 'stdin', 'webhook', 'demo')),
        label      TEXT NOT NULL,
        files      TEXT NOT NULL DEFAULT '[]',
        events     INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE event_sources (
        id       INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL REFERENCES import_batches(id) ON DELETE CASCADE,
        target   TEXT NOT NULL,
        row_id   INTEGER,
        email_id INTEGER,
        kind     TEXT NOT NULL,
        at       INTEGER NOT NULL,
        file_no  INTEGER,
        line     INTEGER,
        idx      INTEGER,
        event_id TEXT,
        token    TEXT
    );
    CREATE INDEX event_sources_row ON event_sources(target, row_id);
    CREATE INDEX event_sources_batch ON event_sources(batch_id);
    CREATE INDEX event_sources_acts ON event_sources(email_id) WHERE row_id IS NULL;
    """,
    # --- version 7 -------------------------------------------------------------
    # Journey advancement reads only what an import touched.
    # changed_contacts: contacts one of whose sends, activities or subscription
    # changes was changed in place or deleted (a bounce, an earlier time, a removed
    # batch, a forgotten contact), with a sequence number that only grows: an advance
    # replays the contacts whose seq is above the one it saw last (new rows it finds
    # by id; nothing is kept while no journey is evaluated).  journey_positions.recheck_at: the earliest time at which the check at
    # evaluation time may decide otherwise for that contact (a window closes), so an
    # advance re-checks only those.  sends_at: the latest send time without a scan.
    """
    CREATE TABLE changed_contacts (
        contact_id INTEGER PRIMARY KEY,
        seq        INTEGER NOT NULL
    );
    CREATE INDEX changed_contacts_seq ON changed_contacts(seq);
    CREATE TRIGGER sends_changed AFTER UPDATE OF status, at, contact_id, email_id ON sends
    WHEN EXISTS (SELECT 1 FROM journey_progress) AND OLD.contact_id IS NOT NULL AND (OLD.status IS NOT NEW.status OR OLD.at IS NOT NEW.at
         OR OLD.contact_id IS NOT NEW.contact_id OR OLD.email_id IS NOT NEW.email_id)
    BEGIN
        INSERT INTO changed_contacts(contact_id, seq) VALUES (OLD.contact_id,
            (SELECT coalesce(max(seq), 0) + 1 FROM changed_contacts))
            ON CONFLICT(contact_id) DO UPDATE SET seq = excluded.seq;
    END;
    CREATE TRIGGER sends_moved AFTER UPDATE OF contact_id ON sends
    WHEN EXISTS (SELECT 1 FROM journey_progress) AND NEW.contact_id IS NOT NULL AND OLD.contact_id IS NOT NEW.contact_id
    BEGIN
        INSERT INTO changed_contacts(contact_id, seq) VALUES (NEW.contact_id,
            (SELECT coalesce(max(seq), 0) + 1 FROM changed_contacts))
            ON CONFLICT(contact_id) DO UPDATE SET seq = excluded.seq;
    END;
    CREATE TRIGGER sends_deleted AFTER DELETE ON sends
    WHEN EXISTS (SELECT 1 FROM journey_progress) AND OLD.contact_id IS NOT NULL
    BEGIN
        INSERT INTO changed_contacts(contact_id, seq) VALUES (OLD.contact_id,
            (SELECT coalesce(max(seq), 0) + 1 FROM changed_contacts))
            ON CONFLICT(contact_id) DO UPDATE SET seq = excluded.seq;
    END;
    CREATE TRIGGER activities_changed AFTER UPDATE ON activities
    WHEN EXISTS (SELECT 1 FROM journey_progress)
    BEGIN
        INSERT INTO changed_contacts(contact_id, seq) VALUES (OLD.contact_id,
            (SELECT coalesce(max(seq), 0) + 1 FROM changed_contacts))
            ON CONFLICT(contact_id) DO UPDATE SET seq = excluded.seq;
        INSERT INTO changed_contacts(contact_id, seq) VALUES (NEW.contact_id,
            (SELECT coalesce(max(seq), 0) + 1 FROM changed_contacts))
            ON CONFLICT(contact_id) DO UPDATE SET seq = excluded.seq;
    END;
    CREATE TRIGGER activities_deleted AFTER DELETE ON activities
    WHEN EXISTS (SELECT 1 FROM journey_progress)
    BEGIN
        INSERT INTO changed_contacts(contact_id, seq) VALUES (OLD.contact_id,
            (SELECT coalesce(max(seq), 0) + 1 FROM changed_contacts))
            ON CONFLICT(contact_id) DO UPDATE SET seq = excluded.seq;
    END;
    CREATE TRIGGER subscription_changes_changed AFTER UPDATE ON subscription_changes
    WHEN EXISTS (SELECT 1 FROM journey_progress)
    BEGIN
        INSERT INTO changed_contacts(contact_id, seq) VALUES (OLD.contact_id,
            (SELECT coalesce(max(seq), 0) + 1 FROM changed_contacts))
            ON CONFLICT(contact_id) DO UPDATE SET seq = excluded.seq;
        INSERT INTO changed_contacts(contact_id, seq) VALUES (NEW.contact_id,
            (SELECT coalesce(max(seq), 0) + 1 FROM changed_contacts))
            ON CONFLICT(contact_id) DO UPDATE SET seq = excluded.seq;
    END;
    CREATE TRIGGER subscription_changes_deleted AFTER DELETE ON subscription_changes
    WHEN EXISTS (SELECT 1 FROM journey_progress)
    BEGIN
        INSERT INTO changed_contacts(contact_id, seq) VALUES (OLD.contact_id,
            (SELECT coalesce(max(seq), 0) + 1 FROM changed_contacts))
            ON CONFLICT(contact_id) DO UPDATE SET seq = excluded.seq;
    END;
    ALTER TABLE journey_positions ADD COLUMN recheck_at INTEGER;
    CREATE INDEX journey_positions_recheck ON journey_positions(journey_id, recheck_at)
        WHERE recheck_at IS NOT NULL;
    CREATE INDEX journey_moves_provisional ON journey_moves(journey_id, contact_id)
        WHERE provisional = 1;
    CREATE INDEX sends_at ON sends(at);
    """,
    # --- version 8 -------------------------------------------------------------
    # sends.variant: the A/B test variant of the message (the provider's name or id
    # of the version the recipient got), NULL when the email was not split; an A/B
    # test stays one email with per-variant figures.  contacts.bounced_at /
    # bounce_reason: a permanent bounce known about the contact from outside any one
    # email (e.g. an address an export marks "cleaned"): the earliest such date and
    # what the source said.  sends_variant: the split emails and their variants
    # without a scan of every send (most sends have none).  contacts_vocab_insert runs
    # only for a contact with a name (an import creates contacts by address alone: the
    # trigger was two thirds of the cost of such an insert).
    """
    ALTER TABLE sends ADD COLUMN variant TEXT;
    ALTER TABLE contacts ADD COLUMN bounced_at INTEGER;
    ALTER TABLE contacts ADD COLUMN bounce_reason TEXT;
    CREATE INDEX sends_variant ON sends(email_id, variant) WHERE variant IS NOT NULL;
    DROP TRIGGER contacts_vocab_insert;
    CREATE TRIGGER contacts_vocab_insert AFTER INSERT ON contacts
    WHEN NEW.first_name != '' OR NEW.last_name != ''
    BEGIN
        INSERT OR IGNORE INTO name_vocab(value)
        SELECT v FROM (SELECT lower(NEW.first_name) AS v UNION SELECT lower(NEW.last_name))
        WHERE v != '';
    END;
    """,
    # --- version 9 -------------------------------------------------------------
    # The funnel kept current by evaluation and advancement (journeytui.domain.funnel):
    # journey_funnels.figures holds, as JSON, the counts the stored moves and
    # positions decide (reached per main-line stage, exits reached, moves per
    # transition and per email, contacts per stage now); stamp names the
    # journey_progress it was kept for ('' = to be rebuilt: a contact was forgotten).
    # journey_funnel_steps: per contact, the seconds from first reaching a main-line
    # stage to first reaching the next (the medians are read from it in order).
    # freed_ids: deleting the newest row of an event table (a forgotten contact) lets
    # SQLite give its id again; ids above ``below`` may belong to rows an advance has
    # not seen although they are under its high-water mark (it replays fully then).
    """
    CREATE TABLE journey_funnels (
        journey_id INTEGER PRIMARY KEY REFERENCES journeys(id) ON DELETE CASCADE,
        stamp      TEXT NOT NULL,
        figures    TEXT NOT NULL
    );
    CREATE TABLE journey_funnel_steps (
        journey_id INTEGER NOT NULL REFERENCES journeys(id) ON DELETE CASCADE,
        level      INTEGER NOT NULL,
        seconds    INTEGER NOT NULL,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        PRIMARY KEY (journey_id, level, seconds, contact_id)
    ) WITHOUT ROWID;
    CREATE INDEX journey_funnel_steps_contact ON journey_funnel_steps(contact_id);
    CREATE TRIGGER contacts_deleted_funnels BEFORE DELETE ON contacts
    WHEN EXISTS (SELECT 1 FROM journey_funnels)
    BEGIN
        UPDATE journey_funnels SET stamp = '' WHERE journey_id IN
            (SELECT journey_id FROM journey_positions WHERE contact_id = OLD.id);
    END;
    CREATE TABLE freed_ids (
        tbl   TEXT PRIMARY KEY,
        below INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TRIGGER activities_freed AFTER DELETE ON activities
    WHEN EXISTS (SELECT 1 FROM journey_progress)
         AND OLD.id > coalesce((SELECT max(id) FROM activities), 0)
    BEGIN
        INSERT INTO freed_ids(tbl, below) VALUES ('activities',
            coalesce((SELECT max(id) FROM activities), 0))
            ON CONFLICT(tbl) DO UPDATE SET below = min(below, excluded.below);
    END;
    CREATE TRIGGER sends_freed AFTER DELETE ON sends
    WHEN EXISTS (SELECT 1 FROM journey_progress)
         AND OLD.id > coalesce((SELECT max(id) FROM sends), 0)
    BEGIN
        INSERT INTO freed_ids(tbl, below) VALUES ('sends',
            coalesce((SELECT max(id) FROM sends), 0))
            ON CONFLICT(tbl) DO UPDATE SET below = min(below, excluded.below);
    END;
    CREATE TRIGGER subscription_changes_freed AFTER DELETE ON subscription_changes
    WHEN EXISTS (SELECT 1 FROM journey_progress)
         AND OLD.id > coalesce((SELECT max(id) FROM subscription_changes), 0)
    BEGIN
        INSERT INTO freed_ids(tbl, below) VALUES ('subscription_changes',
            coalesce((SELECT max(id) FROM subscription_changes), 0))
            ON CONFLICT(tbl) DO UPDATE SET below = min(below, excluded.below);
    END;
    """,
    # --- version 10 ------------------------------------------------------------
    # sends_inferred: the sends inferred from an open or click before any message
    # event named them (no message id yet, proofs = 32, the inferred bit alone).  A
    # message event with an id looks for such a send to name; whether there is any,
    # and which, is then one lookup rather than a scan of every send (a webhook
    # request asked it once: 60-190 ms at 100k contacts).  Few sends are ever in it.
    """
    CREATE INDEX sends_inferred ON sends(email_id, contact_id)
        WHERE message_id IS NULL AND proofs = 32;
    """,
    # --- version 11 ------------------------------------------------------------
    # A provisional move (the check at evaluation time) is at the journey's evaluation
    # time, which moves with every import that brings a later event: its time, and the
    # position's since when it put the contact in its stage, are stored as "at the
    # evaluation time", 1152921504606846976 (2**60, larger than any real time;
    # journeytui.store.evaluation_time), which readers resolve from
    # journey_progress.evaluated_at — so such an import rewrites one row, not every
    # provisional move.  (A kept funnel whose durations were kept at a past evaluation
    # time is rebuilt by the next advance: journeytui.domain.funnel.Tally.from_json.)
    """
    UPDATE journey_moves SET at = 1152921504606846976 WHERE provisional = 1;
    UPDATE journey_positions SET since = 1152921504606846976
     WHERE stage IS NOT NULL AND (journey_id, contact_id) IN
           (SELECT journey_id, contact_id FROM journey_moves WHERE provisional = 1);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)

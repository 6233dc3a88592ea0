-- memberkit schema, version 6: the durable event feed. Each org's events
-- are numbered (seq: 1, 2, 3… in commit order, the org's row holding the
-- last number), existing ones in ID order. A relay keeps, per subscriber
-- and org, the last seq delivered and a lease; and per subscriber its
-- state (paused, disabled). Failures in a row are counted per org, on
-- the cursor. Stop the writers of older versions before this migration:
-- an event they append without a seq is refused (PostgreSQL, MySQL).
ALTER TABLE memberkit_events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE memberkit_events SET seq = r.n
    FROM (SELECT org_id, id, row_number() OVER (PARTITION BY org_id ORDER BY id) AS n FROM memberkit_events) AS r
    WHERE memberkit_events.org_id = r.org_id AND memberkit_events.id = r.id;
CREATE UNIQUE INDEX memberkit_events_seq_uq ON memberkit_events (org_id, seq);
ALTER TABLE memberkit_orgs ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
UPDATE memberkit_orgs SET event_seq = COALESCE((SELECT MAX(seq) FROM memberkit_events e WHERE e.org_id = memberkit_orgs.id), 0);
CREATE TABLE memberkit_feed_cursors (
    subscriber  TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    owner       TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    failures    INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    PRIMARY KEY (subscriber, org_id)
) WITHOUT ROWID;
CREATE TABLE memberkit_subscribers (
    name         TEXT PRIMARY KEY,
    paused       BOOLEAN NOT NULL,
    failures     INTEGER NOT NULL,
    disabled_at  INTEGER NOT NULL,
    last_error   TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

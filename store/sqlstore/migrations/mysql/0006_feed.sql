-- memberkit schema, version 6: the durable event feed. Each org's events
-- are numbered (seq: 1, 2, 3… in commit order, the org's row holding the
-- last number), existing ones in ID order. A relay keeps, per subscriber
-- and org, the last seq delivered and a lease; and per subscriber its
-- state (paused, disabled). Failures in a row are counted per org, on
-- the cursor. Stop the writers of older versions before this migration:
-- an event they append without a seq is refused (PostgreSQL, MySQL).
ALTER TABLE memberkit_events ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE memberkit_events e JOIN (SELECT org_id, id, ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY id) AS n FROM memberkit_events) r
    ON e.org_id = r.org_id AND e.id = r.id SET e.seq = r.n;
ALTER TABLE memberkit_events ALTER COLUMN seq DROP DEFAULT;
CREATE UNIQUE INDEX memberkit_events_seq_uq ON memberkit_events (org_id, seq);
ALTER TABLE memberkit_orgs ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
UPDATE memberkit_orgs o SET event_seq = COALESCE((SELECT MAX(seq) FROM memberkit_events e WHERE e.org_id = o.id), 0);
CREATE TABLE memberkit_feed_cursors (
    subscriber  VARCHAR(128) NOT NULL,
    org_id      VARCHAR(64) NOT NULL,
    seq         BIGINT NOT NULL,
    owner       VARCHAR(128) NOT NULL,
    lease_until BIGINT NOT NULL,
    failures    INTEGER NOT NULL,
    next_attempt BIGINT NOT NULL,
    PRIMARY KEY (subscriber, org_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE memberkit_subscribers (
    name         VARCHAR(128) NOT NULL PRIMARY KEY,
    paused       BOOLEAN NOT NULL,
    failures     INTEGER NOT NULL,
    disabled_at  BIGINT NOT NULL,
    last_error   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- On a Galera cluster, each Update of an org bumps lock_ticks: row locks
-- stay on their node, but two writes of one row on two nodes conflict at
-- certification, so that Updates of one org stay serialised cluster-wide.
ALTER TABLE memberkit_orgs ADD COLUMN lock_ticks BIGINT NOT NULL DEFAULT 0;
-- lock_token is the token of the last Update that wrote lock_ticks: the
-- Update reads it back before committing, to learn whether the node
-- aborted it meanwhile (see sqlstore's mysql.go).
ALTER TABLE memberkit_orgs ADD COLUMN lock_token VARCHAR(32) NOT NULL DEFAULT '';

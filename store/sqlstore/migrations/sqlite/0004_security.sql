-- memberkit schema, version 4: security. Each member carries a security
-- stamp that changes when they are deactivated, removed, change role or
-- password, so a host can end their sessions at once; existing members get
-- a random one. Failed attempts are counted per throttle key (a SHA-256)
-- in a table of no org, so that an unknown org is throttled like a real one.
ALTER TABLE memberkit_members ADD COLUMN security_stamp TEXT NOT NULL DEFAULT '';
UPDATE memberkit_members SET security_stamp = lower(hex(randomblob(16)));
CREATE TABLE memberkit_attempts (
    key_hash     TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX memberkit_attempts_last_idx ON memberkit_attempts (last_failure);

-- memberkit schema, version 4: security. Each member carries a security
-- stamp that changes when they are deactivated, removed, change role or
-- password, so a host can end their sessions at once; existing members get
-- a random one. Failed attempts are counted per throttle key (a SHA-256)
-- in a table of no org, so that an unknown org is throttled like a real one.
ALTER TABLE memberkit_members ADD COLUMN security_stamp VARCHAR(64) NOT NULL DEFAULT '';
UPDATE memberkit_members SET security_stamp = MD5(CONCAT(RAND(), id, NOW(6)));
CREATE TABLE IF NOT EXISTS memberkit_attempts (
    key_hash     CHAR(64) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last_failure BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    INDEX memberkit_attempts_last_idx (last_failure)
) ENGINE=InnoDB;

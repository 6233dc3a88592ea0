-- memberkit schema, version 7: what identity providers that sync an
-- org's roster (SCIM) need: the org's directory tokens (the SHA-256 of
-- each secret, never the secret) and the groups a directory manages by
-- name, each the durable identity of a label members carry.
CREATE TABLE memberkit_directory_tokens (
    org_id       TEXT NOT NULL,
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    hint         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    revoked_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX memberkit_directory_tokens_token_uq ON memberkit_directory_tokens (token_hash);
CREATE TABLE memberkit_groups (
    org_id      TEXT NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    external_id TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX memberkit_groups_name_uq ON memberkit_groups (org_id, name_key);

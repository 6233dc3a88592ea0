-- memberkit schema, version 7: what identity providers that sync an
-- org's roster (SCIM) need: the org's directory tokens (the SHA-256 of
-- each secret, never the secret) and the groups a directory manages by
-- name, each the durable identity of a label members carry.
CREATE TABLE memberkit_directory_tokens (
    org_id       VARCHAR(64) COLLATE "C" NOT NULL REFERENCES memberkit_orgs (id),
    id           VARCHAR(64) COLLATE "C" NOT NULL,
    name         VARCHAR(256) NOT NULL,
    token_hash   CHAR(64) COLLATE "C" NOT NULL,
    hint         VARCHAR(16) NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX memberkit_directory_tokens_token_uq ON memberkit_directory_tokens (token_hash);
CREATE TABLE memberkit_groups (
    org_id      VARCHAR(64) COLLATE "C" NOT NULL REFERENCES memberkit_orgs (id),
    id          VARCHAR(64) COLLATE "C" NOT NULL,
    name        VARCHAR(256) NOT NULL,
    name_key    VARCHAR(256) COLLATE "C" NOT NULL,
    external_id VARCHAR(256) COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX memberkit_groups_name_uq ON memberkit_groups (org_id, name_key);

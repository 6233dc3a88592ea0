-- memberkit schema, version 5: people across orgs, member attributes and
-- verified domains.
--
-- A member's host account (user_id) becomes a unique link: user_key holds
-- it (NULL for none), unique per org and indexed across orgs for the
-- memberships of one account. Where version 4 let two members of one org
-- carry the same user_id, the oldest (smallest ID) keeps the link and the
-- others keep their user_id column only, unlinked.
ALTER TABLE memberkit_members ADD COLUMN user_key VARCHAR(128) NULL, ADD COLUMN attributes TEXT NOT NULL;
UPDATE memberkit_members m
    JOIN (SELECT org_id, user_id, MIN(id) AS id FROM memberkit_members WHERE user_id <> '' GROUP BY org_id, user_id) f
    ON f.org_id = m.org_id AND f.id = m.id
    SET m.user_key = m.user_id;
ALTER TABLE memberkit_members ADD UNIQUE KEY memberkit_members_user_uq (org_id, user_key), ADD KEY memberkit_members_user_idx (user_key);

-- Attributes: JSON in the member's row, and one row per key for filters.
CREATE TABLE IF NOT EXISTS memberkit_member_attributes (
    org_id     VARCHAR(64) NOT NULL,
    member_id  VARCHAR(64) NOT NULL,
    attr_key   VARCHAR(32) NOT NULL,
    attr_value VARCHAR(256) NOT NULL,
    PRIMARY KEY (org_id, member_id, attr_key),
    KEY memberkit_member_attributes_value_idx (org_id, attr_key, attr_value)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE memberkit_events ADD COLUMN attributes TEXT NOT NULL;

-- Domains an org claims; verified_name is set once verified, so that a
-- domain belongs to one org at most.
ALTER TABLE memberkit_orgs ADD COLUMN invite_verified_domains_only BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE IF NOT EXISTS memberkit_domains (
    org_id        VARCHAR(64) NOT NULL,
    name          VARCHAR(253) NOT NULL,
    token         VARCHAR(64) NOT NULL,
    verified_at   BIGINT NULL,
    verified_name VARCHAR(253) NULL,
    policy        VARCHAR(16) NOT NULL,
    role_id       VARCHAR(64) NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, name),
    UNIQUE KEY memberkit_domains_verified_uq (verified_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

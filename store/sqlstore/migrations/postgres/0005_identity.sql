-- memberkit schema, version 5: people across orgs, member attributes and
-- verified domains.
--
-- A member's host account (user_id) becomes a unique link: user_key holds
-- it (NULL for none), unique per org and indexed across orgs for the
-- memberships of one account. Where version 4 let two members of one org
-- carry the same user_id, one keeps the link: the active one, else the
-- deactivated one, else the removed one, the oldest (smallest ID) among
-- equals. The others are unlinked (their old user_id stays in that column
-- until their next change). An ID with a space at either end, which some
-- databases compare equal to the same ID without it, is not linked.
ALTER TABLE memberkit_members ADD COLUMN user_key VARCHAR(128) COLLATE "C";
ALTER TABLE memberkit_members ADD COLUMN attributes TEXT NOT NULL DEFAULT '';
UPDATE memberkit_members m SET user_key = m.user_id
    WHERE m.user_id <> '' AND m.user_id = TRIM(m.user_id) AND NOT EXISTS (
        SELECT 1 FROM memberkit_members o
        WHERE o.org_id = m.org_id AND o.user_id = m.user_id
          AND ((CASE o.status WHEN 'active' THEN 0 WHEN 'deactivated' THEN 1 ELSE 2 END) < (CASE m.status WHEN 'active' THEN 0 WHEN 'deactivated' THEN 1 ELSE 2 END)
               OR (CASE o.status WHEN 'active' THEN 0 WHEN 'deactivated' THEN 1 ELSE 2 END) = (CASE m.status WHEN 'active' THEN 0 WHEN 'deactivated' THEN 1 ELSE 2 END) AND o.id < m.id));
CREATE UNIQUE INDEX memberkit_members_user_uq ON memberkit_members (org_id, user_key);
CREATE INDEX memberkit_members_user_idx ON memberkit_members (user_key);

-- Attributes: JSON in the member's row, and one row per key for filters.
CREATE TABLE memberkit_member_attributes (
    org_id     VARCHAR(64) COLLATE "C" NOT NULL,
    member_id  VARCHAR(64) COLLATE "C" NOT NULL,
    attr_key   VARCHAR(32) COLLATE "C" NOT NULL,
    attr_value VARCHAR(256) COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, member_id, attr_key)
);
CREATE INDEX memberkit_member_attributes_value_idx ON memberkit_member_attributes (org_id, attr_key, attr_value);
ALTER TABLE memberkit_events ADD COLUMN attributes TEXT NOT NULL DEFAULT '';

-- Domains an org claims; verified_name is set once verified, so that a
-- domain belongs to one org at most.
ALTER TABLE memberkit_orgs ADD COLUMN invite_verified_domains_only BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE memberkit_domains (
    org_id        VARCHAR(64) COLLATE "C" NOT NULL REFERENCES memberkit_orgs (id),
    name          VARCHAR(253) COLLATE "C" NOT NULL,
    token         VARCHAR(64) NOT NULL,
    verified_at   BIGINT,
    verified_name VARCHAR(253) COLLATE "C",
    policy        VARCHAR(16) NOT NULL,
    role_id       VARCHAR(64) NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, name)
);
CREATE UNIQUE INDEX memberkit_domains_verified_uq ON memberkit_domains (verified_name);

-- memberkit schema, version 5: people across orgs, member attributes and
-- verified domains. One change per statement: MySQL commits DDL at once,
-- and a statement that finds its column, index or table already there
-- (from a run cut short) is taken as applied.
--
-- A member's host account (user_id) becomes a unique link: user_key holds
-- it (NULL for none), unique per org and indexed across orgs for the
-- memberships of one account. Where version 4 let two members of one org
-- carry the same user_id, one keeps the link: the active one, else the
-- deactivated one, else the removed one, the oldest (smallest ID) among
-- equals. The others are unlinked (their old user_id stays in that column
-- until their next change). An ID with a space at either end, which some
-- databases compare equal to the same ID without it, is not linked.
ALTER TABLE memberkit_members ADD COLUMN user_key VARCHAR(128) NULL;
ALTER TABLE memberkit_members ADD COLUMN attributes TEXT NOT NULL DEFAULT ('');
UPDATE memberkit_members m
    JOIN (SELECT x.org_id, x.id FROM memberkit_members x
          WHERE x.user_id <> '' AND CHAR_LENGTH(x.user_id) = CHAR_LENGTH(TRIM(x.user_id)) AND NOT EXISTS (
              SELECT 1 FROM memberkit_members o
              WHERE o.org_id = x.org_id AND o.user_id = x.user_id
                AND ((CASE o.status WHEN 'active' THEN 0 WHEN 'deactivated' THEN 1 ELSE 2 END) < (CASE x.status WHEN 'active' THEN 0 WHEN 'deactivated' THEN 1 ELSE 2 END)
                     OR (CASE o.status WHEN 'active' THEN 0 WHEN 'deactivated' THEN 1 ELSE 2 END) = (CASE x.status WHEN 'active' THEN 0 WHEN 'deactivated' THEN 1 ELSE 2 END) AND o.id < x.id))
          GROUP BY x.org_id, x.id) f
    ON f.org_id = m.org_id AND f.id = m.id
    SET m.user_key = m.user_id;
ALTER TABLE memberkit_members ADD UNIQUE KEY memberkit_members_user_uq (org_id, user_key);
ALTER TABLE memberkit_members ADD KEY memberkit_members_user_idx (user_key);

-- Attributes: JSON in the member's row, and one row per key for filters.
CREATE TABLE IF NOT EXISTS memberkit_member_attributes (
    org_id     VARCHAR(64) NOT NULL,
    member_id  VARCHAR(64) NOT NULL,
    attr_key   VARCHAR(32) NOT NULL,
    attr_value VARCHAR(256) NOT NULL,
    PRIMARY KEY (org_id, member_id, attr_key),
    KEY memberkit_member_attributes_value_idx (org_id, attr_key, attr_value)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE memberkit_events ADD COLUMN attributes TEXT NOT NULL DEFAULT ('');

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

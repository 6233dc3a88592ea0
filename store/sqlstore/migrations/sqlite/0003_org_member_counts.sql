-- memberkit schema, version 3: the org keeps its active members and
-- active admins counted, kept in step by every member write in the same
-- transaction, so that the seat and last-admin checks read one row
-- instead of counting a 1,000,000-member roster.
ALTER TABLE memberkit_orgs ADD COLUMN active_members BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberkit_orgs ADD COLUMN active_admins BIGINT NOT NULL DEFAULT 0;
UPDATE memberkit_orgs SET
    active_members = (SELECT COUNT(*) FROM memberkit_members m WHERE m.org_id = memberkit_orgs.id AND m.status = 'active'),
    active_admins = (SELECT COUNT(*) FROM memberkit_members m WHERE m.org_id = memberkit_orgs.id AND m.status = 'active' AND m.role_id = 'admin');

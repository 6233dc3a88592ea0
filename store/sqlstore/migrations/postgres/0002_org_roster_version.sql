-- memberkit schema, version 2: the org's roster version, which CSV plans
-- use to detect any change made since they were planned.
ALTER TABLE memberkit_orgs ADD COLUMN roster_version BIGINT NOT NULL DEFAULT 0;

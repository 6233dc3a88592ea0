-- memberkit schema, version 1 (SQLite).
-- Times are microseconds since the Unix epoch, UTC; NULL for "never".
-- *_key columns hold the lower-cased comparison keys the store maintains.

CREATE TABLE memberkit_orgs (
    id           VARCHAR(64) PRIMARY KEY,
    name         TEXT NOT NULL,
    plan_name    TEXT NOT NULL,
    member_limit INTEGER NOT NULL,
    features     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE memberkit_members (
    org_id               VARCHAR(64) NOT NULL REFERENCES memberkit_orgs (id),
    id                   VARCHAR(64) NOT NULL,
    user_id              VARCHAR(128) NOT NULL,
    login                VARCHAR(64) NOT NULL,
    login_key            VARCHAR(64) NOT NULL,
    email                VARCHAR(254) NOT NULL,
    email_key            VARCHAR(254),
    first_name           TEXT NOT NULL,
    last_name            TEXT NOT NULL,
    role_id              VARCHAR(64) NOT NULL,
    status               VARCHAR(16) NOT NULL,
    groups_text          TEXT NOT NULL,
    search_text          TEXT NOT NULL,
    last_login_at        BIGINT,
    password_hash        TEXT NOT NULL,
    must_change_password INTEGER NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    version              BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX memberkit_members_login_uq ON memberkit_members (org_id, login_key);
CREATE UNIQUE INDEX memberkit_members_email_uq ON memberkit_members (org_id, email_key);
CREATE INDEX memberkit_members_status_idx ON memberkit_members (org_id, status, role_id);

CREATE TABLE memberkit_member_groups (
    org_id    VARCHAR(64) NOT NULL,
    group_key VARCHAR(256) NOT NULL,
    login_key VARCHAR(64) NOT NULL,
    member_id VARCHAR(64) NOT NULL,
    PRIMARY KEY (org_id, group_key, login_key)
);
CREATE INDEX memberkit_member_groups_member_idx ON memberkit_member_groups (org_id, member_id);

CREATE TABLE memberkit_roles (
    org_id      VARCHAR(64) NOT NULL REFERENCES memberkit_orgs (id),
    id          VARCHAR(64) NOT NULL,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE memberkit_invitations (
    org_id      VARCHAR(64) NOT NULL REFERENCES memberkit_orgs (id),
    id          VARCHAR(64) NOT NULL,
    email       VARCHAR(254) NOT NULL,
    email_key   VARCHAR(254) NOT NULL,
    role_id     VARCHAR(64) NOT NULL,
    token_hash  CHAR(64),
    state       VARCHAR(16) NOT NULL,
    invited_by  TEXT NOT NULL,
    send_count  INTEGER NOT NULL,
    member_id   VARCHAR(64) NOT NULL,
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX memberkit_invitations_token_uq ON memberkit_invitations (token_hash);
CREATE INDEX memberkit_invitations_email_idx ON memberkit_invitations (org_id, email_key);
CREATE INDEX memberkit_invitations_state_idx ON memberkit_invitations (org_id, state, expires_at);

CREATE TABLE memberkit_events (
    org_id        VARCHAR(64) NOT NULL,
    id            VARCHAR(64) NOT NULL,
    at            BIGINT NOT NULL,
    type          VARCHAR(64) NOT NULL,
    actor         TEXT NOT NULL,
    subject_id    VARCHAR(64) NOT NULL,
    role_before   VARCHAR(64) NOT NULL,
    role_after    VARCHAR(64) NOT NULL,
    status_before VARCHAR(16) NOT NULL,
    status_after  VARCHAR(16) NOT NULL,
    detail        TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX memberkit_events_subject_idx ON memberkit_events (org_id, subject_id, id);

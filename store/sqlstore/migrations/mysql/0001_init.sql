-- memberkit schema, version 1 (MySQL 8 / MariaDB 10.5+).
-- Times are microseconds since the Unix epoch, UTC; NULL for "never".
-- *_key columns hold the lower-cased comparison keys the store maintains;
-- tables use a binary collation so that comparisons and ordering are exact.
-- MySQL DDL is not transactional: every statement is idempotent, so a
-- migration interrupted halfway is finished by running Migrate again.

CREATE TABLE IF NOT EXISTS memberkit_orgs (
    id           VARCHAR(64) NOT NULL PRIMARY KEY,
    name         TEXT NOT NULL,
    plan_name    TEXT NOT NULL,
    member_limit INT NOT NULL,
    features     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS memberkit_members (
    org_id               VARCHAR(64) NOT NULL,
    id                   VARCHAR(64) NOT NULL,
    user_id              VARCHAR(128) NOT NULL,
    login                VARCHAR(64) NOT NULL,
    login_key            VARCHAR(64) NOT NULL,
    email                VARCHAR(254) NOT NULL,
    email_key            VARCHAR(254) NULL,
    first_name           TEXT NOT NULL,
    last_name            TEXT NOT NULL,
    role_id              VARCHAR(64) NOT NULL,
    status               VARCHAR(16) NOT NULL,
    groups_text          TEXT NOT NULL,
    search_text          TEXT NOT NULL,
    last_login_at        BIGINT NULL,
    password_hash        TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    version              BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE KEY memberkit_members_login_uq (org_id, login_key),
    UNIQUE KEY memberkit_members_email_uq (org_id, email_key),
    KEY memberkit_members_status_idx (org_id, status, role_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS memberkit_member_groups (
    org_id    VARCHAR(64) NOT NULL,
    group_key VARCHAR(256) NOT NULL,
    login_key VARCHAR(64) NOT NULL,
    member_id VARCHAR(64) NOT NULL,
    PRIMARY KEY (org_id, group_key, login_key),
    KEY memberkit_member_groups_member_idx (org_id, member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS memberkit_roles (
    org_id      VARCHAR(64) NOT NULL,
    id          VARCHAR(64) NOT NULL,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS memberkit_invitations (
    org_id      VARCHAR(64) NOT NULL,
    id          VARCHAR(64) NOT NULL,
    email       VARCHAR(254) NOT NULL,
    email_key   VARCHAR(254) NOT NULL,
    role_id     VARCHAR(64) NOT NULL,
    token_hash  CHAR(64) NULL,
    state       VARCHAR(16) NOT NULL,
    invited_by  TEXT NOT NULL,
    send_count  INT NOT NULL,
    member_id   VARCHAR(64) NOT NULL,
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT NULL,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE KEY memberkit_invitations_token_uq (token_hash),
    KEY memberkit_invitations_email_idx (org_id, email_key),
    KEY memberkit_invitations_state_idx (org_id, state, expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS memberkit_events (
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
    PRIMARY KEY (org_id, id),
    KEY memberkit_events_subject_idx (org_id, subject_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Kebao schema v10 (SQLite): premium subsidies and insurance compensation.
-- Keep in step with ../postgres/0010_subsidy.sql.

CREATE TABLE subsidy_programmes (
    id           TEXT NOT NULL,
    version      BIGINT NOT NULL,
    doc          TEXT NOT NULL,
    loaded_by    TEXT NOT NULL,
    loaded_at_us BIGINT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE subsidy_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE subsidy_applications (
    id                TEXT PRIMARY KEY,
    programme_id      TEXT NOT NULL,
    programme_version BIGINT NOT NULL,
    track             TEXT NOT NULL,
    stage             TEXT NOT NULL,
    policy_id         TEXT REFERENCES policies(id),
    enterprise_id     TEXT NOT NULL REFERENCES organisations(id),
    status            TEXT NOT NULL,
    amount_fen        BIGINT NOT NULL DEFAULT 0 CHECK (amount_fen >= 0),
    trace             TEXT NOT NULL,
    facts             TEXT NOT NULL,
    applied_on        TEXT NOT NULL,
    cap_year          BIGINT NOT NULL,
    local_reviewer    TEXT,
    dept_reviewer     TEXT,
    notice_from       TEXT,
    notice_to         TEXT,
    confirm_by        TEXT,
    reason            TEXT,
    decision_ref      TEXT,
    created_at_us     BIGINT NOT NULL,
    updated_at_us     BIGINT NOT NULL
);
CREATE INDEX subsidy_applications_programme ON subsidy_applications(programme_id, status);
CREATE INDEX subsidy_applications_enterprise ON subsidy_applications(enterprise_id);
CREATE UNIQUE INDEX subsidy_one_live_per_policy ON subsidy_applications(programme_id, stage, policy_id)
    WHERE status NOT IN ('rejected', 'lapsed', 'not_qualified', 'refused');

CREATE TABLE subsidy_objections (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES subsidy_applications(id),
    author         TEXT NOT NULL,
    text           TEXT NOT NULL,
    resolution     TEXT,
    upheld         BIGINT,
    at_us          BIGINT NOT NULL
);
CREATE INDEX subsidy_objections_application ON subsidy_objections(application_id);

CREATE TABLE subsidy_documents (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES subsidy_applications(id),
    file_name      TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    sha256         TEXT NOT NULL REFERENCES blobs(sha256),
    size           BIGINT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    uploaded_at_us BIGINT NOT NULL
);
CREATE INDEX subsidy_documents_application ON subsidy_documents(application_id);

CREATE TABLE subsidy_bans (
    enterprise_id TEXT NOT NULL REFERENCES organisations(id),
    programme_id  TEXT NOT NULL,
    until         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    PRIMARY KEY (enterprise_id, programme_id)
);

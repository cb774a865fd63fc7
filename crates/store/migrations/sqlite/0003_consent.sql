-- Kebao schema v3 (SQLite): consents, external credit records, signed tree heads, scoped
-- API keys. Keep in step with ../postgres/0003_consent.sql.

CREATE TABLE consents (
    id                   TEXT PRIMARY KEY,
    enterprise_id        TEXT NOT NULL REFERENCES organisations(id),
    grantee_id           TEXT NOT NULL REFERENCES organisations(id),
    kind                 TEXT NOT NULL,
    scopes               TEXT NOT NULL,
    purpose              TEXT NOT NULL,
    valid_from           TEXT NOT NULL,
    expires_on           TEXT NOT NULL,
    signer_name          TEXT NOT NULL,
    signer_title         TEXT NOT NULL,
    person_name          TEXT,
    person_role          TEXT,
    evidence_sha256      TEXT NOT NULL REFERENCES blobs(sha256),
    evidence_document_id TEXT NOT NULL,
    evidence_file_name   TEXT NOT NULL,
    evidence_media_type  TEXT NOT NULL,
    revoked_at_us        BIGINT,
    created_at_us        BIGINT NOT NULL,
    created_by           TEXT NOT NULL
);
CREATE INDEX consents_pair ON consents(enterprise_id, grantee_id);
CREATE INDEX consents_grantee ON consents(grantee_id);

-- Records from external credit sources (provincial credit platform, tax, IP office),
-- imported from their files.
CREATE TABLE external_records (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations(id),
    source        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    data_class    TEXT NOT NULL,
    title         TEXT NOT NULL,
    detail        TEXT NOT NULL,
    occurred_on   TEXT NOT NULL,
    person_name   TEXT,
    batch_id      TEXT NOT NULL,
    imported_at_us BIGINT NOT NULL
);
CREATE INDEX external_records_org ON external_records(org_id, scope);

-- Signed tree heads of the event log's Merkle tree (RFC 9162), published on the portal.
CREATE TABLE tree_heads (
    tree_size    BIGINT PRIMARY KEY,
    root_hash    TEXT NOT NULL,
    timestamp_us BIGINT NOT NULL,
    signature    TEXT NOT NULL,
    public_key   TEXT NOT NULL
);

-- API keys for third-party applications: scopes and a rate limit (NULL: a user's full token).
ALTER TABLE api_tokens ADD COLUMN scopes TEXT;
ALTER TABLE api_tokens ADD COLUMN rate_per_minute BIGINT;

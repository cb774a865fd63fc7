-- Kebao schema v9 (PostgreSQL): mid-term changes to cover (endorsements, cancellation),
-- renewals, co-insurance shares and claim documents.
-- Keep in step with ../sqlite/0009_cover.sql.

ALTER TABLE policies ADD COLUMN status TEXT NOT NULL DEFAULT 'in_force';
ALTER TABLE policies ADD COLUMN cancelled_on TEXT;
ALTER TABLE policies ADD COLUMN input TEXT;
ALTER TABLE applications ADD COLUMN renewal_of TEXT REFERENCES policies(id);
CREATE UNIQUE INDEX applications_one_renewal ON applications(renewal_of)
    WHERE renewal_of IS NOT NULL AND status <> 'declined';

CREATE TABLE endorsements (
    id              TEXT PRIMARY KEY,
    policy_id       TEXT NOT NULL REFERENCES policies(id),
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    effective_date  TEXT NOT NULL,
    input           TEXT,
    old_premium_fen BIGINT NOT NULL,
    new_premium_fen BIGINT NOT NULL,
    adjustment_fen  BIGINT NOT NULL,
    explanation     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    made_by         TEXT NOT NULL,
    made_at_us      BIGINT NOT NULL,
    UNIQUE (policy_id, seq)
);

CREATE TABLE coinsurance_shares (
    policy_id  TEXT NOT NULL REFERENCES policies(id),
    insurer_id TEXT NOT NULL REFERENCES organisations(id),
    share_bp   BIGINT NOT NULL CHECK (share_bp > 0 AND share_bp < 10000),
    lead       BIGINT NOT NULL,
    PRIMARY KEY (policy_id, insurer_id)
);
CREATE INDEX coinsurance_insurer ON coinsurance_shares(insurer_id);

CREATE TABLE claim_documents (
    id             TEXT PRIMARY KEY,
    claim_id       TEXT NOT NULL REFERENCES claims(id),
    file_name      TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    sha256         TEXT NOT NULL REFERENCES blobs(sha256),
    size           BIGINT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    uploaded_at_us BIGINT NOT NULL
);
CREATE INDEX claim_documents_claim ON claim_documents(claim_id);

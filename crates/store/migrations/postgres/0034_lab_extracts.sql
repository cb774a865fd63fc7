-- The risk lab's experience extracts (C9): model-ready files of the zone's own experience, each
-- written by a job for an institution's own book or the zone's supervision, with its purpose
-- and, when it holds personal data, the recorded impact assessment.
CREATE TABLE lab_extracts (
    id               TEXT PRIMARY KEY,
    owner_org_id     TEXT NOT NULL REFERENCES organisations(id),
    kind             TEXT NOT NULL,
    basis            TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    include_personal BIGINT NOT NULL,
    pia_purpose      TEXT,
    pia_recipient    TEXT,
    pia_necessity    TEXT,
    pia_safeguards   TEXT,
    job_id           TEXT NOT NULL,
    rows_written     BIGINT NOT NULL,
    left_personal    BIGINT NOT NULL,
    left_unended     BIGINT NOT NULL,
    sha256           TEXT NOT NULL,
    csv              TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    created_at_us    BIGINT NOT NULL
);
CREATE INDEX lab_extracts_owner ON lab_extracts(owner_org_id, created_at_us);

-- A model fitted in the platform names the extract it learnt from and keeps its validation.
ALTER TABLE lab_models ADD COLUMN extract_id TEXT;
ALTER TABLE lab_models ADD COLUMN training_sha256 TEXT;
ALTER TABLE lab_models ADD COLUMN validation TEXT;

-- The risk lab's model registry (C9): GLMs and scorecards an institution uploads (the files the
-- engines write), each a version under its owner and name, with its fingerprint; approved by a
-- second person before use; retired models kept.
CREATE TABLE lab_models (
    id             TEXT PRIMARY KEY,
    owner_org_id   TEXT NOT NULL REFERENCES organisations(id),
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    version        BIGINT NOT NULL,
    document       TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    status         TEXT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    uploaded_at_us BIGINT NOT NULL,
    approved_by    TEXT,
    approved_at_us BIGINT,
    retired_by     TEXT,
    retired_at_us  BIGINT,
    UNIQUE (owner_org_id, kind, name, version)
);

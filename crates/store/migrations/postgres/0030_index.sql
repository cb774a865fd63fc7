-- The zone's development index (C11): framework versions uploaded by the zone, official
-- statistics imported for its units, and the stored runs with their inputs and results.
CREATE TABLE index_frameworks (
    version        TEXT PRIMARY KEY,
    body           TEXT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    uploaded_at_us BIGINT NOT NULL
);
CREATE TABLE index_official (
    unit_kind      TEXT NOT NULL,
    unit_id        TEXT NOT NULL,
    year           BIGINT NOT NULL,
    indicator      TEXT NOT NULL,
    value          TEXT NOT NULL,
    source         TEXT NOT NULL,
    import_id      TEXT NOT NULL,
    imported_by    TEXT NOT NULL,
    imported_at_us BIGINT NOT NULL,
    PRIMARY KEY (unit_kind, unit_id, year, indicator)
);
CREATE TABLE index_runs (
    id                TEXT PRIMARY KEY,
    job_id            TEXT NOT NULL,
    unit_kind         TEXT NOT NULL,
    year              BIGINT NOT NULL,
    version           BIGINT NOT NULL,
    framework_version TEXT NOT NULL,
    imeta             TEXT NOT NULL,
    idata             TEXT NOT NULL,
    config            TEXT NOT NULL,
    results           TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at_us     BIGINT NOT NULL,
    UNIQUE (unit_kind, year, version)
);

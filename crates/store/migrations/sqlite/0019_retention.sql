-- Retention (issue 18.3). A negative record's end (the day the event ended, as its source
-- reports it): the period of 征信业管理条例 Art 16 counts from it.
ALTER TABLE external_records ADD COLUMN ended_on TEXT;
-- When a consent's personal fields were erased under the retention rules.
ALTER TABLE consents ADD COLUMN erased_at_us BIGINT;
-- Every erasure: which rule, what (kind and id, and whose organisation), which fields, when,
-- by which job. The audit page lists them.
CREATE TABLE erasures (
    id           TEXT PRIMARY KEY,
    rule         TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    org_id       TEXT,
    fields       TEXT NOT NULL,
    at_us        BIGINT NOT NULL,
    job_id       TEXT NOT NULL
);
CREATE INDEX erasures_at ON erasures(at_us);

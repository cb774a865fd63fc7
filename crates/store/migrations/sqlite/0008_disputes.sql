-- Kebao schema v8 (SQLite): disputes about claim decisions. Keep in step with ../postgres/0008_disputes.sql.

CREATE TABLE disputes (
    id             TEXT PRIMARY KEY,
    claim_id       TEXT NOT NULL REFERENCES claims(id),
    enterprise_id  TEXT NOT NULL REFERENCES organisations(id),
    insurer_id     TEXT NOT NULL REFERENCES organisations(id),
    complaint      TEXT NOT NULL,
    status         TEXT NOT NULL,
    mediator       TEXT,
    mediator_org   TEXT,
    sessions       TEXT NOT NULL,
    outcome        TEXT,
    forum          TEXT,
    complained_on  TEXT NOT NULL,
    accepted_on    TEXT,
    concluded_on   TEXT,
    created_at_us  BIGINT NOT NULL
);
CREATE INDEX disputes_claim ON disputes(claim_id);

-- Kebao schema v7 (SQLite): claims. Keep in step with ../postgres/0007_claims.sql.

CREATE TABLE claims (
    id              TEXT PRIMARY KEY,
    policy_id       TEXT NOT NULL REFERENCES policies(id),
    insurer_id      TEXT NOT NULL REFERENCES organisations(id),
    enterprise_id   TEXT NOT NULL REFERENCES organisations(id),
    loss_date       TEXT NOT NULL,
    description     TEXT NOT NULL,
    claimed_fen     BIGINT NOT NULL CHECK (claimed_fen > 0),
    status          TEXT NOT NULL,
    handler         TEXT,
    reserve_fen     BIGINT NOT NULL DEFAULT 0,
    reserve_seq     BIGINT NOT NULL DEFAULT 0,
    outcome         TEXT,
    decided_fen     BIGINT NOT NULL DEFAULT 0,
    reason          TEXT,
    paid_fen        BIGINT NOT NULL DEFAULT 0,
    reported_on     TEXT NOT NULL,
    decided_on      TEXT,
    reported_at_us  BIGINT NOT NULL,
    closed_at_us    BIGINT,
    reopened        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX claims_insurer ON claims(insurer_id, status);
CREATE INDEX claims_enterprise ON claims(enterprise_id);

-- Kebao schema v6 (SQLite): applications, underwriting authority, policies.
-- Keep in step with ../postgres/0006_policies.sql.

CREATE TABLE applications (
    id              TEXT PRIMARY KEY,
    product_id      TEXT NOT NULL REFERENCES products(id),
    product_version BIGINT NOT NULL,
    insurer_id      TEXT NOT NULL REFERENCES organisations(id),
    enterprise_id   TEXT NOT NULL REFERENCES organisations(id),
    applicant       TEXT NOT NULL,
    input           TEXT NOT NULL,
    start_date      TEXT NOT NULL,
    end_date        TEXT NOT NULL,
    premium_fen     BIGINT NOT NULL CHECK (premium_fen >= 0),
    plan_version    BIGINT NOT NULL,
    trace           TEXT NOT NULL,
    status          TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    decided_by      TEXT,
    decided_at_us   BIGINT,
    created_at_us   BIGINT NOT NULL
);
CREATE INDEX applications_insurer ON applications(insurer_id, status);
CREATE INDEX applications_enterprise ON applications(enterprise_id);

CREATE TABLE underwriter_authority (
    user_id        TEXT PRIMARY KEY REFERENCES users(id),
    max_limit_yuan BIGINT NOT NULL CHECK (max_limit_yuan >= 0)
);

CREATE TABLE policy_counters (
    year BIGINT PRIMARY KEY,
    n    BIGINT NOT NULL
);

CREATE TABLE policies (
    id             TEXT PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,
    application_id TEXT NOT NULL UNIQUE REFERENCES applications(id),
    product_id     TEXT NOT NULL REFERENCES products(id),
    insurer_id     TEXT NOT NULL REFERENCES organisations(id),
    enterprise_id  TEXT NOT NULL REFERENCES organisations(id),
    start_date     TEXT NOT NULL,
    end_date       TEXT NOT NULL,
    premium_fen    BIGINT NOT NULL,
    schedule       TEXT NOT NULL,
    bound_by       TEXT NOT NULL,
    bound_at_us    BIGINT NOT NULL
);
CREATE INDEX policies_enterprise ON policies(enterprise_id);
CREATE INDEX policies_insurer ON policies(insurer_id);

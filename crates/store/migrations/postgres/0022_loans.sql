-- Loans backed by insurance (C7, issue 19). A scheme version is stored as loaded (JSON of the
-- checked rule set), like subsidy programmes.
CREATE TABLE loan_schemes (
    id           TEXT NOT NULL,
    version      BIGINT NOT NULL,
    doc          TEXT NOT NULL,
    loaded_by    TEXT NOT NULL,
    loaded_at_us BIGINT NOT NULL,
    PRIMARY KEY (id, version)
);

-- One loan under a scheme: the enterprise's application, each party's decision with its
-- reasons, and from disbursement on its schedule (JSON list of instalments, as computed then).
CREATE TABLE loans (
    id              TEXT PRIMARY KEY,
    scheme_id       TEXT NOT NULL,
    scheme_version  BIGINT NOT NULL,
    enterprise_id   TEXT NOT NULL REFERENCES organisations(id),
    bank_id         TEXT NOT NULL REFERENCES organisations(id),
    insurer_id      TEXT NOT NULL REFERENCES organisations(id),
    amount_fen      BIGINT NOT NULL CHECK (amount_fen > 0),
    term_months     BIGINT NOT NULL,
    rate_bp         BIGINT NOT NULL,
    premium_rate_bp BIGINT NOT NULL,
    method          TEXT NOT NULL,
    funds_use       TEXT NOT NULL,
    status          TEXT NOT NULL,
    bank_decision   TEXT,
    bank_reason     TEXT,
    insurer_decision TEXT,
    insurer_reason  TEXT,
    zone_decision   TEXT,
    zone_reason     TEXT,
    disbursed_on    TEXT,
    schedule        TEXT,
    applied_by      TEXT NOT NULL,
    applied_at_us   BIGINT NOT NULL,
    updated_at_us   BIGINT NOT NULL
);
CREATE INDEX loans_enterprise ON loans(enterprise_id, applied_at_us);
CREATE INDEX loans_bank ON loans(bank_id, status);
CREATE INDEX loans_insurer ON loans(insurer_id, status);
CREATE INDEX loans_scheme ON loans(scheme_id, status);

-- Repayments the bank records, idempotent by its reference.
CREATE TABLE loan_repayments (
    id            TEXT PRIMARY KEY,
    loan_id       TEXT NOT NULL REFERENCES loans(id),
    reference     TEXT NOT NULL,
    paid_on       TEXT NOT NULL,
    amount_fen    BIGINT NOT NULL CHECK (amount_fen > 0),
    interest_fen  BIGINT NOT NULL,
    principal_fen BIGINT NOT NULL,
    recorded_by   TEXT NOT NULL,
    recorded_at_us BIGINT NOT NULL,
    UNIQUE (loan_id, reference)
);
CREATE INDEX loan_repayments_loan ON loan_repayments(loan_id, paid_on);

-- What the bank recovers on a defaulted loan after the claim (C7), split pro rata to the
-- scheme's loss shares; idempotent by the bank's reference.
CREATE TABLE loan_recoveries (
    id             TEXT PRIMARY KEY,
    loan_id        TEXT NOT NULL REFERENCES loans(id),
    reference      TEXT NOT NULL,
    recovered_on   TEXT NOT NULL,
    amount_fen     BIGINT NOT NULL CHECK (amount_fen > 0),
    insurer_fen    BIGINT NOT NULL,
    bank_fen       BIGINT NOT NULL,
    guarantor_fen  BIGINT NOT NULL,
    recorded_by    TEXT NOT NULL,
    recorded_at_us BIGINT NOT NULL,
    UNIQUE (loan_id, reference)
);

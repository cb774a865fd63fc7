-- The bank's claim on a defaulted loan (C7): the trigger met, the loss base and each party's
-- share on the day, the insurer's payout deadline and its payment.
CREATE TABLE loan_claims (
    loan_id          TEXT PRIMARY KEY REFERENCES loans(id),
    filed_on         TEXT NOT NULL,
    trig             TEXT NOT NULL,
    trig_days        BIGINT NOT NULL,
    loss_base_fen    BIGINT NOT NULL,
    insurer_fen      BIGINT NOT NULL,
    bank_fen         BIGINT NOT NULL,
    guarantor_fen    BIGINT NOT NULL,
    payout_due_on    TEXT NOT NULL,
    paid_on          TEXT,
    paid_reference   TEXT,
    filed_by         TEXT NOT NULL,
    paid_by          TEXT
);

-- The loan guarantee policy the insurer issues before the bank disburses (C7): the borrower is
-- the policyholder, the bank the insured and beneficiary; the premium as paid. Its period is
-- set when the bank disburses (from the disbursement to the loan's maturity).
CREATE TABLE loan_policies (
    loan_id           TEXT PRIMARY KEY REFERENCES loans(id),
    number            TEXT NOT NULL UNIQUE,
    start_date        TEXT,
    end_date          TEXT,
    premium_fen       BIGINT NOT NULL CHECK (premium_fen >= 0),
    premium_paid_on   TEXT NOT NULL,
    premium_reference TEXT NOT NULL,
    issued_by         TEXT NOT NULL,
    issued_at_us      BIGINT NOT NULL
);

-- The risk-compensation fund's payments: per scheme year to the insurer (excess loss) or per
-- defaulted loan to the bank (pool); idempotent by the payment's reference.
CREATE TABLE loan_fund_payments (
    id             TEXT PRIMARY KEY,
    scheme_id      TEXT NOT NULL,
    scheme_version BIGINT NOT NULL,
    scheme_year    BIGINT NOT NULL,
    loan_id        TEXT REFERENCES loans(id),
    payee_id       TEXT NOT NULL REFERENCES organisations(id),
    amount_fen     BIGINT NOT NULL CHECK (amount_fen > 0),
    paid_on        TEXT NOT NULL,
    reference      TEXT NOT NULL,
    paid_by        TEXT NOT NULL,
    paid_at_us     BIGINT NOT NULL,
    UNIQUE (scheme_id, reference)
);
CREATE INDEX loan_fund_payments_scheme ON loan_fund_payments(scheme_id, scheme_year);

-- Patents and trademarks pledged for an IP-pledge loan, released on repayment.
CREATE TABLE loan_pledges (
    id               TEXT PRIMARY KEY,
    loan_id          TEXT NOT NULL REFERENCES loans(id),
    kind             TEXT NOT NULL,
    number           TEXT NOT NULL,
    owner            TEXT NOT NULL,
    valuation_fen    BIGINT NOT NULL CHECK (valuation_fen > 0),
    valued_on        TEXT NOT NULL,
    registration_no  TEXT NOT NULL,
    released_on      TEXT,
    UNIQUE (loan_id, kind, number)
);

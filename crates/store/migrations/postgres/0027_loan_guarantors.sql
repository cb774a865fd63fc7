-- A guarantor (a registered guarantee organisation) on a loan whose scheme gives it a share of
-- the loss, and its payment of that share on a claim (C7).
ALTER TABLE loans ADD COLUMN guarantor_id TEXT REFERENCES organisations(id);
CREATE INDEX loans_guarantor ON loans(guarantor_id, status);
ALTER TABLE loan_claims ADD COLUMN guarantor_paid_on TEXT;
ALTER TABLE loan_claims ADD COLUMN guarantor_paid_reference TEXT;
ALTER TABLE loan_claims ADD COLUMN guarantor_paid_by TEXT;

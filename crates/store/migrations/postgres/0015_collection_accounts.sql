-- Where an insurer collects premiums: the account its policyholders pay into, shown with
-- the policy number as the payment reference on every policy with premium due.
CREATE TABLE collection_accounts (
    org_id         TEXT PRIMARY KEY REFERENCES organisations(id),
    bank           TEXT NOT NULL,
    account_name   TEXT NOT NULL,
    account_no     TEXT NOT NULL,
    note           TEXT NOT NULL,
    updated_at_us  BIGINT NOT NULL
);

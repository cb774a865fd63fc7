-- Kebao schema v4 (PostgreSQL): the double-entry ledger. Keep in step with ../sqlite/0004_ledger.sql.
-- Amounts are BIGINT fen. The balance flags are enforced by the ledger rules and again here.

CREATE TABLE ledger_accounts (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES organisations(id),
    kind            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    debits_must_not_exceed_credits BIGINT NOT NULL,
    credits_must_not_exceed_debits BIGINT NOT NULL,
    debits_pending  BIGINT NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    debits_posted   BIGINT NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_pending BIGINT NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    credits_posted  BIGINT NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    created_at_us   BIGINT NOT NULL,
    CHECK (debits_must_not_exceed_credits = 0 OR debits_pending + debits_posted <= credits_posted),
    CHECK (credits_must_not_exceed_debits = 0 OR credits_pending + credits_posted <= debits_posted)
);
CREATE INDEX ledger_accounts_owner ON ledger_accounts(owner_id);

CREATE TABLE ledger_transfers (
    id                TEXT PRIMARY KEY,
    debit_account_id  TEXT NOT NULL REFERENCES ledger_accounts(id),
    credit_account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
    amount            BIGINT NOT NULL CHECK (amount >= 0),
    pending_id        TEXT,
    code              BIGINT NOT NULL,
    event_ref         TEXT NOT NULL,
    flag_linked       BIGINT NOT NULL,
    flag_pending      BIGINT NOT NULL,
    flag_post_pending BIGINT NOT NULL,
    flag_void_pending BIGINT NOT NULL,
    applied_amount    BIGINT NOT NULL,
    state             TEXT NOT NULL,
    timestamp_us      BIGINT NOT NULL
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers(debit_account_id);
CREATE INDEX ledger_transfers_credit ON ledger_transfers(credit_account_id);
CREATE INDEX ledger_transfers_event ON ledger_transfers(event_ref);

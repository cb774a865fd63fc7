-- Kebao schema v12 (PostgreSQL): the ledger bound to the event log. Keep in step with
-- ../sqlite/0012_ledger_bound.sql. See docs/ledger.md ("Bound to the event log").

-- The transfers a command wrote, as the canonical JSON its event's hash covers (leaf
-- format 0x02); NULL for events that wrote none.
ALTER TABLE events ADD COLUMN ledger TEXT;

-- Transfers are immutable: a pending transfer is resolved by the post or void that names
-- it, never by changing its row. `state` keeps the state at insertion ('pending' or 'none').
CREATE FUNCTION ledger_transfers_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'ledger transfers are append-only'; END $$;
CREATE TRIGGER ledger_transfers_append_only_update BEFORE UPDATE OR DELETE ON ledger_transfers
FOR EACH ROW EXECUTE FUNCTION ledger_transfers_append_only();
CREATE TRIGGER ledger_transfers_append_only_truncate BEFORE TRUNCATE ON ledger_transfers
FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfers_append_only();

-- A pending transfer is resolved once: at most one post or void names it.
CREATE UNIQUE INDEX ledger_transfers_resolves ON ledger_transfers(pending_id) WHERE pending_id IS NOT NULL;

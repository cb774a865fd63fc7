-- Statistics (C11): the park an enterprise sits in (a park id from the zone's configuration),
-- and a policy's risk cover — its sum insured, or its limit where it has none — kept as a
-- column so the regulator's reports add it up in the store. Keep in step with
-- ../sqlite/0028_statistics.sql.
ALTER TABLE organisations ADD COLUMN park TEXT;
CREATE INDEX organisations_park ON organisations(park);
ALTER TABLE policies ADD COLUMN cover_fen BIGINT NOT NULL DEFAULT 0;
UPDATE policies SET cover_fen = CASE
    WHEN COALESCE((COALESCE(NULLIF(input, '')::jsonb, schedule::jsonb -> 'rated') ->> 'sum_insured')::bigint, 0) > 0
    THEN (COALESCE(NULLIF(input, '')::jsonb, schedule::jsonb -> 'rated') ->> 'sum_insured')::bigint
    ELSE COALESCE((COALESCE(NULLIF(input, '')::jsonb, schedule::jsonb -> 'rated') ->> 'limit')::bigint, 0)
END;
CREATE INDEX policies_bound ON policies(bound_at_us);
CREATE INDEX claims_reported ON claims(reported_on);
CREATE INDEX ledger_transfers_time ON ledger_transfers(timestamp_us);

-- Kebao schema v5 (SQLite): insurers' rating plans, versioned by effective date.
-- Keep in step with ../postgres/0005_rating.sql.

CREATE TABLE rating_plans (
    id             TEXT PRIMARY KEY,
    product_id     TEXT NOT NULL REFERENCES products(id),
    version        BIGINT NOT NULL,
    effective_from TEXT NOT NULL,
    doc            TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at_us  BIGINT NOT NULL,
    UNIQUE (product_id, version),
    UNIQUE (product_id, effective_from)
);

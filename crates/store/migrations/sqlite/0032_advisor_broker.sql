-- The risk advisor's broker mode (C3, rules.md §11.1): the licensed broker the zone names as
-- the advisor's operator (one current at a time, history kept), the quotes it obtains from
-- each insurer's filed plan (with the plan's version and the day the quote lapses), and the
-- bundles applied for in one step (one application per quote, each linked to the bundle).
CREATE TABLE advisor_brokers (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    licence_no  TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    valid_to    TEXT NOT NULL,
    named_by    TEXT NOT NULL,
    named_at_us BIGINT NOT NULL,
    ended_by    TEXT,
    ended_at_us BIGINT
);
CREATE TABLE advisor_bundles (
    id            TEXT PRIMARY KEY,
    enterprise_id TEXT NOT NULL REFERENCES organisations(id),
    broker_id     TEXT NOT NULL REFERENCES advisor_brokers(id),
    start_date    TEXT NOT NULL,
    premium_fen   BIGINT NOT NULL,
    subsidy_fen   BIGINT NOT NULL,
    uncovered     BIGINT NOT NULL,
    applied_by    TEXT NOT NULL,
    applied_at_us BIGINT NOT NULL
);
CREATE TABLE advisor_quotes (
    id              TEXT PRIMARY KEY,
    enterprise_id   TEXT NOT NULL REFERENCES organisations(id),
    exposure_id     TEXT NOT NULL,
    product_id      TEXT NOT NULL REFERENCES products(id),
    product_version BIGINT NOT NULL,
    insurer_id      TEXT NOT NULL REFERENCES organisations(id),
    plan_version    BIGINT NOT NULL,
    broker_id       TEXT NOT NULL REFERENCES advisor_brokers(id),
    limit_fen       BIGINT NOT NULL,
    deductible_fen  BIGINT NOT NULL,
    sum_insured_fen BIGINT NOT NULL,
    revenue_fen     BIGINT NOT NULL,
    claims_3y       BIGINT NOT NULL,
    premium_fen     BIGINT NOT NULL,
    subsidy_fen     BIGINT NOT NULL,
    quoted_on       TEXT NOT NULL,
    valid_until     TEXT NOT NULL,
    chosen          BIGINT NOT NULL,
    bundle_id       TEXT REFERENCES advisor_bundles(id),
    application_id  TEXT,
    created_by      TEXT NOT NULL,
    created_at_us   BIGINT NOT NULL
);
CREATE INDEX advisor_quotes_enterprise ON advisor_quotes (enterprise_id, exposure_id);

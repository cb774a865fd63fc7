-- The risk advisor (C3): an enterprise's answers to the questionnaire (one row per question:
-- 0/1 for yes/no, fen for amounts, the number for counts) and its shortlist of published
-- products, each kept under the exposure it was chosen for.
CREATE TABLE advisor_answers (
    org_id         TEXT NOT NULL REFERENCES organisations(id),
    question_id    TEXT NOT NULL,
    value          BIGINT NOT NULL,
    rules_version  TEXT NOT NULL,
    answered_by    TEXT NOT NULL,
    answered_at_us BIGINT NOT NULL,
    PRIMARY KEY (org_id, question_id)
);
CREATE TABLE advisor_shortlist (
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    product_id  TEXT NOT NULL REFERENCES products(id),
    exposure_id TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at_us BIGINT NOT NULL,
    PRIMARY KEY (org_id, product_id)
);

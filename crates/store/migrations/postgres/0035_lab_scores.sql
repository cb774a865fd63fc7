-- The risk lab's models in decisions (C9): an institution's admission rule (its approved
-- scorecard and cut-offs, one in force per use), and every score the platform computes with
-- the model version, the inputs, the score and the decision. Scores are in hundredths of a
-- point; probabilities in parts per million.
CREATE TABLE lab_admission_rules (
    id             TEXT PRIMARY KEY,
    owner_org_id   TEXT NOT NULL REFERENCES organisations(id),
    score_use      TEXT NOT NULL,
    model_id       TEXT NOT NULL REFERENCES lab_models(id),
    accept_at_c    BIGINT NOT NULL,
    decline_below_c BIGINT NOT NULL,
    in_force       BIGINT NOT NULL,
    set_by         TEXT NOT NULL,
    set_at_us      BIGINT NOT NULL
);
CREATE INDEX lab_admission_rules_owner ON lab_admission_rules(owner_org_id, score_use, in_force);

CREATE TABLE lab_scores (
    id              TEXT PRIMARY KEY,
    model_id        TEXT NOT NULL REFERENCES lab_models(id),
    owner_org_id    TEXT NOT NULL REFERENCES organisations(id),
    subject_org_id  TEXT NOT NULL REFERENCES organisations(id),
    score_use       TEXT NOT NULL,
    subject_ref     TEXT,
    rule_id         TEXT,
    inputs          TEXT NOT NULL,
    score_c         BIGINT NOT NULL,
    probability_ppm BIGINT NOT NULL,
    decision        TEXT,
    reasons         TEXT NOT NULL,
    job_id          TEXT,
    created_by      TEXT NOT NULL,
    created_at_us   BIGINT NOT NULL
);
CREATE INDEX lab_scores_subject ON lab_scores(subject_org_id, created_at_us);
CREATE INDEX lab_scores_model ON lab_scores(model_id, created_at_us);
CREATE INDEX lab_scores_ref ON lab_scores(subject_ref) WHERE subject_ref IS NOT NULL;

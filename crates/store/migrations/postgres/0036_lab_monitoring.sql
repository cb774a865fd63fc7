-- The risk lab's monitoring thresholds per model (C9): the PSI/CSI at which a month is to be
-- watched and at which the model's owner is alerted (basis points; defaults 0.10 and 0.25).
CREATE TABLE lab_thresholds (
    model_id  TEXT PRIMARY KEY REFERENCES lab_models(id),
    watch_bp  BIGINT NOT NULL,
    alert_bp  BIGINT NOT NULL,
    set_by    TEXT NOT NULL,
    set_at_us BIGINT NOT NULL
);

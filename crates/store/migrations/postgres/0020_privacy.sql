-- Personal-data rights (issue 18.4): a person's request to see, correct or delete what the
-- platform holds about them, with the day its answer is due.
CREATE TABLE data_requests (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id),
    org_id         TEXT NOT NULL REFERENCES organisations(id),
    kind           TEXT NOT NULL,
    details        TEXT NOT NULL,
    filed_at_us    BIGINT NOT NULL,
    due_on         TEXT NOT NULL,
    state          TEXT NOT NULL,
    answer         TEXT,
    answered_by    TEXT,
    answered_at_us BIGINT
);
CREATE INDEX data_requests_user ON data_requests(user_id, filed_at_us);
CREATE INDEX data_requests_state ON data_requests(state, due_on);

-- Background jobs (issue 18.2): queued, taken by one runner under a lease it renews, with
-- progress and a checkpoint; each ends with one event (`job.succeeded`, `job.failed`,
-- `job.cancelled`). The row itself is bookkeeping of the runner, like the login throttle.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at_us BIGINT NOT NULL,
    schedule_key TEXT UNIQUE,
    attempts BIGINT NOT NULL DEFAULT 0,
    runner TEXT,
    lease_until_us BIGINT,
    started_at_us BIGINT,
    finished_at_us BIGINT,
    done BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    checkpoint TEXT,
    cancel_requested_by TEXT,
    result TEXT,
    error_zh TEXT,
    error_en TEXT
);
CREATE INDEX jobs_state ON jobs(state, requested_at_us);
CREATE INDEX jobs_requested ON jobs(requested_at_us);

-- Credentials: a password set by someone else must be changed at the next sign-in, and
-- every sign-in attempt is recorded (for throttling and, later, monitoring).
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;

CREATE TABLE login_attempts (
    id          TEXT PRIMARY KEY,
    username    TEXT NOT NULL,
    address     TEXT NOT NULL,
    succeeded   BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    at_us       BIGINT NOT NULL
);
CREATE INDEX login_attempts_at ON login_attempts(at_us);
CREATE INDEX login_attempts_user ON login_attempts(username, at_us);

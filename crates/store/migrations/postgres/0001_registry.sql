-- Kebao schema v1 (PostgreSQL). Keep in step with ../sqlite/0001_registry.sql.
-- Times are BIGINT microseconds since the Unix epoch (UTC); business dates are ISO TEXT;
-- money is BIGINT fen; flags are 0/1 integers; ids are TEXT (UUIDv7).

CREATE TABLE organisations (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    uscc            TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    industry_code   TEXT,
    lifecycle_stage TEXT,
    founded_on      TEXT,
    address         TEXT,
    parent_id       TEXT REFERENCES organisations(id),
    created_at_us   BIGINT NOT NULL,
    updated_at_us   BIGINT NOT NULL
);
CREATE INDEX organisations_name ON organisations(name, id);
CREATE INDEX organisations_kind ON organisations(kind, name, id);
CREATE INDEX organisations_parent ON organisations(parent_id);

CREATE TABLE org_industries (
    org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    PRIMARY KEY (org_id, tag)
);
CREATE INDEX org_industries_tag ON org_industries(tag, org_id);

CREATE TABLE qualifications (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_to       TEXT NOT NULL,
    certificate_no TEXT
);
CREATE INDEX qualifications_org ON qualifications(org_id);
CREATE INDEX qualifications_kind ON qualifications(kind, valid_to);

CREATE TABLE yearly_facts (
    org_id          TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    year            BIGINT NOT NULL,
    revenue_fen     BIGINT NOT NULL CHECK (revenue_fen >= 0),
    rnd_expense_fen BIGINT NOT NULL CHECK (rnd_expense_fen >= 0),
    staff           BIGINT NOT NULL CHECK (staff >= 0),
    rnd_staff       BIGINT NOT NULL CHECK (rnd_staff >= 0 AND rnd_staff <= staff),
    patents_granted BIGINT NOT NULL CHECK (patents_granted >= 0),
    patents_pending BIGINT NOT NULL CHECK (patents_pending >= 0),
    export_share_bp BIGINT NOT NULL CHECK (export_share_bp BETWEEN 0 AND 10000),
    updated_at_us   BIGINT NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations(id),
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active        BIGINT NOT NULL DEFAULT 1,
    created_at_us BIGINT NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    expires_at_us BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    expires_at_us BIGINT NOT NULL,
    revoked_at_us BIGINT
);

CREATE TABLE notifications (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title_zh      TEXT NOT NULL,
    title_en      TEXT NOT NULL,
    link          TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    read_at_us    BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at_us);

-- A to-do is addressed to a role within an organisation; any holder may do it.
CREATE TABLE todos (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations(id),
    role          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    title_zh      TEXT NOT NULL,
    title_en      TEXT NOT NULL,
    link          TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    done_at_us    BIGINT,
    UNIQUE (kind, subject, org_id)
);
CREATE INDEX todos_open ON todos(org_id, role, done_at_us);

CREATE TABLE events (
    seq       BIGINT PRIMARY KEY,
    at_us     BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX events_subject ON events(subject, seq);

-- One row: the newest event. Writers lock it, so the chain never forks.
CREATE TABLE event_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO event_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the event log is append-only'; END $$;
CREATE TRIGGER events_append_only_update BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

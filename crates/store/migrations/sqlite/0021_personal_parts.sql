-- Issue 18.3–18.4, completed.
--
-- Words kept beside an event, outside the hash chain: the event's payload holds
-- sha256(0x03 ‖ salt ‖ data) (`docs/event-log.md`), so that they can be erased without
-- breaking the chain. A row is never deleted; erasing it empties salt and data, once.
CREATE TABLE event_personal (
    seq          BIGINT PRIMARY KEY REFERENCES events(seq),
    salt         TEXT,
    data         TEXT,
    erased_at_us BIGINT
);
CREATE TRIGGER event_personal_no_delete BEFORE DELETE ON event_personal
BEGIN SELECT RAISE(ABORT, 'personal parts are erased, never deleted'); END;
CREATE TRIGGER event_personal_erase_only BEFORE UPDATE ON event_personal
WHEN NEW.seq IS NOT OLD.seq OR NEW.salt IS NOT NULL OR NEW.data IS NOT NULL OR NEW.erased_at_us IS NULL
  OR OLD.data IS NULL
BEGIN SELECT RAISE(ABORT, 'a personal part can only be erased, once'); END;

-- An erasure is made by the retention job, or by a person granting a deletion request.
CREATE TABLE erasures_new (
    id           TEXT PRIMARY KEY,
    rule         TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    org_id       TEXT,
    fields       TEXT NOT NULL,
    at_us        BIGINT NOT NULL,
    job_id       TEXT,
    request_id   TEXT
);
INSERT INTO erasures_new (id, rule, subject_kind, subject_id, org_id, fields, at_us, job_id)
    SELECT id, rule, subject_kind, subject_id, org_id, fields, at_us, job_id FROM erasures;
DROP TABLE erasures;
ALTER TABLE erasures_new RENAME TO erasures;
CREATE INDEX erasures_at ON erasures(at_us);

-- A request may be about a person who is not a user (an enterprise's legal representative, a
-- guarantor named in a consent): the platform administrator records it for them, with how
-- their identity was checked.
CREATE TABLE data_requests_new (
    id             TEXT PRIMARY KEY,
    user_id        TEXT REFERENCES users(id),
    org_id         TEXT REFERENCES organisations(id),
    person_name    TEXT,
    identity_check TEXT,
    filed_by       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    details        TEXT NOT NULL,
    filed_at_us    BIGINT NOT NULL,
    due_on         TEXT NOT NULL,
    state          TEXT NOT NULL,
    answer         TEXT,
    answered_by    TEXT,
    answered_at_us BIGINT
);
INSERT INTO data_requests_new (id, user_id, org_id, filed_by, kind, details, filed_at_us, due_on, state,
                               answer, answered_by, answered_at_us)
    SELECT id, user_id, org_id, user_id, kind, details, filed_at_us, due_on, state, answer,
           answered_by, answered_at_us FROM data_requests;
DROP TABLE data_requests;
ALTER TABLE data_requests_new RENAME TO data_requests;
CREATE INDEX data_requests_user ON data_requests(user_id, filed_at_us);
CREATE INDEX data_requests_state ON data_requests(state, due_on);

-- Personal-information protection impact assessments (个人信息保护法 Arts 55–56): one is on
-- record before personal data goes to a new recipient or into an extract.
CREATE TABLE impact_assessments (
    id               TEXT PRIMARY KEY,
    target_kind      TEXT NOT NULL,
    recipient_org_id TEXT REFERENCES organisations(id),
    extract          TEXT,
    purpose          TEXT NOT NULL,
    data             TEXT NOT NULL,
    recipients       TEXT NOT NULL,
    assessed_on      TEXT NOT NULL,
    reviewer         TEXT NOT NULL,
    conclusion       TEXT NOT NULL,
    recorded_by      TEXT NOT NULL,
    recorded_at_us   BIGINT NOT NULL
);
CREATE INDEX impact_assessments_recipient ON impact_assessments(recipient_org_id);
CREATE INDEX impact_assessments_extract ON impact_assessments(extract);

-- When a user was deactivated: the retention rule on sign-in data counts from it.
ALTER TABLE users ADD COLUMN deactivated_at_us BIGINT;

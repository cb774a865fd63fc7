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
CREATE FUNCTION event_personal_erase_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'personal parts are erased, never deleted';
  END IF;
  IF NEW.seq IS DISTINCT FROM OLD.seq OR NEW.salt IS NOT NULL OR NEW.data IS NOT NULL
     OR NEW.erased_at_us IS NULL OR OLD.data IS NULL THEN
    RAISE EXCEPTION 'a personal part can only be erased, once';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER event_personal_erase_only BEFORE UPDATE OR DELETE ON event_personal
FOR EACH ROW EXECUTE FUNCTION event_personal_erase_only();
CREATE TRIGGER event_personal_no_truncate BEFORE TRUNCATE ON event_personal
FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- An erasure is made by the retention job, or by a person granting a deletion request.
ALTER TABLE erasures ALTER COLUMN job_id DROP NOT NULL;
ALTER TABLE erasures ADD COLUMN request_id TEXT;

-- A request may be about a person who is not a user (an enterprise's legal representative, a
-- guarantor named in a consent): the platform administrator records it for them, with how
-- their identity was checked.
ALTER TABLE data_requests ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE data_requests ALTER COLUMN org_id DROP NOT NULL;
ALTER TABLE data_requests ADD COLUMN person_name TEXT;
ALTER TABLE data_requests ADD COLUMN identity_check TEXT;
ALTER TABLE data_requests ADD COLUMN filed_by TEXT;
UPDATE data_requests SET filed_by = user_id;
ALTER TABLE data_requests ALTER COLUMN filed_by SET NOT NULL;

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

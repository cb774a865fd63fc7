-- What a policy covers and whom it names (issue 15.3): the insured object and the parties
-- besides the policyholder, on the application and on the policy. `object_key` is the
-- object as compared across policies and insurers (kind and normalised identifier).
ALTER TABLE applications ADD COLUMN object_kind TEXT;
ALTER TABLE applications ADD COLUMN object_identifier TEXT;
ALTER TABLE applications ADD COLUMN object_catalogue TEXT;
ALTER TABLE applications ADD COLUMN insured_name TEXT;
ALTER TABLE applications ADD COLUMN insured_uscc TEXT;
ALTER TABLE applications ADD COLUMN beneficiary_name TEXT;
ALTER TABLE applications ADD COLUMN beneficiary_uscc TEXT;
ALTER TABLE policies ADD COLUMN object_kind TEXT;
ALTER TABLE policies ADD COLUMN object_identifier TEXT;
ALTER TABLE policies ADD COLUMN object_catalogue TEXT;
ALTER TABLE policies ADD COLUMN object_key TEXT;
ALTER TABLE policies ADD COLUMN insured_name TEXT;
ALTER TABLE policies ADD COLUMN insured_uscc TEXT;
ALTER TABLE policies ADD COLUMN beneficiary_name TEXT;
ALTER TABLE policies ADD COLUMN beneficiary_uscc TEXT;
CREATE INDEX policies_object ON policies(enterprise_id, object_key);

-- Policies bought outside the platform (issue 15.5): registered by the policyholder, answered
-- by the insurer named on them (status `unconfirmed` → `registered` or `unrecognised`).
ALTER TABLE policies ADD COLUMN answered_by TEXT;
ALTER TABLE policies ADD COLUMN answered_at_us BIGINT;
ALTER TABLE policies ADD COLUMN answer_note TEXT;

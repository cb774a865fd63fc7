-- The kind of institution the zone's plan counts (specialist tech-insurance branch, insurtech,
-- research body, intermediary, service body); its establishment date is `founded_on` (C11).
ALTER TABLE organisations ADD COLUMN institution_kind TEXT;
CREATE INDEX organisations_institution_kind ON organisations(institution_kind, founded_on);

-- The zone's switches: settings that change what the platform shows (the zone lab's assessment
-- in credit reports, say), each off until the zone's approvers turn it on.
CREATE TABLE zone_switches (
    key       TEXT PRIMARY KEY,
    enabled   BIGINT NOT NULL,
    set_by    TEXT NOT NULL,
    set_at_us BIGINT NOT NULL
);

-- Kebao schema v14 (PostgreSQL): one table of attachments (product version documents, claim documents,
-- subsidy application documents and consent evidence) over the content-addressed blobs.
-- Rows keep their ids, so events and links that name them stay valid. Keep in step with
-- ../sqlite/0014_attachments.sql.

CREATE TABLE attachments (
    id             TEXT PRIMARY KEY,
    owner_kind     TEXT NOT NULL,
    owner_id       TEXT NOT NULL,
    owner_version  BIGINT,
    file_name      TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    sha256         TEXT NOT NULL REFERENCES blobs(sha256),
    size           BIGINT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    uploaded_at_us BIGINT NOT NULL
);
CREATE INDEX attachments_owner ON attachments(owner_kind, owner_id, owner_version);

INSERT INTO attachments (id, owner_kind, owner_id, owner_version, file_name, media_type, sha256, size,
                         uploaded_by, uploaded_at_us)
SELECT id, 'product_version', product_id, version, file_name, media_type, sha256, size, uploaded_by,
       uploaded_at_us
FROM product_documents;

INSERT INTO attachments (id, owner_kind, owner_id, owner_version, file_name, media_type, sha256, size,
                         uploaded_by, uploaded_at_us)
SELECT id, 'claim', claim_id, NULL, file_name, media_type, sha256, size, uploaded_by, uploaded_at_us
FROM claim_documents;

INSERT INTO attachments (id, owner_kind, owner_id, owner_version, file_name, media_type, sha256, size,
                         uploaded_by, uploaded_at_us)
SELECT id, 'subsidy_application', application_id, NULL, file_name, media_type, sha256, size, uploaded_by,
       uploaded_at_us
FROM subsidy_documents;

-- A consent's signed evidence: the consent keeps its evidence_* columns (they are in its
-- event); the file is served as an attachment owned by the consent, under the id the
-- consent names.
INSERT INTO attachments (id, owner_kind, owner_id, owner_version, file_name, media_type, sha256, size,
                         uploaded_by, uploaded_at_us)
SELECT c.evidence_document_id, 'consent', c.id, NULL, c.evidence_file_name, c.evidence_media_type,
       c.evidence_sha256, b.size, c.created_by, c.created_at_us
FROM consents c JOIN blobs b ON b.sha256 = c.evidence_sha256;

DROP TABLE product_documents;
DROP TABLE claim_documents;
DROP TABLE subsidy_documents;

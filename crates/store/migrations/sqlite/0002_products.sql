-- Kebao schema v2 (SQLite): the product catalogue, filings, review, documents, the
-- publicity section and product search. Keep in step with ../postgres/0002_products.sql.

-- Every catalogue file loaded; the newest is in force.
CREATE TABLE catalogues (
    seq          BIGINT PRIMARY KEY,
    hash         TEXT NOT NULL,
    source       TEXT NOT NULL,
    body         TEXT NOT NULL,
    loaded_at_us BIGINT NOT NULL
);

CREATE TABLE products (
    id            TEXT PRIMARY KEY,
    insurer_id    TEXT NOT NULL REFERENCES organisations(id),
    type_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    public_version BIGINT,
    created_at_us BIGINT NOT NULL,
    updated_at_us BIGINT NOT NULL
);
CREATE INDEX products_insurer ON products(insurer_id, name, id);
CREATE INDEX products_public ON products(public_version, name, id);

CREATE TABLE product_versions (
    product_id      TEXT NOT NULL REFERENCES products(id),
    version         BIGINT NOT NULL CHECK (version >= 1),
    status          TEXT NOT NULL,
    content         TEXT NOT NULL,
    checklist       TEXT NOT NULL DEFAULT '[]',
    decision_reason TEXT,
    registration_no TEXT UNIQUE,
    created_by      TEXT NOT NULL,
    created_at_us   BIGINT NOT NULL,
    updated_at_us   BIGINT NOT NULL,
    submitted_at_us BIGINT,
    decided_at_us   BIGINT,
    published_at_us BIGINT,
    PRIMARY KEY (product_id, version)
);
CREATE INDEX product_versions_status ON product_versions(status, submitted_at_us);

CREATE TABLE registration_counters (
    year BIGINT PRIMARY KEY,
    n    BIGINT NOT NULL
);

CREATE TABLE product_comments (
    id            TEXT PRIMARY KEY,
    product_id    TEXT NOT NULL REFERENCES products(id),
    version       BIGINT NOT NULL,
    author        TEXT NOT NULL,
    author_name   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at_us BIGINT NOT NULL
);
CREATE INDEX product_comments_product ON product_comments(product_id, version, created_at_us);

-- Content-addressed file bodies.
CREATE TABLE blobs (
    sha256  TEXT PRIMARY KEY,
    size    BIGINT NOT NULL,
    content BLOB NOT NULL
);

CREATE TABLE product_documents (
    id             TEXT PRIMARY KEY,
    product_id     TEXT NOT NULL REFERENCES products(id),
    version        BIGINT NOT NULL,
    file_name      TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    sha256         TEXT NOT NULL REFERENCES blobs(sha256),
    size           BIGINT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    uploaded_at_us BIGINT NOT NULL
);
CREATE INDEX product_documents_version ON product_documents(product_id, version);

CREATE TABLE articles (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    body_md         TEXT NOT NULL,
    status          TEXT NOT NULL,
    author          TEXT NOT NULL,
    author_name     TEXT NOT NULL,
    created_at_us   BIGINT NOT NULL,
    updated_at_us   BIGINT NOT NULL,
    published_at_us BIGINT
);
CREATE INDEX articles_public ON articles(status, published_at_us);

-- Published products, as CJK-bigram token text (see kebao_domain::search).
CREATE VIRTUAL TABLE product_search USING fts5(product_id UNINDEXED, terms, tokenize = 'unicode61');

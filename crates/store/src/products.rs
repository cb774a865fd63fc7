//! The product catalogue (C2): loaded catalogue files, insurers' products and their
//! versions, review comments, the publicity section and product search.

use crate::{opt_text, Backend, Result, StoreError};
use kebao_domain::product::{FilingStatus, Product, ProductContent, ProductVersion, ReviewComment};
use kebao_domain::publicity::{Article, ArticleKind};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

fn bad(col: &str, v: &str) -> StoreError {
    StoreError::Other(format!("stored `{col}` has an unknown value `{v}`"))
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Other(format!("stored JSON does not parse: {e}"))
}

// ---------------------------------------------------------------------------
// Catalogue files

/// A loaded catalogue file.
#[derive(Debug, Clone)]
pub struct CatalogueFile {
    pub seq: i64,
    pub hash: String,
    pub source: String,
    pub body: String,
    pub loaded_at_us: i64,
}

/// Records a catalogue file as the one in force.
pub async fn insert_catalogue(
    conn: &mut AnyConnection,
    hash: &str,
    source: &str,
    body: &str,
    at_us: i64,
) -> Result<i64> {
    let seq: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) FROM catalogues")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO catalogues (seq, hash, source, body, loaded_at_us) VALUES ($1, $2, $3, $4, $5)")
        .bind(seq)
        .bind(hash)
        .bind(source)
        .bind(body)
        .bind(at_us)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// The catalogue file in force, if one was ever loaded.
pub async fn current_catalogue(conn: &mut AnyConnection) -> Result<Option<CatalogueFile>> {
    let row =
        sqlx::query("SELECT seq, hash, source, body, loaded_at_us FROM catalogues ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|r| {
        Ok(CatalogueFile {
            seq: r.try_get("seq")?,
            hash: r.try_get("hash")?,
            source: r.try_get("source")?,
            body: r.try_get("body")?,
            loaded_at_us: r.try_get("loaded_at_us")?,
        })
    })
    .transpose()
}

/// The product types some filing uses.
pub async fn used_type_ids(conn: &mut AnyConnection) -> Result<Vec<String>> {
    let rows =
        sqlx::query("SELECT DISTINCT type_id FROM products ORDER BY type_id").fetch_all(&mut *conn).await?;
    rows.iter().map(|r| r.try_get("type_id").map_err(StoreError::from)).collect()
}

// ---------------------------------------------------------------------------
// Products and versions

const PRODUCT_COLS: &str =
    "p.id, p.insurer_id, o.name AS insurer_name, p.type_id, p.name, p.public_version, \
                            p.created_at_us, p.updated_at_us";
const VERSION_COLS: &str = "v.product_id, v.version, v.status, v.content, v.checklist, v.decision_reason, \
                            v.registration_no, v.created_by, v.created_at_us, v.updated_at_us, \
                            v.submitted_at_us, v.decided_at_us, v.published_at_us";

fn product_row(r: &AnyRow) -> Result<Product> {
    Ok(Product {
        id: r.try_get("id")?,
        insurer_id: r.try_get("insurer_id")?,
        insurer_name: r.try_get("insurer_name")?,
        type_id: r.try_get("type_id")?,
        name: r.try_get("name")?,
        public_version: r.try_get("public_version")?,
        created_at_us: r.try_get("created_at_us")?,
        updated_at_us: r.try_get("updated_at_us")?,
    })
}

fn version_row(r: &AnyRow) -> Result<ProductVersion> {
    let status: String = r.try_get("status")?;
    let content: String = r.try_get("content")?;
    let checklist: String = r.try_get("checklist")?;
    Ok(ProductVersion {
        product_id: r.try_get("product_id")?,
        version: r.try_get("version")?,
        status: FilingStatus::from_code(&status).ok_or_else(|| bad("status", &status))?,
        content: serde_json::from_str(&content).map_err(json_err)?,
        checklist: serde_json::from_str(&checklist).map_err(json_err)?,
        decision_reason: opt_text(r, "decision_reason")?,
        registration_no: opt_text(r, "registration_no")?,
        created_by: r.try_get("created_by")?,
        created_at_us: r.try_get("created_at_us")?,
        updated_at_us: r.try_get("updated_at_us")?,
        submitted_at_us: r.try_get("submitted_at_us")?,
        decided_at_us: r.try_get("decided_at_us")?,
        published_at_us: r.try_get("published_at_us")?,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(e.to_string()))
}

/// Inserts a new product with its first version (a draft).
pub async fn insert_product(
    conn: &mut AnyConnection,
    id: &str,
    insurer_id: &str,
    content: &ProductContent,
    created_by: &str,
    at_us: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO products (id, insurer_id, type_id, name, public_version, created_at_us, updated_at_us) \
         VALUES ($1, $2, $3, $4, NULL, $5, $5)",
    )
    .bind(id)
    .bind(insurer_id)
    .bind(&content.type_id)
    .bind(&content.name)
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    insert_version(conn, id, 1, content, created_by, at_us).await
}

/// Inserts a version as a draft.
pub async fn insert_version(
    conn: &mut AnyConnection,
    product_id: &str,
    version: i64,
    content: &ProductContent,
    created_by: &str,
    at_us: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO product_versions (product_id, version, status, content, checklist, created_by, \
         created_at_us, updated_at_us) VALUES ($1, $2, 'draft', $3, '[]', $4, $5, $5)",
    )
    .bind(product_id)
    .bind(version)
    .bind(to_json(content)?)
    .bind(created_by)
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces a version's content (the product's list name follows the newest version).
pub async fn update_content(
    conn: &mut AnyConnection,
    product_id: &str,
    version: i64,
    content: &ProductContent,
    at_us: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE product_versions SET content = $1, updated_at_us = $2 WHERE product_id = $3 AND version = $4",
    )
    .bind(to_json(content)?)
    .bind(at_us)
    .bind(product_id)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    touch(conn, product_id, Some(&content.name), at_us).await
}

async fn touch(conn: &mut AnyConnection, product_id: &str, name: Option<&str>, at_us: i64) -> Result<()> {
    match name {
        Some(n) => {
            sqlx::query("UPDATE products SET name = $1, updated_at_us = $2 WHERE id = $3")
                .bind(n)
                .bind(at_us)
                .bind(product_id)
                .execute(&mut *conn)
                .await?
        }
        None => {
            sqlx::query("UPDATE products SET updated_at_us = $1 WHERE id = $2")
                .bind(at_us)
                .bind(product_id)
                .execute(&mut *conn)
                .await?
        }
    };
    Ok(())
}

/// A status change and what comes with it.
#[derive(Debug, Clone, Default)]
pub struct StatusChange {
    pub submitted: bool,
    pub decided: bool,
    pub published: bool,
    pub reason: Option<String>,
    pub registration_no: Option<String>,
}

/// Moves a version from `from` to `to`; fails with `Conflict` when the stored status is no
/// longer `from` (a concurrent change).
pub async fn set_status(
    conn: &mut AnyConnection,
    product_id: &str,
    version: i64,
    from: FilingStatus,
    to: FilingStatus,
    change: &StatusChange,
    at_us: i64,
) -> Result<()> {
    let stamp = |b: bool| if b { Some(at_us) } else { None };
    let n = sqlx::query(
        "UPDATE product_versions SET status = $1, updated_at_us = $2, \
         submitted_at_us = COALESCE($3, submitted_at_us), decided_at_us = COALESCE($4, decided_at_us), \
         published_at_us = COALESCE($5, published_at_us), \
         decision_reason = COALESCE($6, decision_reason), registration_no = COALESCE($7, registration_no) \
         WHERE product_id = $8 AND version = $9 AND status = $10",
    )
    .bind(to.code())
    .bind(at_us)
    .bind(stamp(change.submitted))
    .bind(stamp(change.decided))
    .bind(stamp(change.published))
    .bind(change.reason.clone())
    .bind(change.registration_no.clone())
    .bind(product_id)
    .bind(version)
    .bind(from.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("product_versions.status".into()));
    }
    touch(conn, product_id, None, at_us).await
}

/// Sets which version the public sees (`None`: none).
pub async fn set_public_version(
    conn: &mut AnyConnection,
    product_id: &str,
    version: Option<i64>,
    at_us: i64,
) -> Result<()> {
    sqlx::query("UPDATE products SET public_version = $1, updated_at_us = $2 WHERE id = $3")
        .bind(version)
        .bind(at_us)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores the reviewer's ticked checklist items.
pub async fn set_checklist(
    conn: &mut AnyConnection,
    product_id: &str,
    version: i64,
    items: &[String],
) -> Result<()> {
    sqlx::query("UPDATE product_versions SET checklist = $1 WHERE product_id = $2 AND version = $3")
        .bind(to_json(&items)?)
        .bind(product_id)
        .bind(version)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The next registration sequence number of `year` (1, 2, …), under a row lock.
pub async fn next_registration_seq(conn: &mut AnyConnection, year: i32) -> Result<u32> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO registration_counters (year, n) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET n = registration_counters.n + 1 RETURNING n",
    )
    .bind(i64::from(year))
    .fetch_one(&mut *conn)
    .await?;
    u32::try_from(n).map_err(|_| StoreError::Other("registration counter out of range".into()))
}

/// A product.
pub async fn get_product(conn: &mut AnyConnection, id: &str) -> Result<Product> {
    let sql = format!(
        "SELECT {PRODUCT_COLS} FROM products p JOIN organisations o ON o.id = p.insurer_id WHERE p.id = $1"
    );
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    product_row(&row)
}

/// Every version of a product, newest first.
pub async fn versions(conn: &mut AnyConnection, product_id: &str) -> Result<Vec<ProductVersion>> {
    let sql = format!(
        "SELECT {VERSION_COLS} FROM product_versions v WHERE v.product_id = $1 ORDER BY v.version DESC"
    );
    let rows = sqlx::query(&sql).bind(product_id).fetch_all(&mut *conn).await?;
    rows.iter().map(version_row).collect()
}

/// One version of a product.
pub async fn version(conn: &mut AnyConnection, product_id: &str, version: i64) -> Result<ProductVersion> {
    let sql =
        format!("SELECT {VERSION_COLS} FROM product_versions v WHERE v.product_id = $1 AND v.version = $2");
    let row = sqlx::query(&sql)
        .bind(product_id)
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    version_row(&row)
}

/// Which products to list.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// One insurer's products.
    pub insurer_id: Option<String>,
    /// Products with a published version.
    pub published_only: bool,
}

/// Products with their newest version, and their published version when there is one,
/// ordered by name.
pub async fn list(
    conn: &mut AnyConnection,
    f: &ProductFilter,
) -> Result<Vec<(Product, ProductVersion, Option<ProductVersion>)>> {
    let mut cond = Vec::new();
    if f.insurer_id.is_some() {
        cond.push("p.insurer_id = $1".to_owned());
    }
    if f.published_only {
        cond.push("p.public_version IS NOT NULL".to_owned());
    }
    let clause = if cond.is_empty() { String::new() } else { format!("WHERE {}", cond.join(" AND ")) };
    let sql = format!(
        "SELECT {PRODUCT_COLS} FROM products p JOIN organisations o ON o.id = p.insurer_id {clause} \
         ORDER BY p.name, p.id"
    );
    let mut q = sqlx::query(&sql);
    if let Some(i) = &f.insurer_id {
        q = q.bind(i.clone());
    }
    let products = q.fetch_all(&mut *conn).await?.iter().map(product_row).collect::<Result<Vec<_>>>()?;
    let vsql = format!(
        "SELECT {VERSION_COLS} FROM product_versions v JOIN products p ON p.id = v.product_id {clause} \
         ORDER BY v.product_id, v.version DESC"
    );
    let mut q = sqlx::query(&vsql);
    if let Some(i) = &f.insurer_id {
        q = q.bind(i.clone());
    }
    let mut all: std::collections::HashMap<String, Vec<ProductVersion>> = std::collections::HashMap::new();
    for r in q.fetch_all(&mut *conn).await? {
        let v = version_row(&r)?;
        all.entry(v.product_id.clone()).or_default().push(v);
    }
    let mut out = Vec::with_capacity(products.len());
    for p in products {
        let vs = all.remove(&p.id).unwrap_or_default();
        let public = p.public_version.and_then(|pv| vs.iter().find(|v| v.version == pv).cloned());
        if let Some(newest) = vs.into_iter().next() {
            out.push((p, newest, public));
        }
    }
    Ok(out)
}

/// Versions waiting for (or back from) review, oldest submission first.
pub async fn review_queue(conn: &mut AnyConnection) -> Result<Vec<(Product, ProductVersion)>> {
    let sql = format!(
        "SELECT {PRODUCT_COLS}, {VERSION_COLS} FROM product_versions v JOIN products p ON p.id = v.product_id \
         JOIN organisations o ON o.id = p.insurer_id WHERE v.status IN ('in_review', 'changes_requested') \
         ORDER BY v.submitted_at_us, p.id"
    );
    let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((product_row(r)?, version_row(r)?))).collect()
}

/// Counts of versions by status (dashboards).
pub async fn count_by_status(conn: &mut AnyConnection) -> Result<Vec<(String, u64)>> {
    let rows = sqlx::query(
        "SELECT status, CAST(COUNT(*) AS BIGINT) AS n FROM product_versions GROUP BY status ORDER BY status",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("status")?, u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0))))
        .collect()
}

// ---------------------------------------------------------------------------
// Comments

/// Adds a comment.
pub async fn insert_comment(conn: &mut AnyConnection, c: &ReviewComment) -> Result<()> {
    sqlx::query(
        "INSERT INTO product_comments (id, product_id, version, author, author_name, kind, body, created_at_us) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.id)
    .bind(&c.product_id)
    .bind(c.version)
    .bind(&c.author)
    .bind(&c.author_name)
    .bind(&c.kind)
    .bind(&c.body)
    .bind(c.created_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A product's comments, oldest first.
pub async fn comments(conn: &mut AnyConnection, product_id: &str) -> Result<Vec<ReviewComment>> {
    let rows = sqlx::query(
        "SELECT id, product_id, version, author, author_name, kind, body, created_at_us FROM product_comments \
         WHERE product_id = $1 ORDER BY created_at_us, id",
    )
    .bind(product_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ReviewComment {
                id: r.try_get("id")?,
                product_id: r.try_get("product_id")?,
                version: r.try_get("version")?,
                author: r.try_get("author")?,
                author_name: r.try_get("author_name")?,
                kind: r.try_get("kind")?,
                body: r.try_get("body")?,
                created_at_us: r.try_get("created_at_us")?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Search

/// Indexes a published product's token text (replacing what was there).
pub async fn index_product(
    conn: &mut AnyConnection,
    product_id: &str,
    terms: &str,
    backend: Backend,
) -> Result<()> {
    unindex_product(conn, product_id).await?;
    let _ = backend;
    sqlx::query("INSERT INTO product_search (product_id, terms) VALUES ($1, $2)")
        .bind(product_id)
        .bind(terms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes a product from the search index.
pub async fn unindex_product(conn: &mut AnyConnection, product_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM product_search WHERE product_id = $1")
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Products matching every phrase (each a sequence of adjacent tokens), best first.
pub async fn search(
    conn: &mut AnyConnection,
    phrases: &[Vec<String>],
    backend: Backend,
) -> Result<Vec<String>> {
    if phrases.is_empty() {
        return Ok(Vec::new());
    }
    // Tokens hold only letters, digits and CJK characters (kebao_domain::search), so
    // quoting them cannot break out of the query syntax; quotes are stripped regardless.
    let clean = |t: &String| t.chars().filter(|c| c.is_alphanumeric()).collect::<String>();
    let (sql, query) = match backend {
        Backend::Sqlite => {
            let q = phrases
                .iter()
                .map(|p| format!("\"{}\"", p.iter().map(clean).collect::<Vec<_>>().join(" ")))
                .collect::<Vec<_>>()
                .join(" AND ");
            ("SELECT product_id FROM product_search WHERE product_search MATCH $1 ORDER BY rank", q)
        }
        Backend::Postgres => {
            let q = phrases
                .iter()
                .map(|p| {
                    format!(
                        "({})",
                        p.iter().map(|t| format!("'{}'", clean(t))).collect::<Vec<_>>().join(" <-> ")
                    )
                })
                .collect::<Vec<_>>()
                .join(" & ");
            (
                "SELECT product_id FROM product_search, to_tsquery('simple', $1) q WHERE tsv @@ q \
                 ORDER BY ts_rank(tsv, q) DESC, product_id",
                q,
            )
        }
    };
    let rows = sqlx::query(sql).bind(query).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| r.try_get("product_id").map_err(StoreError::from)).collect()
}

// ---------------------------------------------------------------------------
// Articles

const ARTICLE_COLS: &str =
    "id, kind, title, body_md, status, author, author_name, created_at_us, updated_at_us, published_at_us";

fn article_row(r: &AnyRow) -> Result<Article> {
    let kind: String = r.try_get("kind")?;
    Ok(Article {
        id: r.try_get("id")?,
        kind: ArticleKind::from_code(&kind).ok_or_else(|| bad("kind", &kind))?,
        title: r.try_get("title")?,
        body_md: r.try_get("body_md")?,
        status: r.try_get("status")?,
        author: r.try_get("author")?,
        author_name: r.try_get("author_name")?,
        created_at_us: r.try_get("created_at_us")?,
        updated_at_us: r.try_get("updated_at_us")?,
        published_at_us: r.try_get("published_at_us")?,
    })
}

/// Inserts or replaces an article.
pub async fn put_article(conn: &mut AnyConnection, a: &Article) -> Result<()> {
    sqlx::query("DELETE FROM articles WHERE id = $1").bind(&a.id).execute(&mut *conn).await?;
    sqlx::query(&format!(
        "INSERT INTO articles ({ARTICLE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&a.id)
    .bind(a.kind.code())
    .bind(&a.title)
    .bind(&a.body_md)
    .bind(&a.status)
    .bind(&a.author)
    .bind(&a.author_name)
    .bind(a.created_at_us)
    .bind(a.updated_at_us)
    .bind(a.published_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An article.
pub async fn get_article(conn: &mut AnyConnection, id: &str) -> Result<Article> {
    let sql = format!("SELECT {ARTICLE_COLS} FROM articles WHERE id = $1");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    article_row(&r)
}

/// Articles, newest first; only published ones unless `drafts`.
pub async fn articles(
    conn: &mut AnyConnection,
    kind: Option<ArticleKind>,
    drafts: bool,
) -> Result<Vec<Article>> {
    let mut cond = Vec::new();
    if !drafts {
        cond.push("status = 'published'".to_owned());
    }
    if kind.is_some() {
        cond.push("kind = $1".to_owned());
    }
    let clause = if cond.is_empty() { String::new() } else { format!("WHERE {}", cond.join(" AND ")) };
    let sql = format!(
        "SELECT {ARTICLE_COLS} FROM articles {clause} ORDER BY COALESCE(published_at_us, updated_at_us) DESC, id"
    );
    let mut q = sqlx::query(&sql);
    if let Some(k) = kind {
        q = q.bind(k.code());
    }
    q.fetch_all(&mut *conn).await?.iter().map(article_row).collect()
}

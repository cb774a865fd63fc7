//! What the retention rules remove, and the list of what they removed.

use crate::{Result, StoreError};
use sqlx::{AnyConnection, Row};

/// One erasure, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub id: String,
    /// The rule's id (`data/retention.toml`).
    pub rule: String,
    /// `external_record` or `consent`.
    pub subject_kind: String,
    pub subject_id: String,
    /// The organisation the data was about.
    pub org_id: Option<String>,
    /// The fields erased (comma-separated), or `*` for the whole record.
    pub fields: String,
    pub at_us: i64,
    /// The retention job that erased it, or
    pub job_id: Option<String>,
    /// the granted deletion request it was erased under.
    pub request_id: Option<String>,
}

/// Records one erasure.
pub async fn record(conn: &mut AnyConnection, e: &Erasure) -> Result<()> {
    sqlx::query(
        "INSERT INTO erasures (id, rule, subject_kind, subject_id, org_id, fields, at_us, job_id, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&e.id)
    .bind(&e.rule)
    .bind(&e.subject_kind)
    .bind(&e.subject_id)
    .bind(e.org_id.clone())
    .bind(&e.fields)
    .bind(e.at_us)
    .bind(e.job_id.clone())
    .bind(e.request_id.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The newest erasures first, with the name of the organisation the data was about.
pub async fn list(conn: &mut AnyConnection, limit: u32) -> Result<Vec<(Erasure, Option<String>)>> {
    let rows = sqlx::query(
        "SELECT e.id, e.rule, e.subject_kind, e.subject_id, e.org_id, e.fields, e.at_us, e.job_id, e.request_id, o.name \
         FROM erasures e LEFT JOIN organisations o ON o.id = e.org_id ORDER BY e.at_us DESC, e.id DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                Erasure {
                    id: r.try_get("id")?,
                    rule: r.try_get("rule")?,
                    subject_kind: r.try_get("subject_kind")?,
                    subject_id: r.try_get("subject_id")?,
                    org_id: crate::opt_text(r, "org_id")?,
                    fields: r.try_get("fields")?,
                    at_us: r.try_get("at_us")?,
                    job_id: crate::opt_text(r, "job_id")?,
                    request_id: crate::opt_text(r, "request_id")?,
                },
                crate::opt_text(r, "name")?,
            ))
        })
        .collect()
}

/// External records of `kinds` whose event ended on or before `ended_through` (`YYYY-MM-DD`):
/// (id, organisation), at most `limit`.
pub async fn negative_records_due(
    conn: &mut AnyConnection,
    kinds: &[String],
    ended_through: &str,
    limit: u32,
) -> Result<Vec<(String, String)>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT id, org_id FROM external_records WHERE ended_on IS NOT NULL AND ended_on <= $1 \
         AND kind IN ({}) ORDER BY ended_on, id LIMIT $2",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(ended_through).bind(i64::from(limit));
    for k in kinds {
        q = q.bind(k);
    }
    q.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("org_id")?)))
        .collect::<Result<Vec<_>>>()
}

/// Deletes an external record; false if it is gone already.
pub async fn delete_record(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM external_records WHERE id = $1").bind(id).execute(&mut *conn).await?;
    Ok(r.rows_affected() == 1)
}

/// Personal consents revoked before `revoked_before_us`, or unrevoked and expired on or before
/// `expired_through`, whose personal fields are not erased yet: (id, enterprise, evidence
/// hash), at most `limit`.
pub async fn consents_due(
    conn: &mut AnyConnection,
    revoked_before_us: i64,
    expired_through: &str,
    limit: u32,
) -> Result<Vec<(String, String, String)>> {
    sqlx::query(
        "SELECT id, enterprise_id, evidence_sha256 FROM consents WHERE kind = 'personal' AND erased_at_us IS NULL \
         AND ((revoked_at_us IS NOT NULL AND revoked_at_us < $1) OR (revoked_at_us IS NULL AND expires_on <= $2)) \
         ORDER BY created_at_us, id LIMIT $3",
    )
    .bind(revoked_before_us)
    .bind(expired_through)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("enterprise_id")?, r.try_get("evidence_sha256")?)))
    .collect()
}

/// Erases a consent's personal fields (the signer's and the person's names); false if they
/// were erased already.
pub async fn anonymise_consent(conn: &mut AnyConnection, id: &str, at_us: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE consents SET signer_name = '', person_name = NULL, evidence_file_name = 'document', erased_at_us = $2 \
         WHERE id = $1 AND erased_at_us IS NULL",
    )
    .bind(id)
    .bind(at_us)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Erases a document's content (its hash and size stay: the event log commits to the hash),
/// unless another attachment than `owner`'s, or a consent not yet erased, still uses it.
/// Returns whether the content was erased.
pub async fn erase_blob_of(
    conn: &mut AnyConnection,
    sha256: &str,
    owner_kind: &str,
    owner_id: &str,
) -> Result<bool> {
    let others: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM attachments WHERE sha256 = $1 AND NOT (owner_kind = $2 AND owner_id = $3)) \
         + (SELECT COUNT(*) FROM consents WHERE evidence_sha256 = $1 AND erased_at_us IS NULL AND id <> $3) AS n",
    )
    .bind(sha256)
    .bind(owner_kind)
    .bind(owner_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")
    .map_err(StoreError::from)?;
    if others > 0 {
        return Ok(false);
    }
    let r = sqlx::query("UPDATE blobs SET content = $2 WHERE sha256 = $1")
        .bind(sha256)
        .bind(Vec::<u8>::new())
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Deactivated users whose deactivation was before `before_us` and whose password hash is
/// not erased yet: (id, organisation), at most `limit`.
pub async fn users_due(
    conn: &mut AnyConnection,
    before_us: i64,
    limit: u32,
) -> Result<Vec<(String, String)>> {
    sqlx::query(
        "SELECT id, org_id FROM users WHERE active = 0 AND deactivated_at_us IS NOT NULL AND deactivated_at_us < $1 \
         AND password_hash <> $2 ORDER BY deactivated_at_us, id LIMIT $3",
    )
    .bind(before_us)
    .bind(ERASED_PASSWORD)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("org_id")?)))
    .collect()
}

/// What an erased password hash is replaced by: no password verifies against it.
pub const ERASED_PASSWORD: &str = "!erased";

/// Erases a deactivated user's password hash; false if it was erased already or the user is
/// active again.
pub async fn erase_password(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE users SET password_hash = $2 WHERE id = $1 AND active = 0 AND password_hash <> $2",
    )
    .bind(id)
    .bind(ERASED_PASSWORD)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes up to `limit` sign-in attempts made before `before_us`; returns how many.
pub async fn delete_sign_in_attempts(conn: &mut AnyConnection, before_us: i64, limit: u32) -> Result<u64> {
    let r = sqlx::query(
        "DELETE FROM login_attempts WHERE id IN (SELECT id FROM login_attempts WHERE at_us < $1 ORDER BY at_us LIMIT $2)",
    )
    .bind(before_us)
    .bind(i64::from(limit))
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

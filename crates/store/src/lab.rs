//! The risk lab's model registry (C9).

use crate::{opt_text, Result};
use sqlx::{AnyConnection, Row};

/// A stored model version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRow {
    pub id: String,
    pub owner_org_id: String,
    /// `glm` or `scorecard`.
    pub kind: String,
    pub name: String,
    pub version: i64,
    /// The model file as uploaded (JSON).
    pub document: String,
    pub sha256: String,
    /// `submitted`, `approved` or `retired`.
    pub status: String,
    pub uploaded_by: String,
    pub uploaded_at_us: i64,
    pub approved_by: Option<String>,
    pub approved_at_us: Option<i64>,
    pub retired_by: Option<String>,
    pub retired_at_us: Option<i64>,
    /// For a model fitted in the platform: the extract it learnt from and that file's SHA-256.
    pub extract_id: Option<String>,
    pub training_sha256: Option<String>,
    /// Its validation on a held-out sample (JSON, the service's shape).
    pub validation: Option<String>,
}

const COLS: &str =
    "id, owner_org_id, kind, name, version, document, sha256, status, uploaded_by, uploaded_at_us, \
     approved_by, approved_at_us, retired_by, retired_at_us, extract_id, training_sha256, validation";
const LIST_COLS: &str =
    "id, owner_org_id, kind, name, version, '' AS document, sha256, status, uploaded_by, \
     uploaded_at_us, approved_by, approved_at_us, retired_by, retired_at_us, extract_id, \
     training_sha256, '' AS validation";

fn row(r: &sqlx::any::AnyRow) -> Result<ModelRow> {
    Ok(ModelRow {
        id: r.try_get("id")?,
        owner_org_id: r.try_get("owner_org_id")?,
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        version: r.try_get("version")?,
        document: r.try_get("document")?,
        sha256: r.try_get("sha256")?,
        status: r.try_get("status")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at_us: r.try_get("uploaded_at_us")?,
        approved_by: opt_text(r, "approved_by")?,
        approved_at_us: r.try_get("approved_at_us")?,
        retired_by: opt_text(r, "retired_by")?,
        retired_at_us: r.try_get("retired_at_us")?,
        extract_id: opt_text(r, "extract_id")?,
        training_sha256: opt_text(r, "training_sha256")?,
        validation: opt_text(r, "validation")?.filter(|v| !v.is_empty()),
    })
}

/// The next version number of an owner's model of that kind and name.
pub async fn next_version(conn: &mut AnyConnection, owner: &str, kind: &str, name: &str) -> Result<i64> {
    let n: Option<i64> = sqlx::query(
        "SELECT CAST(MAX(version) AS BIGINT) AS v FROM lab_models WHERE owner_org_id = $1 AND kind = $2 AND name = $3",
    )
    .bind(owner)
    .bind(kind)
    .bind(name)
    .fetch_one(&mut *conn)
    .await?
    .try_get("v")?;
    Ok(n.unwrap_or(0) + 1)
}

/// Stores a new model version.
pub async fn insert(conn: &mut AnyConnection, m: &ModelRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO lab_models ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&m.id)
    .bind(&m.owner_org_id)
    .bind(&m.kind)
    .bind(&m.name)
    .bind(m.version)
    .bind(&m.document)
    .bind(&m.sha256)
    .bind(&m.status)
    .bind(&m.uploaded_by)
    .bind(m.uploaded_at_us)
    .bind(&m.approved_by)
    .bind(m.approved_at_us)
    .bind(&m.retired_by)
    .bind(m.retired_at_us)
    .bind(&m.extract_id)
    .bind(&m.training_sha256)
    .bind(&m.validation)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One model, with its document.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<ModelRow> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM lab_models WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    r.as_ref().map(row).transpose()?.ok_or(crate::StoreError::NotFound)
}

/// Models, newest first, of one owner or of all (documents left out).
pub async fn list(conn: &mut AnyConnection, owner: Option<&str>) -> Result<Vec<ModelRow>> {
    let rows = match owner {
        Some(o) => {
            sqlx::query(&format!(
                "SELECT {LIST_COLS} FROM lab_models WHERE owner_org_id = $1 ORDER BY uploaded_at_us DESC, id"
            ))
            .bind(o)
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(&format!("SELECT {LIST_COLS} FROM lab_models ORDER BY uploaded_at_us DESC, id"))
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(row).collect()
}

/// Moves a model from `from` to `to`, recording who and when; false when it was not in `from`
/// (another step came first).
pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    by: &str,
    at_us: i64,
) -> Result<bool> {
    let sql = match to {
        "approved" => "UPDATE lab_models SET status = $1, approved_by = $2, approved_at_us = $3 WHERE id = $4 AND status = $5",
        _ => "UPDATE lab_models SET status = $1, retired_by = $2, retired_at_us = $3 WHERE id = $4 AND status = $5",
    };
    let done = sqlx::query(sql).bind(to).bind(by).bind(at_us).bind(id).bind(from).execute(&mut *conn).await?;
    Ok(done.rows_affected() == 1)
}

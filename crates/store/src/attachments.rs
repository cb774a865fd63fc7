//! Attachments: the files of product versions, claims, subsidy applications and consents,
//! in one table over the content-addressed `blobs`.

use crate::{bad_value, Backend, Result, StoreError};
use kebao_domain::attachment::{Attachment, Owner, OwnerKind};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str = "id, owner_kind, owner_id, owner_version, file_name, media_type, sha256, size, \
    uploaded_by, uploaded_at_us, label";

fn row(r: &AnyRow) -> Result<Attachment> {
    let kind: String = r.try_get("owner_kind")?;
    let kind = OwnerKind::from_code(&kind).ok_or_else(|| bad_value("owner_kind", &kind))?;
    let version: Option<i64> = r.try_get("owner_version")?;
    if (kind == OwnerKind::ProductVersion) != version.is_some() {
        return Err(bad_value("owner_version", &format!("{version:?} for {kind}")));
    }
    Ok(Attachment {
        id: r.try_get("id")?,
        owner: Owner { kind, id: r.try_get("owner_id")?, version },
        file_name: r.try_get("file_name")?,
        media_type: r.try_get("media_type")?,
        sha256: r.try_get("sha256")?,
        size: r.try_get("size")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at_us: r.try_get("uploaded_at_us")?,
        label: r.try_get("label")?,
    })
}

/// Stores a body once per content hash.
pub async fn insert_blob(
    conn: &mut AnyConnection,
    sha256: &str,
    body: &[u8],
    backend: Backend,
) -> Result<()> {
    let sql = match backend {
        Backend::Sqlite => "INSERT OR IGNORE INTO blobs (sha256, size, content) VALUES ($1, $2, $3)",
        Backend::Postgres => {
            "INSERT INTO blobs (sha256, size, content) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        }
    };
    let size = i64::try_from(body.len()).map_err(|_| StoreError::Other("blob size".into()))?;
    sqlx::query(sql).bind(sha256).bind(size).bind(body.to_vec()).execute(&mut *conn).await?;
    Ok(())
}

/// Stores an attachment and its body (the body once per content hash).
pub async fn insert(conn: &mut AnyConnection, a: &Attachment, body: &[u8], backend: Backend) -> Result<()> {
    insert_blob(conn, &a.sha256, body, backend).await?;
    insert_row(conn, a).await
}

async fn insert_row(conn: &mut AnyConnection, a: &Attachment) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO attachments ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&a.id)
    .bind(a.owner.kind.code())
    .bind(&a.owner.id)
    .bind(a.owner.version)
    .bind(&a.file_name)
    .bind(&a.media_type)
    .bind(&a.sha256)
    .bind(a.size)
    .bind(&a.uploaded_by)
    .bind(a.uploaded_at_us)
    .bind(&a.label)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An owner's attachments, oldest first.
pub async fn of_owner(conn: &mut AnyConnection, owner: &Owner) -> Result<Vec<Attachment>> {
    let rows = match owner.version {
        Some(v) => {
            let sql = format!(
                "SELECT {COLS} FROM attachments WHERE owner_kind = $1 AND owner_id = $2 AND owner_version = $3 \
                 ORDER BY uploaded_at_us, id"
            );
            sqlx::query(&sql).bind(owner.kind.code()).bind(&owner.id).bind(v).fetch_all(&mut *conn).await?
        }
        None => {
            let sql = format!(
                "SELECT {COLS} FROM attachments WHERE owner_kind = $1 AND owner_id = $2 AND owner_version IS NULL \
                 ORDER BY uploaded_at_us, id"
            );
            sqlx::query(&sql).bind(owner.kind.code()).bind(&owner.id).fetch_all(&mut *conn).await?
        }
    };
    rows.iter().map(row).collect()
}

/// How many attachments an owner has.
pub async fn count(conn: &mut AnyConnection, owner: &Owner) -> Result<usize> {
    Ok(of_owner(conn, owner).await?.len())
}

/// One attachment (without its body).
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Attachment> {
    let sql = format!("SELECT {COLS} FROM attachments WHERE id = $1");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    row(&r)
}

/// One attachment with its body.
pub async fn get_with_body(conn: &mut AnyConnection, id: &str) -> Result<(Attachment, Vec<u8>)> {
    let a = get(conn, id).await?;
    let r = sqlx::query("SELECT content FROM blobs WHERE sha256 = $1")
        .bind(&a.sha256)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let body: Vec<u8> = r.try_get("content")?;
    Ok((a, body))
}

/// Copies one owner's attachment list onto another (new ids; the bodies are shared): a new
/// product version starts with the documents of the one it was copied from.
pub async fn copy(
    conn: &mut AnyConnection,
    from: &Owner,
    to: &Owner,
    new_ids: &(dyn Fn() -> String + Send + Sync),
) -> Result<()> {
    for a in of_owner(conn, from).await? {
        insert_row(conn, &Attachment { id: new_ids(), owner: to.clone(), ..a }).await?;
    }
    Ok(())
}

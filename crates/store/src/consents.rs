//! Consents, external credit records and signed tree heads.

use crate::{opt_text, Result, StoreError};
use kebao_domain::consent::{Consent, ConsentKind, DataClass, DataScope, PersonRole, Purpose};
use kebao_domain::event::{EventRecord, Hash32};
use kebao_domain::merkle::TreeHead;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

fn bad(col: &str, v: &str) -> StoreError {
    StoreError::Other(format!("stored `{col}` has an unknown value `{v}`"))
}

fn day(row: &AnyRow, col: &str) -> Result<Date> {
    let s: String = row.try_get(col)?;
    Date::parse(&s, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| bad(col, &s))
}

/// The evidence file of a consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub file_name: String,
    pub media_type: String,
}

const CONSENT_COLS: &str = "id, enterprise_id, grantee_id, kind, scopes, purpose, valid_from, expires_on, \
    signer_name, signer_title, person_name, person_role, evidence_sha256, evidence_document_id, \
    evidence_file_name, evidence_media_type, revoked_at_us, created_at_us, created_by";

fn consent_row(r: &AnyRow) -> Result<(Consent, Evidence)> {
    let kind: String = r.try_get("kind")?;
    let purpose: String = r.try_get("purpose")?;
    let scopes: String = r.try_get("scopes")?;
    let role = opt_text(r, "person_role")?;
    let c = Consent {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        grantee_id: r.try_get("grantee_id")?,
        kind: ConsentKind::from_code(&kind).ok_or_else(|| bad("kind", &kind))?,
        scopes: scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| DataScope::from_code(s).ok_or_else(|| bad("scopes", s)))
            .collect::<Result<Vec<_>>>()?,
        purpose: Purpose::from_code(&purpose).ok_or_else(|| bad("purpose", &purpose))?,
        valid_from: day(r, "valid_from")?,
        expires_on: day(r, "expires_on")?,
        signer_name: r.try_get("signer_name")?,
        signer_title: r.try_get("signer_title")?,
        person_name: opt_text(r, "person_name")?,
        person_role: match role {
            None => None,
            Some(s) => Some(PersonRole::from_code(&s).ok_or_else(|| bad("person_role", &s))?),
        },
        evidence_sha256: r.try_get("evidence_sha256")?,
        evidence_document_id: r.try_get("evidence_document_id")?,
        revoked_at_us: r.try_get("revoked_at_us")?,
        created_at_us: r.try_get("created_at_us")?,
        created_by: r.try_get("created_by")?,
    };
    let e = Evidence {
        file_name: r.try_get("evidence_file_name")?,
        media_type: r.try_get("evidence_media_type")?,
    };
    Ok((c, e))
}

/// Stores a consent (its evidence file is stored first, as an attachment owned by it:
/// `crate::attachments::insert`).
pub async fn insert(conn: &mut AnyConnection, c: &Consent, evidence: &Evidence) -> Result<()> {
    let scopes = c.scopes.iter().map(|s| s.code()).collect::<Vec<_>>().join(",");
    sqlx::query(&format!(
        "INSERT INTO consents ({CONSENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18, $19)"
    ))
    .bind(&c.id)
    .bind(&c.enterprise_id)
    .bind(&c.grantee_id)
    .bind(c.kind.code())
    .bind(scopes)
    .bind(c.purpose.code())
    .bind(c.valid_from.to_string())
    .bind(c.expires_on.to_string())
    .bind(&c.signer_name)
    .bind(&c.signer_title)
    .bind(c.person_name.clone())
    .bind(c.person_role.map(|r| r.code().to_owned()))
    .bind(&c.evidence_sha256)
    .bind(&c.evidence_document_id)
    .bind(&evidence.file_name)
    .bind(&evidence.media_type)
    .bind(c.revoked_at_us)
    .bind(c.created_at_us)
    .bind(&c.created_by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A consent.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<(Consent, Evidence)> {
    let sql = format!("SELECT {CONSENT_COLS} FROM consents WHERE id = $1");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    consent_row(&r)
}

/// Consents an enterprise gave (newest first).
pub async fn for_enterprise(
    conn: &mut AnyConnection,
    enterprise_id: &str,
) -> Result<Vec<(Consent, Evidence)>> {
    let sql = format!(
        "SELECT {CONSENT_COLS} FROM consents WHERE enterprise_id = $1 ORDER BY created_at_us DESC, id"
    );
    sqlx::query(&sql).bind(enterprise_id).fetch_all(&mut *conn).await?.iter().map(consent_row).collect()
}

/// Consents given to an organisation (newest first).
pub async fn for_grantee(conn: &mut AnyConnection, grantee_id: &str) -> Result<Vec<(Consent, Evidence)>> {
    let sql =
        format!("SELECT {CONSENT_COLS} FROM consents WHERE grantee_id = $1 ORDER BY created_at_us DESC, id");
    sqlx::query(&sql).bind(grantee_id).fetch_all(&mut *conn).await?.iter().map(consent_row).collect()
}

/// Consents from one enterprise to one organisation.
pub async fn between(
    conn: &mut AnyConnection,
    enterprise_id: &str,
    grantee_id: &str,
) -> Result<Vec<Consent>> {
    let sql = format!(
        "SELECT {CONSENT_COLS} FROM consents WHERE enterprise_id = $1 AND grantee_id = $2 ORDER BY created_at_us DESC, id"
    );
    sqlx::query(&sql)
        .bind(enterprise_id)
        .bind(grantee_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| consent_row(r).map(|(c, _)| c))
        .collect()
}

/// Marks a consent revoked (once).
pub async fn revoke(conn: &mut AnyConnection, id: &str, at_us: i64) -> Result<()> {
    let n = sqlx::query("UPDATE consents SET revoked_at_us = $1 WHERE id = $2 AND revoked_at_us IS NULL")
        .bind(at_us)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("consents.revoked_at_us".into()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// External records

/// A record from an external credit source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRecord {
    pub id: String,
    pub org_id: String,
    pub source: String,
    pub kind: String,
    pub scope: DataScope,
    pub class: DataClass,
    pub title: String,
    pub detail: String,
    pub occurred_on: String,
    pub person_name: Option<String>,
    pub batch_id: String,
    pub imported_at_us: i64,
    /// The day the event ended, when the source says.
    pub ended_on: Option<String>,
}

/// Stores records (the caller's transaction makes a batch all-or-nothing).
pub async fn insert_records(conn: &mut AnyConnection, rows: &[ExternalRecord]) -> Result<()> {
    for r in rows {
        sqlx::query(
            "INSERT INTO external_records (id, org_id, source, kind, scope, data_class, title, detail, occurred_on, \
             person_name, batch_id, imported_at_us, ended_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&r.id)
        .bind(&r.org_id)
        .bind(&r.source)
        .bind(&r.kind)
        .bind(r.scope.code())
        .bind(r.class.code())
        .bind(&r.title)
        .bind(&r.detail)
        .bind(&r.occurred_on)
        .bind(r.person_name.clone())
        .bind(&r.batch_id)
        .bind(r.imported_at_us)
        .bind(r.ended_on.clone())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// An organisation's records in one scope, newest first.
pub async fn records(
    conn: &mut AnyConnection,
    org_id: &str,
    scope: DataScope,
) -> Result<Vec<ExternalRecord>> {
    let rows = sqlx::query(
        "SELECT id, org_id, source, kind, scope, data_class, title, detail, occurred_on, person_name, batch_id, \
         imported_at_us, ended_on FROM external_records WHERE org_id = $1 AND scope = $2 ORDER BY occurred_on DESC, id",
    )
    .bind(org_id)
    .bind(scope.code())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let scope: String = r.try_get("scope")?;
            let class: String = r.try_get("data_class")?;
            Ok(ExternalRecord {
                id: r.try_get("id")?,
                org_id: r.try_get("org_id")?,
                source: r.try_get("source")?,
                kind: r.try_get("kind")?,
                scope: DataScope::from_code(&scope).ok_or_else(|| bad("scope", &scope))?,
                class: DataClass::from_code(&class).ok_or_else(|| bad("data_class", &class))?,
                title: r.try_get("title")?,
                detail: r.try_get("detail")?,
                occurred_on: r.try_get("occurred_on")?,
                person_name: opt_text(r, "person_name")?,
                batch_id: r.try_get("batch_id")?,
                imported_at_us: r.try_get("imported_at_us")?,
                ended_on: opt_text(r, "ended_on")?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Signed tree heads

/// A signed tree head as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    pub head: TreeHead,
    pub signature: [u8; 64],
    pub public_key: [u8; 32],
}

fn head_row(r: &AnyRow) -> Result<SignedHead> {
    let size: i64 = r.try_get("tree_size")?;
    let root: String = r.try_get("root_hash")?;
    let sig: String = r.try_get("signature")?;
    let key: String = r.try_get("public_key")?;
    let mut signature = [0u8; 64];
    hex::decode_to_slice(&sig, &mut signature).map_err(|_| bad("signature", &sig))?;
    let mut public_key = [0u8; 32];
    hex::decode_to_slice(&key, &mut public_key).map_err(|_| bad("public_key", &key))?;
    Ok(SignedHead {
        head: TreeHead {
            tree_size: u64::try_from(size).map_err(|_| bad("tree_size", &size.to_string()))?,
            root_hash: Hash32::from_hex(&root).ok_or_else(|| bad("root_hash", &root))?,
            timestamp_us: r.try_get("timestamp_us")?,
        },
        signature,
        public_key,
    })
}

/// Stores a signed tree head (one per tree size).
pub async fn insert_head(conn: &mut AnyConnection, h: &SignedHead) -> Result<()> {
    sqlx::query(
        "INSERT INTO tree_heads (tree_size, root_hash, timestamp_us, signature, public_key) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(i64::try_from(h.head.tree_size).unwrap_or(i64::MAX))
    .bind(h.head.root_hash.to_hex())
    .bind(h.head.timestamp_us)
    .bind(hex::encode(h.signature))
    .bind(hex::encode(h.public_key))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The newest signed tree heads, largest first.
pub async fn heads(conn: &mut AnyConnection, limit: u32) -> Result<Vec<SignedHead>> {
    let rows = sqlx::query(
        "SELECT tree_size, root_hash, timestamp_us, signature, public_key FROM tree_heads ORDER BY tree_size DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(head_row).collect()
}

/// The signed head of exactly this size.
pub async fn head_of_size(conn: &mut AnyConnection, size: u64) -> Result<Option<SignedHead>> {
    let r = sqlx::query(
        "SELECT tree_size, root_hash, timestamp_us, signature, public_key FROM tree_heads WHERE tree_size = $1",
    )
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .fetch_optional(&mut *conn)
    .await?;
    r.as_ref().map(head_row).transpose()
}

/// Every event's leaf hash after `after` (in order), at most `limit`.
pub async fn leaf_hashes(conn: &mut AnyConnection, after: u64, limit: u32) -> Result<Vec<Hash32>> {
    let page = crate::events::page(conn, after, limit).await?;
    Ok(page.iter().map(EventRecord::leaf_hash).collect())
}

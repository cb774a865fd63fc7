//! Disputes.

use crate::{Result, StoreError};
use kebao_domain::dispute::{DisputeStatus, Forum};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A mediation session: when, and what was said or agreed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Session {
    pub on: String,
    pub notes: String,
}

/// A dispute as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeRow {
    pub id: String,
    pub claim_id: String,
    pub enterprise_id: String,
    pub insurer_id: String,
    pub complaint: String,
    pub status: DisputeStatus,
    pub mediator: Option<String>,
    pub mediator_org: Option<String>,
    pub sessions: Vec<Session>,
    pub outcome: Option<String>,
    pub forum: Option<Forum>,
    pub complained_on: String,
    pub accepted_on: Option<String>,
    pub concluded_on: Option<String>,
    pub created_at_us: i64,
}

const COLS: &str =
    "id, claim_id, enterprise_id, insurer_id, complaint, status, mediator, mediator_org, sessions, outcome, \
    forum, complained_on, accepted_on, concluded_on, created_at_us";

fn row(r: &AnyRow) -> Result<DisputeRow> {
    let status: String = r.try_get("status")?;
    let sessions: String = r.try_get("sessions")?;
    let forum = crate::opt_text(r, "forum")?;
    Ok(DisputeRow {
        id: r.try_get("id")?,
        claim_id: r.try_get("claim_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        insurer_id: r.try_get("insurer_id")?,
        complaint: r.try_get("complaint")?,
        status: DisputeStatus::from_code(&status)
            .ok_or_else(|| StoreError::Other(format!("dispute status `{status}`")))?,
        mediator: crate::opt_text(r, "mediator")?,
        mediator_org: crate::opt_text(r, "mediator_org")?,
        sessions: serde_json::from_str(&sessions).map_err(|e| StoreError::Other(e.to_string()))?,
        outcome: crate::opt_text(r, "outcome")?,
        forum: match forum {
            None => None,
            Some(f) => Some(Forum::from_code(&f).ok_or_else(|| StoreError::Other(format!("forum `{f}`")))?),
        },
        complained_on: r.try_get("complained_on")?,
        accepted_on: crate::opt_text(r, "accepted_on")?,
        concluded_on: crate::opt_text(r, "concluded_on")?,
        created_at_us: r.try_get("created_at_us")?,
    })
}

/// Stores a new dispute.
pub async fn insert(conn: &mut AnyConnection, d: &DisputeRow) -> Result<()> {
    let sessions = serde_json::to_string(&d.sessions).map_err(|e| StoreError::Other(e.to_string()))?;
    sqlx::query(&format!("INSERT INTO disputes ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"))
        .bind(&d.id)
        .bind(&d.claim_id)
        .bind(&d.enterprise_id)
        .bind(&d.insurer_id)
        .bind(&d.complaint)
        .bind(d.status.code())
        .bind(d.mediator.clone())
        .bind(d.mediator_org.clone())
        .bind(sessions)
        .bind(d.outcome.clone())
        .bind(d.forum.map(|f| f.code().to_owned()))
        .bind(&d.complained_on)
        .bind(d.accepted_on.clone())
        .bind(d.concluded_on.clone())
        .bind(d.created_at_us)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes a dispute back; `Conflict` when its status changed meanwhile.
pub async fn update(conn: &mut AnyConnection, d: &DisputeRow, expected: DisputeStatus) -> Result<()> {
    let sessions = serde_json::to_string(&d.sessions).map_err(|e| StoreError::Other(e.to_string()))?;
    let n = sqlx::query(
        "UPDATE disputes SET status = $1, mediator = $2, mediator_org = $3, sessions = $4, outcome = $5, forum = $6, \
         accepted_on = $7, concluded_on = $8 WHERE id = $9 AND status = $10",
    )
    .bind(d.status.code())
    .bind(d.mediator.clone())
    .bind(d.mediator_org.clone())
    .bind(sessions)
    .bind(d.outcome.clone())
    .bind(d.forum.map(|f| f.code().to_owned()))
    .bind(d.accepted_on.clone())
    .bind(d.concluded_on.clone())
    .bind(&d.id)
    .bind(expected.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("disputes.status".into()));
    }
    Ok(())
}

/// A dispute.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<DisputeRow> {
    let sql = format!("SELECT {COLS} FROM disputes WHERE id = $1");
    row(&sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?)
}

/// Disputes, all (mediators and the zone) or of one organisation.
pub async fn list(conn: &mut AnyConnection, org_id: Option<&str>) -> Result<Vec<DisputeRow>> {
    let rows = match org_id {
        Some(o) => {
            let sql = format!("SELECT {COLS} FROM disputes WHERE enterprise_id = $1 OR insurer_id = $1 OR mediator_org = $1 ORDER BY created_at_us DESC, id");
            sqlx::query(&sql).bind(o).fetch_all(&mut *conn).await?
        }
        None => {
            let sql = format!("SELECT {COLS} FROM disputes ORDER BY created_at_us DESC, id");
            sqlx::query(&sql).fetch_all(&mut *conn).await?
        }
    };
    rows.iter().map(row).collect()
}

/// Whether a claim has an open dispute.
pub async fn open_for_claim(conn: &mut AnyConnection, claim_id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM disputes WHERE claim_id = $1 AND status IN ('complained', 'mediating')")
        .bind(claim_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

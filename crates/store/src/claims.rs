//! Claims.

use crate::{Result, StoreError};
use kebao_domain::claim::{ClaimOutcome, ClaimStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A claim as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    pub id: String,
    pub policy_id: String,
    pub insurer_id: String,
    pub enterprise_id: String,
    pub loss_date: String,
    pub description: String,
    pub claimed_fen: i64,
    pub status: ClaimStatus,
    pub handler: Option<String>,
    pub reserve_fen: i64,
    pub reserve_seq: i64,
    pub outcome: Option<ClaimOutcome>,
    pub decided_fen: i64,
    pub reason: Option<String>,
    pub paid_fen: i64,
    pub reported_on: String,
    pub decided_on: Option<String>,
    pub reported_at_us: i64,
    pub closed_at_us: Option<i64>,
    pub reopened: i64,
}

const COLS: &str = "id, policy_id, insurer_id, enterprise_id, loss_date, description, claimed_fen, status, handler, \
    reserve_fen, reserve_seq, outcome, decided_fen, reason, paid_fen, reported_on, decided_on, reported_at_us, closed_at_us, reopened";

fn row(r: &AnyRow) -> Result<ClaimRow> {
    let status: String = r.try_get("status")?;
    let outcome = crate::opt_text(r, "outcome")?;
    Ok(ClaimRow {
        id: r.try_get("id")?,
        policy_id: r.try_get("policy_id")?,
        insurer_id: r.try_get("insurer_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        loss_date: r.try_get("loss_date")?,
        description: r.try_get("description")?,
        claimed_fen: r.try_get("claimed_fen")?,
        status: ClaimStatus::from_code(&status)
            .ok_or_else(|| StoreError::Other(format!("claim status `{status}`")))?,
        handler: crate::opt_text(r, "handler")?,
        reserve_fen: r.try_get("reserve_fen")?,
        reserve_seq: r.try_get("reserve_seq")?,
        outcome: match outcome {
            None => None,
            Some(o) => {
                Some(ClaimOutcome::from_code(&o).ok_or_else(|| StoreError::Other(format!("outcome `{o}`")))?)
            }
        },
        decided_fen: r.try_get("decided_fen")?,
        reason: crate::opt_text(r, "reason")?,
        paid_fen: r.try_get("paid_fen")?,
        reported_on: r.try_get("reported_on")?,
        decided_on: crate::opt_text(r, "decided_on")?,
        reported_at_us: r.try_get("reported_at_us")?,
        closed_at_us: r.try_get("closed_at_us")?,
        reopened: r.try_get("reopened")?,
    })
}

/// Stores a new claim.
pub async fn insert(conn: &mut AnyConnection, c: &ClaimRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO claims ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    ))
    .bind(&c.id)
    .bind(&c.policy_id)
    .bind(&c.insurer_id)
    .bind(&c.enterprise_id)
    .bind(&c.loss_date)
    .bind(&c.description)
    .bind(c.claimed_fen)
    .bind(c.status.code())
    .bind(c.handler.clone())
    .bind(c.reserve_fen)
    .bind(c.reserve_seq)
    .bind(c.outcome.map(|o| o.code().to_owned()))
    .bind(c.decided_fen)
    .bind(c.reason.clone())
    .bind(c.paid_fen)
    .bind(&c.reported_on)
    .bind(c.decided_on.clone())
    .bind(c.reported_at_us)
    .bind(c.closed_at_us)
    .bind(c.reopened)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a claim's state back; `Conflict` when its status changed meanwhile.
pub async fn update(conn: &mut AnyConnection, c: &ClaimRow, expected: ClaimStatus) -> Result<()> {
    let n = sqlx::query(
        "UPDATE claims SET status = $1, handler = $2, reserve_fen = $3, reserve_seq = $4, outcome = $5, decided_fen = $6, \
         reason = $7, paid_fen = $8, decided_on = $9, closed_at_us = $10, reopened = $11 WHERE id = $12 AND status = $13",
    )
    .bind(c.status.code())
    .bind(c.handler.clone())
    .bind(c.reserve_fen)
    .bind(c.reserve_seq)
    .bind(c.outcome.map(|o| o.code().to_owned()))
    .bind(c.decided_fen)
    .bind(c.reason.clone())
    .bind(c.paid_fen)
    .bind(c.decided_on.clone())
    .bind(c.closed_at_us)
    .bind(c.reopened)
    .bind(&c.id)
    .bind(expected.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("claims.status".into()));
    }
    Ok(())
}

/// A claim.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<ClaimRow> {
    let sql = format!("SELECT {COLS} FROM claims WHERE id = $1");
    row(&sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?)
}

/// A claim by id, read in a write transaction and locked there until it ends (on
/// PostgreSQL `FOR UPDATE`; SQLite has one writer at a time).
pub async fn get_for_update(conn: &mut AnyConnection, id: &str, backend: crate::Backend) -> Result<ClaimRow> {
    let lock = if backend == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLS} FROM claims WHERE id = $1{lock}");
    row(&sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?)
}

/// Claims of an organisation (as enterprise or insurer), newest first.
pub async fn of_org(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<ClaimRow>> {
    let sql = format!("SELECT {COLS} FROM claims WHERE enterprise_id = $1 OR insurer_id = $1 ORDER BY reported_at_us DESC, id");
    sqlx::query(&sql).bind(org_id).fetch_all(&mut *conn).await?.iter().map(row).collect()
}

/// Every claim (metrics).
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<ClaimRow>> {
    let sql = format!("SELECT {COLS} FROM claims ORDER BY insurer_id, reported_at_us");
    sqlx::query(&sql).fetch_all(&mut *conn).await?.iter().map(row).collect()
}

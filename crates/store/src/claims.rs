//! Claims.

use crate::{Result, StoreError};
use kebao_domain::claim::{Claim, ClaimOutcome, ClaimStatus};
use kebao_domain::Money;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str = "id, policy_id, insurer_id, enterprise_id, loss_date, description, claimed_fen, status, handler, \
    reserve_fen, reserve_seq, outcome, decided_fen, reason, paid_fen, reported_on, decided_on, reported_at_us, closed_at_us, reopened";

fn row(r: &AnyRow) -> Result<Claim> {
    let status: String = r.try_get("status")?;
    let outcome = crate::opt_text(r, "outcome")?;
    let money = |col: &str| -> Result<Money> { Ok(Money::from_fen(r.try_get(col)?)) };
    Ok(Claim {
        id: r.try_get("id")?,
        policy_id: r.try_get("policy_id")?,
        insurer_id: r.try_get("insurer_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        loss_date: crate::date_col(r, "loss_date")?,
        description: r.try_get("description")?,
        claimed: money("claimed_fen")?,
        status: ClaimStatus::from_code(&status).ok_or_else(|| crate::bad_value("claims.status", &status))?,
        handler: crate::opt_text(r, "handler")?,
        reserve: money("reserve_fen")?,
        reserve_seq: r.try_get("reserve_seq")?,
        outcome: match outcome {
            None => None,
            Some(o) => {
                Some(ClaimOutcome::from_code(&o).ok_or_else(|| crate::bad_value("claims.outcome", &o))?)
            }
        },
        decided: money("decided_fen")?,
        reason: crate::opt_text(r, "reason")?,
        paid: money("paid_fen")?,
        reported_on: crate::date_col(r, "reported_on")?,
        decided_on: crate::opt_date_col(r, "decided_on")?,
        reported_at_us: r.try_get("reported_at_us")?,
        closed_at_us: r.try_get("closed_at_us")?,
        reopened: r.try_get("reopened")?,
    })
}

/// Stores a new claim.
pub async fn insert(conn: &mut AnyConnection, c: &Claim) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO claims ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    ))
    .bind(&c.id)
    .bind(&c.policy_id)
    .bind(&c.insurer_id)
    .bind(&c.enterprise_id)
    .bind(c.loss_date.to_string())
    .bind(&c.description)
    .bind(c.claimed.fen())
    .bind(c.status.code())
    .bind(c.handler.clone())
    .bind(c.reserve.fen())
    .bind(c.reserve_seq)
    .bind(c.outcome.map(|o| o.code().to_owned()))
    .bind(c.decided.fen())
    .bind(c.reason.clone())
    .bind(c.paid.fen())
    .bind(c.reported_on.to_string())
    .bind(c.decided_on.map(|d| d.to_string()))
    .bind(c.reported_at_us)
    .bind(c.closed_at_us)
    .bind(c.reopened)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a claim's state back; `Conflict` when its status changed meanwhile.
pub async fn update(conn: &mut AnyConnection, c: &Claim, expected: ClaimStatus) -> Result<()> {
    let n = sqlx::query(
        "UPDATE claims SET status = $1, handler = $2, reserve_fen = $3, reserve_seq = $4, outcome = $5, decided_fen = $6, \
         reason = $7, paid_fen = $8, decided_on = $9, closed_at_us = $10, reopened = $11 WHERE id = $12 AND status = $13",
    )
    .bind(c.status.code())
    .bind(c.handler.clone())
    .bind(c.reserve.fen())
    .bind(c.reserve_seq)
    .bind(c.outcome.map(|o| o.code().to_owned()))
    .bind(c.decided.fen())
    .bind(c.reason.clone())
    .bind(c.paid.fen())
    .bind(c.decided_on.map(|d| d.to_string()))
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
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Claim> {
    let sql = format!("SELECT {COLS} FROM claims WHERE id = $1");
    row(&sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?)
}

/// A claim by id, read in a write transaction and locked there until it ends (on
/// PostgreSQL `FOR UPDATE`; SQLite has one writer at a time).
pub async fn get_for_update(conn: &mut AnyConnection, id: &str, backend: crate::Backend) -> Result<Claim> {
    let lock = if backend == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLS} FROM claims WHERE id = $1{lock}");
    row(&sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?)
}

/// Claims of an organisation (as enterprise or insurer), newest first.
pub async fn of_org(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<Claim>> {
    let sql = format!("SELECT {COLS} FROM claims WHERE enterprise_id = $1 OR insurer_id = $1 ORDER BY reported_at_us DESC, id");
    sqlx::query(&sql).bind(org_id).fetch_all(&mut *conn).await?.iter().map(row).collect()
}

/// Every claim (metrics).
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Claim>> {
    let sql = format!("SELECT {COLS} FROM claims ORDER BY insurer_id, reported_at_us");
    sqlx::query(&sql).fetch_all(&mut *conn).await?.iter().map(row).collect()
}

//! Disputes.

use crate::{Result, StoreError};
use kebao_domain::dispute::{Dispute, DisputeStatus, Forum, Session};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str =
    "id, claim_id, enterprise_id, insurer_id, complaint, status, mediator, mediator_org, sessions, outcome, \
    forum, complained_on, accepted_on, concluded_on, created_at_us";

fn row(r: &AnyRow) -> Result<Dispute> {
    let status: String = r.try_get("status")?;
    let forum = crate::opt_text(r, "forum")?;
    Ok(Dispute {
        id: r.try_get("id")?,
        claim_id: r.try_get("claim_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        insurer_id: r.try_get("insurer_id")?,
        complaint: r.try_get("complaint")?,
        status: DisputeStatus::from_code(&status)
            .ok_or_else(|| crate::bad_value("disputes.status", &status))?,
        mediator: crate::opt_text(r, "mediator")?,
        mediator_org: crate::opt_text(r, "mediator_org")?,
        sessions: crate::json_col::<Vec<Session>>(r, "sessions")?,
        outcome: crate::opt_text(r, "outcome")?,
        forum: match forum {
            None => None,
            Some(f) => Some(Forum::from_code(&f).ok_or_else(|| crate::bad_value("disputes.forum", &f))?),
        },
        complained_on: crate::date_col(r, "complained_on")?,
        accepted_on: crate::opt_date_col(r, "accepted_on")?,
        concluded_on: crate::opt_date_col(r, "concluded_on")?,
        created_at_us: r.try_get("created_at_us")?,
    })
}

/// Stores a new dispute.
pub async fn insert(conn: &mut AnyConnection, d: &Dispute) -> Result<()> {
    let sessions = crate::to_json(&d.sessions)?;
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
        .bind(d.complained_on.to_string())
        .bind(d.accepted_on.map(|x| x.to_string()))
        .bind(d.concluded_on.map(|x| x.to_string()))
        .bind(d.created_at_us)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes a dispute back; `Conflict` when its status changed meanwhile.
pub async fn update(conn: &mut AnyConnection, d: &Dispute, expected: DisputeStatus) -> Result<()> {
    let sessions = crate::to_json(&d.sessions)?;
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
    .bind(d.accepted_on.map(|x| x.to_string()))
    .bind(d.concluded_on.map(|x| x.to_string()))
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
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Dispute> {
    let sql = format!("SELECT {COLS} FROM disputes WHERE id = $1");
    row(&sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?)
}

/// A dispute by id, read in a write transaction and locked there until it ends (on
/// PostgreSQL `FOR UPDATE`; SQLite has one writer at a time).
pub async fn get_for_update(conn: &mut AnyConnection, id: &str, backend: crate::Backend) -> Result<Dispute> {
    let lock = if backend == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLS} FROM disputes WHERE id = $1{lock}");
    row(&sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?)
}

/// Disputes, all (mediators and the zone) or of one organisation.
pub async fn list(conn: &mut AnyConnection, org_id: Option<&str>) -> Result<Vec<Dispute>> {
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

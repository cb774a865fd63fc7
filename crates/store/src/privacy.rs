//! Personal-data requests, and what the platform holds about a user.

use crate::{Result, StoreError};
use kebao_domain::privacy::{DataRequest, RequestKind, RequestState};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str =
    "id, user_id, org_id, kind, details, filed_at_us, due_on, state, answer, answered_by, answered_at_us";

fn row(r: &AnyRow) -> Result<DataRequest> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    Ok(DataRequest {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        org_id: r.try_get("org_id")?,
        kind: RequestKind::from_code(&kind).ok_or_else(|| crate::bad_value("data_requests.kind", &kind))?,
        details: r.try_get("details")?,
        filed_at_us: r.try_get("filed_at_us")?,
        due_on: crate::date_col(r, "due_on")?,
        state: RequestState::from_code(&state)
            .ok_or_else(|| crate::bad_value("data_requests.state", &state))?,
        answer: crate::opt_text(r, "answer")?,
        answered_by: crate::opt_text(r, "answered_by")?,
        answered_at_us: r.try_get("answered_at_us")?,
    })
}

/// Stores a new request.
pub async fn insert(conn: &mut AnyConnection, d: &DataRequest) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO data_requests ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&d.id)
    .bind(&d.user_id)
    .bind(&d.org_id)
    .bind(d.kind.code())
    .bind(&d.details)
    .bind(d.filed_at_us)
    .bind(d.due_on.to_string())
    .bind(d.state.code())
    .bind(d.answer.clone())
    .bind(d.answered_by.clone())
    .bind(d.answered_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A request by id.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<DataRequest> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM data_requests WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    row(&r)
}

/// A user's requests (`Some`), or everyone's (`None`), open ones first, newest first.
pub async fn list(conn: &mut AnyConnection, user_id: Option<&str>, limit: u32) -> Result<Vec<DataRequest>> {
    let order = "ORDER BY CASE WHEN state = 'open' THEN 0 ELSE 1 END, filed_at_us DESC, id DESC";
    let rows = match user_id {
        Some(u) => {
            sqlx::query(&format!("SELECT {COLS} FROM data_requests WHERE user_id = $1 {order} LIMIT $2"))
                .bind(u)
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?
        }
        None => {
            sqlx::query(&format!("SELECT {COLS} FROM data_requests {order} LIMIT $1"))
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(row).collect()
}

/// Records the answer to an open request; false if it was answered already.
pub async fn answer(conn: &mut AnyConnection, d: &DataRequest) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE data_requests SET state = $2, answer = $3, answered_by = $4, answered_at_us = $5 \
         WHERE id = $1 AND state = 'open'",
    )
    .bind(&d.id)
    .bind(d.state.code())
    .bind(d.answer.clone())
    .bind(d.answered_by.clone())
    .bind(d.answered_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// What else the platform holds about a user, counted: open sessions, API tokens and keys not
/// revoked, recorded sign-in attempts.
pub async fn holdings(
    conn: &mut AnyConnection,
    user_id: &str,
    username: &str,
    now_us: i64,
) -> Result<(i64, i64, i64)> {
    let count = |sql: &'static str| sqlx::query(sql);
    let sessions: i64 = count("SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1 AND expires_at_us > $2")
        .bind(user_id)
        .bind(now_us)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    let tokens: i64 =
        count("SELECT COUNT(*) AS n FROM api_tokens WHERE user_id = $1 AND revoked_at_us IS NULL")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
    let attempts: i64 = count("SELECT COUNT(*) AS n FROM login_attempts WHERE username = $1")
        .bind(username)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    Ok((sessions, tokens, attempts))
}

//! Applications, underwriters' authority and policies.

use crate::{Result, StoreError};
use kebao_domain::policy::{ApplicationStatus, PolicyStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// An application as stored (the quote inputs and trace as JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRow {
    pub id: String,
    pub product_id: String,
    pub product_version: i64,
    pub insurer_id: String,
    pub enterprise_id: String,
    pub applicant: String,
    pub input: String,
    pub start_date: String,
    pub end_date: String,
    pub premium_fen: i64,
    pub plan_version: i64,
    pub trace: String,
    pub status: ApplicationStatus,
    pub reasons: Vec<String>,
    pub decided_by: Option<String>,
    pub decided_at_us: Option<i64>,
    pub created_at_us: i64,
    /// The policy this application renews.
    pub renewal_of: Option<String>,
}

const APP_COLS: &str =
    "id, product_id, product_version, insurer_id, enterprise_id, applicant, input, start_date, \
    end_date, premium_fen, plan_version, trace, status, reasons, decided_by, decided_at_us, created_at_us, renewal_of";

fn app_row(r: &AnyRow) -> Result<ApplicationRow> {
    let status: String = r.try_get("status")?;
    Ok(ApplicationRow {
        id: r.try_get("id")?,
        product_id: r.try_get("product_id")?,
        product_version: r.try_get("product_version")?,
        insurer_id: r.try_get("insurer_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        applicant: r.try_get("applicant")?,
        input: r.try_get("input")?,
        start_date: r.try_get("start_date")?,
        end_date: r.try_get("end_date")?,
        premium_fen: r.try_get("premium_fen")?,
        plan_version: r.try_get("plan_version")?,
        trace: r.try_get("trace")?,
        status: ApplicationStatus::from_code(&status)
            .ok_or_else(|| StoreError::Other(format!("status `{status}`")))?,
        reasons: crate::json_col(r, "reasons")?,
        decided_by: crate::opt_text(r, "decided_by")?,
        decided_at_us: r.try_get("decided_at_us")?,
        created_at_us: r.try_get("created_at_us")?,
        renewal_of: crate::opt_text(r, "renewal_of")?,
    })
}

/// Stores an application.
pub async fn insert_application(conn: &mut AnyConnection, a: &ApplicationRow) -> Result<()> {
    let reasons = crate::to_json(&a.reasons)?;
    sqlx::query(&format!(
        "INSERT INTO applications ({APP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    ))
    .bind(&a.id)
    .bind(&a.product_id)
    .bind(a.product_version)
    .bind(&a.insurer_id)
    .bind(&a.enterprise_id)
    .bind(&a.applicant)
    .bind(&a.input)
    .bind(&a.start_date)
    .bind(&a.end_date)
    .bind(a.premium_fen)
    .bind(a.plan_version)
    .bind(&a.trace)
    .bind(a.status.code())
    .bind(reasons)
    .bind(a.decided_by.clone())
    .bind(a.decided_at_us)
    .bind(a.created_at_us)
    .bind(a.renewal_of.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves an application from `from` to `to`; `Conflict` when it is no longer `from`.
pub async fn decide(
    conn: &mut AnyConnection,
    id: &str,
    from: ApplicationStatus,
    to: ApplicationStatus,
    reasons: &[String],
    by: &str,
    at_us: i64,
) -> Result<()> {
    let reasons = crate::to_json(reasons)?;
    let n = sqlx::query(
        "UPDATE applications SET status = $1, reasons = $2, decided_by = $3, decided_at_us = $4 WHERE id = $5 AND status = $6",
    )
    .bind(to.code())
    .bind(reasons)
    .bind(by)
    .bind(at_us)
    .bind(id)
    .bind(from.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("applications.status".into()));
    }
    Ok(())
}

/// An application.
pub async fn application(conn: &mut AnyConnection, id: &str) -> Result<ApplicationRow> {
    let sql = format!("SELECT {APP_COLS} FROM applications WHERE id = $1");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    app_row(&r)
}

/// An insurer's applications in a status, oldest first.
pub async fn applications_of_insurer(
    conn: &mut AnyConnection,
    insurer_id: &str,
    status: ApplicationStatus,
) -> Result<Vec<ApplicationRow>> {
    let sql = format!("SELECT {APP_COLS} FROM applications WHERE insurer_id = $1 AND status = $2 ORDER BY created_at_us, id");
    sqlx::query(&sql)
        .bind(insurer_id)
        .bind(status.code())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(app_row)
        .collect()
}

/// An enterprise's applications, newest first.
pub async fn applications_of_enterprise(
    conn: &mut AnyConnection,
    enterprise_id: &str,
) -> Result<Vec<ApplicationRow>> {
    let sql = format!(
        "SELECT {APP_COLS} FROM applications WHERE enterprise_id = $1 ORDER BY created_at_us DESC, id"
    );
    sqlx::query(&sql).bind(enterprise_id).fetch_all(&mut *conn).await?.iter().map(app_row).collect()
}

/// An underwriter's authority (yuan), if set.
pub async fn authority(conn: &mut AnyConnection, user_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT max_limit_yuan FROM underwriter_authority WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Sets an underwriter's authority.
pub async fn set_authority(conn: &mut AnyConnection, user_id: &str, max_limit_yuan: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO underwriter_authority (user_id, max_limit_yuan) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET max_limit_yuan = excluded.max_limit_yuan",
    )
    .bind(user_id)
    .bind(max_limit_yuan)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The next policy sequence number of `year`.
pub async fn next_policy_seq(conn: &mut AnyConnection, year: i32) -> Result<u32> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO policy_counters (year, n) VALUES ($1, 1) ON CONFLICT (year) DO UPDATE SET n = policy_counters.n + 1 RETURNING n",
    )
    .bind(i64::from(year))
    .fetch_one(&mut *conn)
    .await?;
    u32::try_from(n).map_err(|_| StoreError::Other("policy counter out of range".into()))
}

/// A policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub id: String,
    pub number: String,
    pub application_id: String,
    pub product_id: String,
    pub insurer_id: String,
    pub enterprise_id: String,
    pub start_date: String,
    pub end_date: String,
    pub premium_fen: i64,
    /// The schedule: product content and the rated inputs, as JSON.
    pub schedule: String,
    pub bound_by: String,
    pub bound_at_us: i64,
    /// `in_force` or `cancelled`.
    pub status: PolicyStatus,
    pub cancelled_on: Option<String>,
    /// The rated inputs now in force (changed by endorsements), as JSON.
    pub input: String,
}

const POLICY_COLS: &str =
    "id, number, application_id, product_id, insurer_id, enterprise_id, start_date, end_date, \
    premium_fen, schedule, bound_by, bound_at_us, status, cancelled_on, input";

fn policy_row(r: &AnyRow) -> Result<PolicyRow> {
    Ok(PolicyRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        application_id: r.try_get("application_id")?,
        product_id: r.try_get("product_id")?,
        insurer_id: r.try_get("insurer_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        start_date: r.try_get("start_date")?,
        end_date: r.try_get("end_date")?,
        premium_fen: r.try_get("premium_fen")?,
        schedule: r.try_get("schedule")?,
        bound_by: r.try_get("bound_by")?,
        bound_at_us: r.try_get("bound_at_us")?,
        status: {
            let s: String = r.try_get("status")?;
            PolicyStatus::from_code(&s).ok_or_else(|| StoreError::Other(format!("policy status `{s}`")))?
        },
        cancelled_on: crate::opt_text(r, "cancelled_on")?,
        input: crate::opt_text(r, "input")?.unwrap_or_default(),
    })
}

/// Stores a policy.
pub async fn insert_policy(conn: &mut AnyConnection, p: &PolicyRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO policies ({POLICY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(&p.id)
    .bind(&p.number)
    .bind(&p.application_id)
    .bind(&p.product_id)
    .bind(&p.insurer_id)
    .bind(&p.enterprise_id)
    .bind(&p.start_date)
    .bind(&p.end_date)
    .bind(p.premium_fen)
    .bind(&p.schedule)
    .bind(&p.bound_by)
    .bind(p.bound_at_us)
    .bind(p.status.code())
    .bind(p.cancelled_on.clone())
    .bind(&p.input)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A policy by id.
pub async fn policy(conn: &mut AnyConnection, id: &str) -> Result<PolicyRow> {
    let sql = format!("SELECT {POLICY_COLS} FROM policies WHERE id = $1");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    policy_row(&r)
}

/// A policy by id, read in a write transaction and locked there until it ends (on
/// PostgreSQL `FOR UPDATE`; SQLite has one writer at a time): a check made on it holds
/// until the commit, against a cancellation, a claim or a renewal running concurrently.
pub async fn policy_for_update(
    conn: &mut AnyConnection,
    id: &str,
    backend: crate::Backend,
) -> Result<PolicyRow> {
    let lock = if backend == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {POLICY_COLS} FROM policies WHERE id = $1{lock}");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    policy_row(&r)
}

/// Policies of an organisation (as enterprise, insurer or co-insurer), newest first.
pub async fn policies_of(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<PolicyRow>> {
    let sql = format!(
        "SELECT {POLICY_COLS} FROM policies WHERE enterprise_id = $1 OR insurer_id = $1 \
         OR id IN (SELECT policy_id FROM coinsurance_shares WHERE insurer_id = $1) ORDER BY bound_at_us DESC, id"
    );
    sqlx::query(&sql).bind(org_id).fetch_all(&mut *conn).await?.iter().map(policy_row).collect()
}

/// Every policy (the zone's overview), newest first.
pub async fn all_policies(conn: &mut AnyConnection) -> Result<Vec<PolicyRow>> {
    let sql = format!("SELECT {POLICY_COLS} FROM policies ORDER BY bound_at_us DESC, id");
    sqlx::query(&sql).fetch_all(&mut *conn).await?.iter().map(policy_row).collect()
}

/// Sets a policy's full-term premium and rated inputs (an endorsement); `Conflict` unless
/// the policy is still in force.
pub async fn update_terms(conn: &mut AnyConnection, id: &str, premium_fen: i64, input: &str) -> Result<()> {
    let n =
        sqlx::query("UPDATE policies SET premium_fen = $1, input = $2 WHERE id = $3 AND status = 'in_force'")
            .bind(premium_fen)
            .bind(input)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("policies.status".into()));
    }
    Ok(())
}

/// Cancels a policy in force from the day after `last_day`.
pub async fn cancel(conn: &mut AnyConnection, id: &str, last_day: &str) -> Result<()> {
    let n = sqlx::query(
        "UPDATE policies SET status = 'cancelled', cancelled_on = $1 WHERE id = $2 AND status = 'in_force'",
    )
    .bind(last_day)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("policies.status".into()));
    }
    Ok(())
}

/// An endorsement (a change of terms, or the cancellation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsementRow {
    pub id: String,
    pub policy_id: String,
    pub seq: i64,
    /// `change` or `cancel`.
    pub kind: String,
    pub effective_date: String,
    pub input: Option<String>,
    pub old_premium_fen: i64,
    pub new_premium_fen: i64,
    /// Premium due added (positive) or returned (negative).
    pub adjustment_fen: i64,
    pub explanation: String,
    pub reason: String,
    pub made_by: String,
    pub made_at_us: i64,
}

const END_COLS: &str = "id, policy_id, seq, kind, effective_date, input, old_premium_fen, new_premium_fen, \
    adjustment_fen, explanation, reason, made_by, made_at_us";

/// Stores an endorsement; its `seq` must be the next of the policy (else `Conflict`).
pub async fn insert_endorsement(conn: &mut AnyConnection, e: &EndorsementRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO endorsements ({END_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&e.id)
    .bind(&e.policy_id)
    .bind(e.seq)
    .bind(&e.kind)
    .bind(&e.effective_date)
    .bind(e.input.clone())
    .bind(e.old_premium_fen)
    .bind(e.new_premium_fen)
    .bind(e.adjustment_fen)
    .bind(&e.explanation)
    .bind(&e.reason)
    .bind(&e.made_by)
    .bind(e.made_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A policy's endorsements in order.
pub async fn endorsements(conn: &mut AnyConnection, policy_id: &str) -> Result<Vec<EndorsementRow>> {
    let sql = format!("SELECT {END_COLS} FROM endorsements WHERE policy_id = $1 ORDER BY seq");
    let rows = sqlx::query(&sql).bind(policy_id).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(EndorsementRow {
                id: r.try_get("id")?,
                policy_id: r.try_get("policy_id")?,
                seq: r.try_get("seq")?,
                kind: r.try_get("kind")?,
                effective_date: r.try_get("effective_date")?,
                input: crate::opt_text(r, "input")?,
                old_premium_fen: r.try_get("old_premium_fen")?,
                new_premium_fen: r.try_get("new_premium_fen")?,
                adjustment_fen: r.try_get("adjustment_fen")?,
                explanation: r.try_get("explanation")?,
                reason: r.try_get("reason")?,
                made_by: r.try_get("made_by")?,
                made_at_us: r.try_get("made_at_us")?,
            })
        })
        .collect()
}

/// A policy's co-insurance shares (insurer, basis points), the lead first; empty when the
/// policy is not co-insured.
pub async fn shares(conn: &mut AnyConnection, policy_id: &str) -> Result<Vec<(String, u32)>> {
    let rows = sqlx::query(
        "SELECT insurer_id, share_bp FROM coinsurance_shares WHERE policy_id = $1 ORDER BY lead DESC, insurer_id",
    )
    .bind(policy_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let bp: i64 = r.try_get("share_bp")?;
            Ok((
                r.try_get("insurer_id")?,
                u32::try_from(bp).map_err(|_| StoreError::Other("share_bp".into()))?,
            ))
        })
        .collect()
}

/// Records a policy's shares (the first is the lead); the primary key refuses a second set.
pub async fn insert_shares(
    conn: &mut AnyConnection,
    policy_id: &str,
    shares: &[(String, u32)],
) -> Result<()> {
    for (i, (org, bp)) in shares.iter().enumerate() {
        sqlx::query(
            "INSERT INTO coinsurance_shares (policy_id, insurer_id, share_bp, lead) VALUES ($1, $2, $3, $4)",
        )
        .bind(policy_id)
        .bind(org)
        .bind(i64::from(*bp))
        .bind(i64::from(i == 0))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The application renewing a policy (not declined), if any.
pub async fn renewal_of(conn: &mut AnyConnection, policy_id: &str) -> Result<Option<ApplicationRow>> {
    let sql = format!("SELECT {APP_COLS} FROM applications WHERE renewal_of = $1 AND status <> 'declined'");
    sqlx::query(&sql).bind(policy_id).fetch_optional(&mut *conn).await?.as_ref().map(app_row).transpose()
}

/// A policy by its number.
pub async fn policy_by_number(conn: &mut AnyConnection, number: &str) -> Result<PolicyRow> {
    let sql = format!("SELECT {POLICY_COLS} FROM policies WHERE number = $1");
    let r = sqlx::query(&sql).bind(number).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    policy_row(&r)
}

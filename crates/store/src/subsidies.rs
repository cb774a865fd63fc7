//! Subsidy programmes, applications, objections and bans (their documents are attachments).

use crate::{opt_text, Result, StoreError};
use kebao_domain::subsidy::SubsidyStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A stored programme version (the rule set as JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeRow {
    pub id: String,
    pub version: i64,
    pub doc: String,
    pub loaded_by: String,
    pub loaded_at_us: i64,
}

/// Stores a programme version; `Conflict` when that version exists.
pub async fn insert_programme(conn: &mut AnyConnection, p: &ProgrammeRow) -> Result<()> {
    sqlx::query("INSERT INTO subsidy_programmes (id, version, doc, loaded_by, loaded_at_us) VALUES ($1, $2, $3, $4, $5)")
        .bind(&p.id)
        .bind(p.version)
        .bind(&p.doc)
        .bind(&p.loaded_by)
        .bind(p.loaded_at_us)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every programme version, by id then version.
pub async fn programmes(conn: &mut AnyConnection) -> Result<Vec<ProgrammeRow>> {
    let rows = sqlx::query(
        "SELECT id, version, doc, loaded_by, loaded_at_us FROM subsidy_programmes ORDER BY id, version",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ProgrammeRow {
                id: r.try_get("id")?,
                version: r.try_get("version")?,
                doc: r.try_get("doc")?,
                loaded_by: r.try_get("loaded_by")?,
                loaded_at_us: r.try_get("loaded_at_us")?,
            })
        })
        .collect()
}

/// A setting (the working-day calendar).
pub async fn setting(conn: &mut AnyConnection, key: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM subsidy_settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Sets a setting.
pub async fn set_setting(conn: &mut AnyConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO subsidy_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A subsidy application, qualification or funding file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsidyRow {
    pub id: String,
    pub programme_id: String,
    pub programme_version: i64,
    /// zone | auto | national
    pub track: String,
    /// subsidy | qualification | funding
    pub stage: String,
    pub policy_id: Option<String>,
    pub enterprise_id: String,
    pub status: SubsidyStatus,
    pub amount_fen: i64,
    /// The assessment's steps (or failures) as JSON.
    pub trace: String,
    /// The facts the assessment used (contract amount, declarations …) as JSON.
    pub facts: String,
    pub applied_on: String,
    pub cap_year: i64,
    pub local_reviewer: Option<String>,
    pub dept_reviewer: Option<String>,
    pub notice_from: Option<String>,
    pub notice_to: Option<String>,
    pub confirm_by: Option<String>,
    pub reason: Option<String>,
    /// The ministries' decision reference (national files).
    pub decision_ref: Option<String>,
    pub created_at_us: i64,
    pub updated_at_us: i64,
}

const COLS: &str = "id, programme_id, programme_version, track, stage, policy_id, enterprise_id, status, amount_fen, \
    trace, facts, applied_on, cap_year, local_reviewer, dept_reviewer, notice_from, notice_to, confirm_by, reason, \
    decision_ref, created_at_us, updated_at_us";

fn row(r: &AnyRow) -> Result<SubsidyRow> {
    let status: String = r.try_get("status")?;
    Ok(SubsidyRow {
        id: r.try_get("id")?,
        programme_id: r.try_get("programme_id")?,
        programme_version: r.try_get("programme_version")?,
        track: r.try_get("track")?,
        stage: r.try_get("stage")?,
        policy_id: opt_text(r, "policy_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        status: SubsidyStatus::from_code(&status)
            .ok_or_else(|| StoreError::Other(format!("subsidy status `{status}`")))?,
        amount_fen: r.try_get("amount_fen")?,
        trace: r.try_get("trace")?,
        facts: r.try_get("facts")?,
        applied_on: r.try_get("applied_on")?,
        cap_year: r.try_get("cap_year")?,
        local_reviewer: opt_text(r, "local_reviewer")?,
        dept_reviewer: opt_text(r, "dept_reviewer")?,
        notice_from: opt_text(r, "notice_from")?,
        notice_to: opt_text(r, "notice_to")?,
        confirm_by: opt_text(r, "confirm_by")?,
        reason: opt_text(r, "reason")?,
        decision_ref: opt_text(r, "decision_ref")?,
        created_at_us: r.try_get("created_at_us")?,
        updated_at_us: r.try_get("updated_at_us")?,
    })
}

/// Stores an application; `Conflict` when the policy already has a live one in the programme.
pub async fn insert(conn: &mut AnyConnection, a: &SubsidyRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO subsidy_applications ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
    ))
    .bind(&a.id)
    .bind(&a.programme_id)
    .bind(a.programme_version)
    .bind(&a.track)
    .bind(&a.stage)
    .bind(a.policy_id.clone())
    .bind(&a.enterprise_id)
    .bind(a.status.code())
    .bind(a.amount_fen)
    .bind(&a.trace)
    .bind(&a.facts)
    .bind(&a.applied_on)
    .bind(a.cap_year)
    .bind(a.local_reviewer.clone())
    .bind(a.dept_reviewer.clone())
    .bind(a.notice_from.clone())
    .bind(a.notice_to.clone())
    .bind(a.confirm_by.clone())
    .bind(a.reason.clone())
    .bind(a.decision_ref.clone())
    .bind(a.created_at_us)
    .bind(a.updated_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes an application back, if it is still in `expected` (else `Conflict`).
pub async fn update(conn: &mut AnyConnection, a: &SubsidyRow, expected: SubsidyStatus) -> Result<()> {
    let n = sqlx::query(
        "UPDATE subsidy_applications SET status = $1, amount_fen = $2, trace = $3, local_reviewer = $4, dept_reviewer = $5, \
         notice_from = $6, notice_to = $7, confirm_by = $8, reason = $9, decision_ref = $10, updated_at_us = $11 \
         WHERE id = $12 AND status = $13",
    )
    .bind(a.status.code())
    .bind(a.amount_fen)
    .bind(&a.trace)
    .bind(a.local_reviewer.clone())
    .bind(a.dept_reviewer.clone())
    .bind(a.notice_from.clone())
    .bind(a.notice_to.clone())
    .bind(a.confirm_by.clone())
    .bind(a.reason.clone())
    .bind(a.decision_ref.clone())
    .bind(a.updated_at_us)
    .bind(&a.id)
    .bind(expected.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("subsidy_applications.status".into()));
    }
    Ok(())
}

/// One application.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<SubsidyRow> {
    let sql = format!("SELECT {COLS} FROM subsidy_applications WHERE id = $1");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    row(&r)
}

/// Applications, optionally of one enterprise, newest first.
pub async fn list(conn: &mut AnyConnection, enterprise_id: Option<&str>) -> Result<Vec<SubsidyRow>> {
    let rows = match enterprise_id {
        Some(e) => {
            let sql = format!("SELECT {COLS} FROM subsidy_applications WHERE enterprise_id = $1 ORDER BY created_at_us DESC, id");
            sqlx::query(&sql).bind(e).fetch_all(&mut *conn).await?
        }
        None => {
            let sql = format!("SELECT {COLS} FROM subsidy_applications ORDER BY created_at_us DESC, id");
            sqlx::query(&sql).fetch_all(&mut *conn).await?
        }
    };
    rows.iter().map(row).collect()
}

/// An objection raised during the public notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    pub id: String,
    pub application_id: String,
    pub author: String,
    pub text: String,
    pub resolution: Option<String>,
    pub upheld: Option<bool>,
    pub at_us: i64,
}

/// Stores an objection.
pub async fn insert_objection(conn: &mut AnyConnection, o: &Objection) -> Result<()> {
    sqlx::query("INSERT INTO subsidy_objections (id, application_id, author, text, at_us) VALUES ($1, $2, $3, $4, $5)")
        .bind(&o.id)
        .bind(&o.application_id)
        .bind(&o.author)
        .bind(&o.text)
        .bind(o.at_us)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Resolves an open objection; `Conflict` when it is already resolved.
pub async fn resolve_objection(
    conn: &mut AnyConnection,
    id: &str,
    upheld: bool,
    resolution: &str,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE subsidy_objections SET upheld = $1, resolution = $2 WHERE id = $3 AND upheld IS NULL",
    )
    .bind(i64::from(upheld))
    .bind(resolution)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("subsidy_objections.upheld".into()));
    }
    Ok(())
}

/// An application's objections, oldest first.
pub async fn objections(conn: &mut AnyConnection, application_id: &str) -> Result<Vec<Objection>> {
    let rows = sqlx::query(
        "SELECT id, application_id, author, text, resolution, upheld, at_us FROM subsidy_objections WHERE application_id = $1 ORDER BY at_us, id",
    )
    .bind(application_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let upheld: Option<i64> = r.try_get("upheld")?;
            Ok(Objection {
                id: r.try_get("id")?,
                application_id: r.try_get("application_id")?,
                author: r.try_get("author")?,
                text: r.try_get("text")?,
                resolution: opt_text(r, "resolution")?,
                upheld: upheld.map(|u| u != 0),
                at_us: r.try_get("at_us")?,
            })
        })
        .collect()
}

/// The ban of an enterprise from a programme, if any.
pub async fn ban(
    conn: &mut AnyConnection,
    enterprise_id: &str,
    programme_id: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT until FROM subsidy_bans WHERE enterprise_id = $1 AND programme_id = $2")
        .bind(enterprise_id)
        .bind(programme_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Bans an enterprise from a programme until a date (the later ban wins).
pub async fn set_ban(
    conn: &mut AnyConnection,
    enterprise_id: &str,
    programme_id: &str,
    until: &str,
    reason: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO subsidy_bans (enterprise_id, programme_id, until, reason) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (enterprise_id, programme_id) DO UPDATE SET until = excluded.until, reason = excluded.reason",
    )
    .bind(enterprise_id)
    .bind(programme_id)
    .bind(until)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

//! Subsidy programmes, applications, objections and bans (their documents are attachments).

use crate::{bad_value, date_col, json_col, opt_date_col, opt_text, to_json, Result, StoreError};
use kebao_domain::subsidy::{
    Grant, Objection, Programme, Resolution, Stage, SubsidyApplication, SubsidyStatus, Track,
};
use kebao_domain::Money;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

/// Stores a programme version (its rule set as JSON); `Conflict` when that version exists.
/// Rewrites a programme version's document (its confirmation: confidence, source, caveat;
/// the rules' numbers are the caller's to keep).
pub async fn update_programme(conn: &mut AnyConnection, p: &Programme) -> Result<()> {
    let done = sqlx::query("UPDATE subsidy_programmes SET doc = $3 WHERE id = $1 AND version = $2")
        .bind(&p.id)
        .bind(i64::from(p.version))
        .bind(to_json(p)?)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn insert_programme(
    conn: &mut AnyConnection,
    p: &Programme,
    loaded_by: &str,
    at_us: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO subsidy_programmes (id, version, doc, loaded_by, loaded_at_us) VALUES ($1, $2, $3, $4, $5)")
        .bind(&p.id)
        .bind(i64::from(p.version))
        .bind(to_json(p)?)
        .bind(loaded_by)
        .bind(at_us)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every programme version, by id then version.
pub async fn programmes(conn: &mut AnyConnection) -> Result<Vec<Programme>> {
    let rows = sqlx::query("SELECT id, version, doc FROM subsidy_programmes ORDER BY id, version")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let p: Programme = json_col(r, "doc")?;
            let version: i64 = r.try_get("version")?;
            let id: String = r.try_get("id")?;
            if p.id != id || i64::from(p.version) != version {
                return Err(bad_value("subsidy_programmes.doc", &format!("{id} v{version}")));
            }
            Ok(p)
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

const COLS: &str = "id, programme_id, programme_version, track, stage, policy_id, enterprise_id, status, amount_fen, \
    trace, facts, applied_on, cap_year, local_reviewer, dept_reviewer, notice_from, notice_to, confirm_by, reason, \
    decision_ref, created_at_us, updated_at_us, loan_id";

fn code_col<T>(r: &AnyRow, col: &str, from: fn(&str) -> Option<T>) -> Result<T> {
    let s: String = r.try_get(col)?;
    from(&s).ok_or_else(|| bad_value(col, &s))
}

fn row(r: &AnyRow) -> Result<SubsidyApplication> {
    let version: i64 = r.try_get("programme_version")?;
    let cap_year: i64 = r.try_get("cap_year")?;
    Ok(SubsidyApplication {
        id: r.try_get("id")?,
        programme_id: r.try_get("programme_id")?,
        programme_version: u32::try_from(version)
            .map_err(|_| bad_value("programme_version", &version.to_string()))?,
        track: code_col(r, "track", Track::from_code)?,
        stage: code_col(r, "stage", Stage::from_code)?,
        policy_id: opt_text(r, "policy_id")?,
        loan_id: opt_text(r, "loan_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        status: code_col(r, "status", SubsidyStatus::from_code)?,
        amount: Money::from_fen(r.try_get("amount_fen")?),
        grant: json_col::<Option<Grant>>(r, "trace")?,
        // An offer's `{}`: nothing was declared.
        declarations: match r.try_get::<String, _>("facts")?.as_str() {
            "{}" => None,
            _ => Some(json_col(r, "facts")?),
        },
        applied_on: date_col(r, "applied_on")?,
        cap_year: i32::try_from(cap_year).map_err(|_| bad_value("cap_year", &cap_year.to_string()))?,
        local_reviewer: opt_text(r, "local_reviewer")?,
        dept_reviewer: opt_text(r, "dept_reviewer")?,
        notice_from: opt_date_col(r, "notice_from")?,
        notice_to: opt_date_col(r, "notice_to")?,
        confirm_by: opt_date_col(r, "confirm_by")?,
        reason: opt_text(r, "reason")?,
        decision_ref: opt_text(r, "decision_ref")?,
        created_at_us: r.try_get("created_at_us")?,
        updated_at_us: r.try_get("updated_at_us")?,
    })
}

fn opt_day(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// Stores an application; `Conflict` when the policy already has a live one in the programme.
pub async fn insert(conn: &mut AnyConnection, a: &SubsidyApplication) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO subsidy_applications ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
    ))
    .bind(&a.id)
    .bind(&a.programme_id)
    .bind(i64::from(a.programme_version))
    .bind(a.track.code())
    .bind(a.stage.code())
    .bind(a.policy_id.clone())
    .bind(&a.enterprise_id)
    .bind(a.status.code())
    .bind(a.amount.fen())
    .bind(to_json(&a.grant)?)
    // An offer nobody declared anything for is stored as `{}`.
    .bind(match &a.declarations {
        Some(d) => to_json(d)?,
        None => "{}".to_owned(),
    })
    .bind(a.applied_on.to_string())
    .bind(i64::from(a.cap_year))
    .bind(a.local_reviewer.clone())
    .bind(a.dept_reviewer.clone())
    .bind(opt_day(a.notice_from))
    .bind(opt_day(a.notice_to))
    .bind(opt_day(a.confirm_by))
    .bind(a.reason.clone())
    .bind(a.decision_ref.clone())
    .bind(a.created_at_us)
    .bind(a.updated_at_us)
    .bind(a.loan_id.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes an application back, if it is still in `expected` (else `Conflict`). The
/// declarations are written once, with the application.
pub async fn update(conn: &mut AnyConnection, a: &SubsidyApplication, expected: SubsidyStatus) -> Result<()> {
    let n = sqlx::query(
        "UPDATE subsidy_applications SET status = $1, amount_fen = $2, trace = $3, local_reviewer = $4, dept_reviewer = $5, \
         notice_from = $6, notice_to = $7, confirm_by = $8, reason = $9, decision_ref = $10, updated_at_us = $11 \
         WHERE id = $12 AND status = $13",
    )
    .bind(a.status.code())
    .bind(a.amount.fen())
    .bind(to_json(&a.grant)?)
    .bind(a.local_reviewer.clone())
    .bind(a.dept_reviewer.clone())
    .bind(opt_day(a.notice_from))
    .bind(opt_day(a.notice_to))
    .bind(opt_day(a.confirm_by))
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
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<SubsidyApplication> {
    let sql = format!("SELECT {COLS} FROM subsidy_applications WHERE id = $1");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    row(&r)
}

/// An application read in a write transaction and locked there until it ends (on
/// PostgreSQL `FOR UPDATE`; SQLite has one writer at a time).
pub async fn get_for_update(
    conn: &mut AnyConnection,
    id: &str,
    backend: crate::Backend,
) -> Result<SubsidyApplication> {
    let lock = if backend == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLS} FROM subsidy_applications WHERE id = $1{lock}");
    let r = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    row(&r)
}

/// Applications, optionally of one enterprise, newest first.
pub async fn list(conn: &mut AnyConnection, enterprise_id: Option<&str>) -> Result<Vec<SubsidyApplication>> {
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

/// The applications naming a loan, newest first.
pub async fn of_loan(conn: &mut AnyConnection, loan_id: &str) -> Result<Vec<SubsidyApplication>> {
    let sql =
        format!("SELECT {COLS} FROM subsidy_applications WHERE loan_id = $1 ORDER BY created_at_us DESC, id");
    let rows = sqlx::query(&sql).bind(loan_id).fetch_all(&mut *conn).await?;
    rows.iter().map(row).collect()
}

/// Stores an objection (open).
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
pub async fn resolve_objection(conn: &mut AnyConnection, id: &str, r: &Resolution) -> Result<()> {
    let n = sqlx::query(
        "UPDATE subsidy_objections SET upheld = $1, resolution = $2 WHERE id = $3 AND upheld IS NULL",
    )
    .bind(i64::from(r.upheld))
    .bind(&r.text)
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
            let resolution = match upheld {
                None => None,
                Some(u) => {
                    Some(Resolution { upheld: u != 0, text: opt_text(r, "resolution")?.unwrap_or_default() })
                }
            };
            Ok(Objection {
                id: r.try_get("id")?,
                application_id: r.try_get("application_id")?,
                author: r.try_get("author")?,
                text: r.try_get("text")?,
                resolution,
                at_us: r.try_get("at_us")?,
            })
        })
        .collect()
}

/// The ban of an enterprise from a programme, if any.
pub async fn ban(conn: &mut AnyConnection, enterprise_id: &str, programme_id: &str) -> Result<Option<Date>> {
    let r = sqlx::query("SELECT until FROM subsidy_bans WHERE enterprise_id = $1 AND programme_id = $2")
        .bind(enterprise_id)
        .bind(programme_id)
        .fetch_optional(&mut *conn)
        .await?;
    r.as_ref().map(|r| date_col(r, "until")).transpose()
}

/// Bans an enterprise from a programme until a date (the later ban wins).
pub async fn set_ban(
    conn: &mut AnyConnection,
    enterprise_id: &str,
    programme_id: &str,
    until: Date,
    reason: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO subsidy_bans (enterprise_id, programme_id, until, reason) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (enterprise_id, programme_id) DO UPDATE SET until = excluded.until, reason = excluded.reason",
    )
    .bind(enterprise_id)
    .bind(programme_id)
    .bind(until.to_string())
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

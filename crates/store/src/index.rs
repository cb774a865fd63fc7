//! The development index (C11): the per-enterprise figures its indicators are computed from
//! (each one statement bounded by the year), the official statistics imported for its units,
//! the framework versions the zone uploaded, and the stored runs.

use crate::{Backend, Result};
use sqlx::{AnyConnection, Row};

/// Policy statuses the index counts (as the statistics do).
const COUNTED: &str = "('in_force', 'registered', 'cancelled')";

/// Enterprises registered on the platform before `to_us`: their ids.
pub async fn registered(conn: &mut AnyConnection, to_us: i64) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM organisations WHERE kind = 'enterprise' AND created_at_us < $1")
        .bind(to_us)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// Policies in force on some day of `[first, last]` (not cancelled before `first`), per
/// enterprise: how many.
pub async fn in_force(
    conn: &mut AnyConnection,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<(String, i64)>> {
    let sql = format!(
        "SELECT enterprise_id, COUNT(*) AS n FROM policies \
         WHERE start_date <= $1 AND end_date >= $2 AND (cancelled_on IS NULL OR cancelled_on >= $2) \
         AND status IN {COUNTED} GROUP BY enterprise_id"
    );
    let rows = sqlx::query(&sql).bind(last.to_string()).bind(first.to_string()).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((r.try_get("enterprise_id")?, r.try_get("n")?))).collect()
}

/// Policies written in `[from_us, to_us)` per enterprise and product type: how many and their
/// cover.
pub async fn written_by_type(
    conn: &mut AnyConnection,
    from_us: i64,
    to_us: i64,
) -> Result<Vec<(String, String, i64, i64)>> {
    let sql = format!(
        "SELECT p.enterprise_id, d.type_id, COUNT(*) AS n, CAST(SUM(p.cover_fen) AS BIGINT) AS cover \
         FROM policies p JOIN products d ON d.id = p.product_id \
         WHERE p.bound_at_us >= $1 AND p.bound_at_us < $2 AND p.status IN {COUNTED} \
         GROUP BY p.enterprise_id, d.type_id"
    );
    let rows = sqlx::query(&sql).bind(from_us).bind(to_us).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok((r.try_get("enterprise_id")?, r.try_get("type_id")?, r.try_get("n")?, r.try_get("cover")?))
        })
        .collect()
}

/// R&D expense (fen) reported for a year, per enterprise.
pub async fn rnd_expense(conn: &mut AnyConnection, year: i32) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT org_id, rnd_expense_fen FROM yearly_facts WHERE year = $1")
        .bind(i64::from(year))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("org_id")?, r.try_get("rnd_expense_fen")?))).collect()
}

/// Claims decided on a day of `[first, last]`, per enterprise: how many, and the days from
/// report to decision added up (in the backend's date arithmetic).
pub async fn claims_decided(
    conn: &mut AnyConnection,
    backend: Backend,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<(String, i64, i64)>> {
    let days = match backend {
        Backend::Sqlite => "CAST(julianday(decided_on) - julianday(reported_on) AS BIGINT)",
        Backend::Postgres => "(CAST(decided_on AS DATE) - CAST(reported_on AS DATE))",
    };
    let sql = format!(
        "SELECT enterprise_id, COUNT(*) AS n, CAST(SUM({days}) AS BIGINT) AS days FROM claims \
         WHERE decided_on IS NOT NULL AND decided_on >= $1 AND decided_on <= $2 GROUP BY enterprise_id"
    );
    let rows = sqlx::query(&sql).bind(first.to_string()).bind(last.to_string()).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((r.try_get("enterprise_id")?, r.try_get("n")?, r.try_get("days")?))).collect()
}

/// Enterprises whose premium subsidy was approved or paid in `[from_us, to_us)` (the
/// application's last change in the period, in one of those states).
pub async fn subsidised(conn: &mut AnyConnection, from_us: i64, to_us: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT enterprise_id FROM subsidy_applications \
         WHERE status IN ('approved', 'disbursed', 'granted') AND updated_at_us >= $1 AND updated_at_us < $2",
    )
    .bind(from_us)
    .bind(to_us)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("enterprise_id")?)).collect()
}

/// Insurance-backed loans disbursed on a day of `[first, last]`, per enterprise: principal (fen).
pub async fn loans_disbursed(
    conn: &mut AnyConnection,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT enterprise_id, CAST(SUM(amount_fen) AS BIGINT) AS amount FROM loans \
         WHERE disbursed_on IS NOT NULL AND disbursed_on >= $1 AND disbursed_on <= $2 GROUP BY enterprise_id",
    )
    .bind(first.to_string())
    .bind(last.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("enterprise_id")?, r.try_get("amount")?))).collect()
}

/// Claim disputes raised on a day of `[first, last]`, per enterprise.
pub async fn complaints(
    conn: &mut AnyConnection,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT enterprise_id, COUNT(*) AS n FROM disputes \
         WHERE complained_on >= $1 AND complained_on <= $2 GROUP BY enterprise_id",
    )
    .bind(first.to_string())
    .bind(last.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("enterprise_id")?, r.try_get("n")?))).collect()
}

/// An imported official figure.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficialValue {
    pub unit_kind: String,
    pub unit_id: String,
    pub year: i32,
    pub indicator: String,
    /// The number as imported (shortest round-trip text).
    pub value: String,
    pub source: String,
    pub import_id: String,
    pub imported_by: String,
    pub imported_at_us: i64,
}

/// Writes imported figures, each replacing the one for the same unit, year and indicator.
pub async fn put_official(conn: &mut AnyConnection, values: &[OfficialValue]) -> Result<()> {
    for v in values {
        sqlx::query("DELETE FROM index_official WHERE unit_kind = $1 AND unit_id = $2 AND year = $3 AND indicator = $4")
            .bind(&v.unit_kind)
            .bind(&v.unit_id)
            .bind(i64::from(v.year))
            .bind(&v.indicator)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO index_official (unit_kind, unit_id, year, indicator, value, source, import_id, imported_by, imported_at_us) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&v.unit_kind)
        .bind(&v.unit_id)
        .bind(i64::from(v.year))
        .bind(&v.indicator)
        .bind(&v.value)
        .bind(&v.source)
        .bind(&v.import_id)
        .bind(&v.imported_by)
        .bind(v.imported_at_us)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn official(r: &sqlx::any::AnyRow) -> Result<OfficialValue> {
    Ok(OfficialValue {
        unit_kind: r.try_get("unit_kind")?,
        unit_id: r.try_get("unit_id")?,
        year: i32::try_from(r.try_get::<i64, _>("year")?).unwrap_or(0),
        indicator: r.try_get("indicator")?,
        value: r.try_get("value")?,
        source: r.try_get("source")?,
        import_id: r.try_get("import_id")?,
        imported_by: r.try_get("imported_by")?,
        imported_at_us: r.try_get("imported_at_us")?,
    })
}

/// Imported figures of one kind of unit (and one year, when given), by unit, year, indicator.
pub async fn official_values(
    conn: &mut AnyConnection,
    unit_kind: &str,
    year: Option<i32>,
) -> Result<Vec<OfficialValue>> {
    let rows = sqlx::query(
        "SELECT * FROM index_official WHERE unit_kind = $1 AND ($2 = 0 OR year = $2) \
         ORDER BY unit_id, year, indicator",
    )
    .bind(unit_kind)
    .bind(i64::from(year.unwrap_or(0)))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(official).collect()
}

/// A framework version the zone uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFramework {
    pub version: String,
    pub body: String,
    pub uploaded_by: String,
    pub uploaded_at_us: i64,
}

/// Stores an uploaded framework; false when the version exists already.
pub async fn put_framework(conn: &mut AnyConnection, f: &StoredFramework) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM index_frameworks WHERE version = $1")
        .bind(&f.version)
        .fetch_one(&mut *conn)
        .await?;
    if n > 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO index_frameworks (version, body, uploaded_by, uploaded_at_us) VALUES ($1, $2, $3, $4)",
    )
    .bind(&f.version)
    .bind(&f.body)
    .bind(&f.uploaded_by)
    .bind(f.uploaded_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// The uploaded frameworks, newest first.
pub async fn frameworks(conn: &mut AnyConnection) -> Result<Vec<StoredFramework>> {
    let rows = sqlx::query("SELECT * FROM index_frameworks ORDER BY uploaded_at_us DESC, version DESC")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredFramework {
                version: r.try_get("version")?,
                body: r.try_get("body")?,
                uploaded_by: r.try_get("uploaded_by")?,
                uploaded_at_us: r.try_get("uploaded_at_us")?,
            })
        })
        .collect()
}

/// A stored index run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRun {
    pub id: String,
    pub job_id: String,
    pub unit_kind: String,
    pub year: i32,
    /// 1, 2, … per kind of unit and year.
    pub version: i64,
    pub framework_version: String,
    pub imeta: String,
    pub idata: String,
    pub config: String,
    /// The results' JSON.
    pub results: String,
    pub created_by: String,
    pub created_at_us: i64,
}

/// Stores a run as the next version of its kind of unit and year; returns the version.
pub async fn insert_run(conn: &mut AnyConnection, r: &StoredRun) -> Result<i64> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM index_runs WHERE unit_kind = $1 AND year = $2")
            .bind(&r.unit_kind)
            .bind(i64::from(r.year))
            .fetch_one(&mut *conn)
            .await?;
    let version = last.unwrap_or(0) + 1;
    sqlx::query(
        "INSERT INTO index_runs (id, job_id, unit_kind, year, version, framework_version, imeta, idata, config, results, created_by, created_at_us) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&r.id)
    .bind(&r.job_id)
    .bind(&r.unit_kind)
    .bind(i64::from(r.year))
    .bind(version)
    .bind(&r.framework_version)
    .bind(&r.imeta)
    .bind(&r.idata)
    .bind(&r.config)
    .bind(&r.results)
    .bind(&r.created_by)
    .bind(r.created_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(version)
}

fn run(r: &sqlx::any::AnyRow, full: bool) -> Result<StoredRun> {
    let text = |c: &str| -> Result<String> {
        if full {
            Ok(r.try_get(c)?)
        } else {
            Ok(String::new())
        }
    };
    Ok(StoredRun {
        id: r.try_get("id")?,
        job_id: r.try_get("job_id")?,
        unit_kind: r.try_get("unit_kind")?,
        year: i32::try_from(r.try_get::<i64, _>("year")?).unwrap_or(0),
        version: r.try_get("version")?,
        framework_version: r.try_get("framework_version")?,
        imeta: text("imeta")?,
        idata: text("idata")?,
        config: text("config")?,
        results: r.try_get("results")?,
        created_by: r.try_get("created_by")?,
        created_at_us: r.try_get("created_at_us")?,
    })
}

/// A run with its inputs.
pub async fn get_run(conn: &mut AnyConnection, id: &str) -> Result<Option<StoredRun>> {
    let row =
        sqlx::query("SELECT * FROM index_runs WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(|r| run(r, true)).transpose()
}

/// The newest runs (without their input files), newest first.
pub async fn runs(conn: &mut AnyConnection, limit: i64) -> Result<Vec<StoredRun>> {
    let rows = sqlx::query(
        "SELECT id, job_id, unit_kind, year, version, framework_version, results, created_by, created_at_us \
         FROM index_runs ORDER BY created_at_us DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| run(r, false)).collect()
}

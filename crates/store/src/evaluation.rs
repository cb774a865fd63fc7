//! The reads behind the evaluation of institutions (C11): per insurer or bank (the service rolls
//! branches up), each one statement bounded by the year.

use crate::{Backend, Result};
use sqlx::{AnyConnection, Row};

/// Claims decided on a day of `[first, last]`: per insurer and days from report to decision,
/// how many.
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
        "SELECT insurer_id, {days} AS days, COUNT(*) AS n FROM claims \
         WHERE decided_on IS NOT NULL AND decided_on >= $1 AND decided_on <= $2 GROUP BY insurer_id, {days}"
    );
    let rows = sqlx::query(&sql).bind(first.to_string()).bind(last.to_string()).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((r.try_get("insurer_id")?, r.try_get("days")?, r.try_get("n")?))).collect()
}

/// Claim payments (code 202) made in `[from_us, to_us)`: the paying insurer, the claim's decision
/// date and the payment's time.
pub async fn claim_payments(
    conn: &mut AnyConnection,
    from_us: i64,
    to_us: i64,
) -> Result<Vec<(String, Option<String>, i64)>> {
    let rows = sqlx::query(
        "SELECT c.insurer_id, c.decided_on, t.timestamp_us FROM ledger_transfers t JOIN claims c ON c.id = t.event_ref \
         WHERE t.code = 202 AND t.flag_pending = 0 AND t.timestamp_us >= $1 AND t.timestamp_us < $2",
    )
    .bind(from_us)
    .bind(to_us)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((r.try_get("insurer_id")?, crate::opt_text(r, "decided_on")?, r.try_get("timestamp_us")?))
        })
        .collect()
}

/// Disputes raised on a day of `[first, last]`, per insurer.
pub async fn complaints(
    conn: &mut AnyConnection,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT insurer_id, COUNT(*) AS n FROM disputes WHERE complained_on >= $1 AND complained_on <= $2 GROUP BY insurer_id",
    )
    .bind(first.to_string())
    .bind(last.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("insurer_id")?, r.try_get("n")?))).collect()
}

/// Policies in force on some day of `[first, last]`, per insurer.
pub async fn in_force(
    conn: &mut AnyConnection,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT insurer_id, COUNT(*) AS n FROM policies WHERE start_date <= $1 AND end_date >= $2 \
         AND (cancelled_on IS NULL OR cancelled_on >= $2) AND status IN ('in_force', 'registered', 'cancelled') \
         GROUP BY insurer_id",
    )
    .bind(last.to_string())
    .bind(first.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("insurer_id")?, r.try_get("n")?))).collect()
}

/// The enterprises with a policy written in `[from_us, to_us)`, per insurer, with their stage.
pub async fn insured(
    conn: &mut AnyConnection,
    from_us: i64,
    to_us: i64,
) -> Result<Vec<(String, String, Option<String>)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT p.insurer_id, p.enterprise_id, o.lifecycle_stage FROM policies p \
         JOIN organisations o ON o.id = p.enterprise_id \
         WHERE p.bound_at_us >= $1 AND p.bound_at_us < $2 AND p.status IN ('in_force', 'registered', 'cancelled')",
    )
    .bind(from_us)
    .bind(to_us)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("insurer_id")?,
                r.try_get("enterprise_id")?,
                crate::opt_text(r, "lifecycle_stage")?,
            ))
        })
        .collect()
}

/// New products (first versions) submitted for filing in `[from_us, to_us)`, per insurer.
pub async fn products_filed(
    conn: &mut AnyConnection,
    from_us: i64,
    to_us: i64,
) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT p.insurer_id, COUNT(*) AS n FROM product_versions v JOIN products p ON p.id = v.product_id \
         WHERE v.version = 1 AND v.submitted_at_us >= $1 AND v.submitted_at_us < $2 GROUP BY p.insurer_id",
    )
    .bind(from_us)
    .bind(to_us)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("insurer_id")?, r.try_get("n")?))).collect()
}

/// Loans disbursed on a day of `[first, last]`, per bank: how many and their principal (fen).
pub async fn loans(
    conn: &mut AnyConnection,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT bank_id, COUNT(*) AS n, CAST(SUM(amount_fen) AS BIGINT) AS amount FROM loans \
         WHERE disbursed_on IS NOT NULL AND disbursed_on >= $1 AND disbursed_on <= $2 GROUP BY bank_id",
    )
    .bind(first.to_string())
    .bind(last.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("bank_id")?, r.try_get("n")?, r.try_get("amount")?))).collect()
}

/// Every verified organisation of a kind: (id, parent id, name).
pub async fn institutions(
    conn: &mut AnyConnection,
    kind: &str,
) -> Result<Vec<(String, Option<String>, String)>> {
    let rows = sqlx::query("SELECT id, parent_id, name FROM organisations WHERE kind = $1 ORDER BY name, id")
        .bind(kind)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, crate::opt_text(r, "parent_id")?, r.try_get("name")?)))
        .collect()
}

//! The risk advisor's broker mode (C3): the broker the zone names, the quotes it obtains and
//! the bundles applied for in one step.

use crate::{date_col, opt_text, Result};
use sqlx::{AnyConnection, Row};
use time::Date;

/// A broker named as the advisor's operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerRow {
    pub id: String,
    pub org_id: String,
    pub licence_no: String,
    pub valid_from: Date,
    pub valid_to: Date,
    pub named_by: String,
    pub named_at_us: i64,
    pub ended_by: Option<String>,
    pub ended_at_us: Option<i64>,
}

const BROKER_COLS: &str =
    "id, org_id, licence_no, valid_from, valid_to, named_by, named_at_us, ended_by, ended_at_us";

fn broker_row(r: &sqlx::any::AnyRow) -> Result<BrokerRow> {
    Ok(BrokerRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        licence_no: r.try_get("licence_no")?,
        valid_from: date_col(r, "valid_from")?,
        valid_to: date_col(r, "valid_to")?,
        named_by: r.try_get("named_by")?,
        named_at_us: r.try_get("named_at_us")?,
        ended_by: opt_text(r, "ended_by")?,
        ended_at_us: r.try_get("ended_at_us")?,
    })
}

/// The broker named now (none: the advisor runs in information mode).
pub async fn current(conn: &mut AnyConnection) -> Result<Option<BrokerRow>> {
    let r = sqlx::query(&format!(
        "SELECT {BROKER_COLS} FROM advisor_brokers WHERE ended_at_us IS NULL ORDER BY named_at_us DESC, id LIMIT 1"
    ))
    .fetch_optional(&mut *conn)
    .await?;
    r.as_ref().map(broker_row).transpose()
}

/// Every broker ever named, newest first.
pub async fn history(conn: &mut AnyConnection) -> Result<Vec<BrokerRow>> {
    let rows =
        sqlx::query(&format!("SELECT {BROKER_COLS} FROM advisor_brokers ORDER BY named_at_us DESC, id"))
            .fetch_all(&mut *conn)
            .await?;
    rows.iter().map(broker_row).collect()
}

/// Ends the current naming (if any) and names this broker.
pub async fn name(conn: &mut AnyConnection, b: &BrokerRow) -> Result<()> {
    end(conn, &b.named_by, b.named_at_us).await?;
    sqlx::query(
        "INSERT INTO advisor_brokers (id, org_id, licence_no, valid_from, valid_to, named_by, named_at_us) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&b.id)
    .bind(&b.org_id)
    .bind(&b.licence_no)
    .bind(b.valid_from.to_string())
    .bind(b.valid_to.to_string())
    .bind(&b.named_by)
    .bind(b.named_at_us)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends the current naming; false when there was none.
pub async fn end(conn: &mut AnyConnection, by: &str, at_us: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE advisor_brokers SET ended_by = $1, ended_at_us = $2 WHERE ended_at_us IS NULL")
            .bind(by)
            .bind(at_us)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// A quote the broker obtained from an insurer's filed plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRow {
    pub id: String,
    pub enterprise_id: String,
    pub exposure_id: String,
    pub product_id: String,
    pub product_version: i64,
    pub insurer_id: String,
    pub plan_version: i64,
    pub broker_id: String,
    pub limit_fen: i64,
    pub deductible_fen: i64,
    pub sum_insured_fen: i64,
    pub revenue_fen: i64,
    pub claims_3y: i64,
    pub premium_fen: i64,
    /// The estimated subsidy when quoted (the programmes in force then).
    pub subsidy_fen: i64,
    pub quoted_on: Date,
    /// The last day the quote stands.
    pub valid_until: Date,
    pub chosen: bool,
    pub bundle_id: Option<String>,
    pub application_id: Option<String>,
    pub created_by: String,
    pub created_at_us: i64,
}

const QUOTE_COLS: &str = "id, enterprise_id, exposure_id, product_id, product_version, insurer_id, plan_version, \
     broker_id, limit_fen, deductible_fen, sum_insured_fen, revenue_fen, claims_3y, premium_fen, subsidy_fen, \
     quoted_on, valid_until, chosen, bundle_id, application_id, created_by, created_at_us";

fn quote_row(r: &sqlx::any::AnyRow) -> Result<QuoteRow> {
    let chosen: i64 = r.try_get("chosen")?;
    Ok(QuoteRow {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        exposure_id: r.try_get("exposure_id")?,
        product_id: r.try_get("product_id")?,
        product_version: r.try_get("product_version")?,
        insurer_id: r.try_get("insurer_id")?,
        plan_version: r.try_get("plan_version")?,
        broker_id: r.try_get("broker_id")?,
        limit_fen: r.try_get("limit_fen")?,
        deductible_fen: r.try_get("deductible_fen")?,
        sum_insured_fen: r.try_get("sum_insured_fen")?,
        revenue_fen: r.try_get("revenue_fen")?,
        claims_3y: r.try_get("claims_3y")?,
        premium_fen: r.try_get("premium_fen")?,
        subsidy_fen: r.try_get("subsidy_fen")?,
        quoted_on: date_col(r, "quoted_on")?,
        valid_until: date_col(r, "valid_until")?,
        chosen: chosen != 0,
        bundle_id: opt_text(r, "bundle_id")?,
        application_id: opt_text(r, "application_id")?,
        created_by: r.try_get("created_by")?,
        created_at_us: r.try_get("created_at_us")?,
    })
}

/// Stores quotes obtained together (one exposure, one set of inputs).
pub async fn insert_quotes(conn: &mut AnyConnection, qs: &[QuoteRow]) -> Result<()> {
    for q in qs {
        sqlx::query(&format!(
            "INSERT INTO advisor_quotes ({QUOTE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        ))
        .bind(&q.id)
        .bind(&q.enterprise_id)
        .bind(&q.exposure_id)
        .bind(&q.product_id)
        .bind(q.product_version)
        .bind(&q.insurer_id)
        .bind(q.plan_version)
        .bind(&q.broker_id)
        .bind(q.limit_fen)
        .bind(q.deductible_fen)
        .bind(q.sum_insured_fen)
        .bind(q.revenue_fen)
        .bind(q.claims_3y)
        .bind(q.premium_fen)
        .bind(q.subsidy_fen)
        .bind(q.quoted_on.to_string())
        .bind(q.valid_until.to_string())
        .bind(i64::from(q.chosen))
        .bind(&q.bundle_id)
        .bind(&q.application_id)
        .bind(&q.created_by)
        .bind(q.created_at_us)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The enterprise's quotes not yet applied for, newest first.
pub async fn open_quotes(conn: &mut AnyConnection, enterprise_id: &str) -> Result<Vec<QuoteRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {QUOTE_COLS} FROM advisor_quotes WHERE enterprise_id = $1 AND bundle_id IS NULL \
         ORDER BY created_at_us DESC, id"
    ))
    .bind(enterprise_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(quote_row).collect()
}

/// One quote.
pub async fn quote(conn: &mut AnyConnection, id: &str) -> Result<QuoteRow> {
    let r = sqlx::query(&format!("SELECT {QUOTE_COLS} FROM advisor_quotes WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    r.as_ref().map(quote_row).transpose()?.ok_or(crate::StoreError::NotFound)
}

/// Chooses a quote for the bundle: the only one chosen of its exposure.
pub async fn choose(conn: &mut AnyConnection, q: &QuoteRow) -> Result<()> {
    sqlx::query(
        "UPDATE advisor_quotes SET chosen = 0 WHERE enterprise_id = $1 AND exposure_id = $2 AND bundle_id IS NULL",
    )
    .bind(&q.enterprise_id)
    .bind(&q.exposure_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE advisor_quotes SET chosen = 1 WHERE id = $1").bind(&q.id).execute(&mut *conn).await?;
    Ok(())
}

/// Takes a quote out of the bundle; false when it was not in it.
pub async fn unchoose(conn: &mut AnyConnection, enterprise_id: &str, id: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE advisor_quotes SET chosen = 0 WHERE id = $1 AND enterprise_id = $2 AND chosen = 1 AND bundle_id IS NULL",
    )
    .bind(id)
    .bind(enterprise_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A bundle applied for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRow {
    pub id: String,
    pub enterprise_id: String,
    pub broker_id: String,
    pub start_date: Date,
    pub premium_fen: i64,
    pub subsidy_fen: i64,
    /// Exposures the bundle leaves uncovered.
    pub uncovered: i64,
    pub applied_by: String,
    pub applied_at_us: i64,
}

/// Records a bundle and links each quote to it and to the application made from it.
pub async fn insert_bundle(
    conn: &mut AnyConnection,
    b: &BundleRow,
    applications: &[(String, String)],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO advisor_bundles (id, enterprise_id, broker_id, start_date, premium_fen, subsidy_fen, uncovered, \
         applied_by, applied_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&b.id)
    .bind(&b.enterprise_id)
    .bind(&b.broker_id)
    .bind(b.start_date.to_string())
    .bind(b.premium_fen)
    .bind(b.subsidy_fen)
    .bind(b.uncovered)
    .bind(&b.applied_by)
    .bind(b.applied_at_us)
    .execute(&mut *conn)
    .await?;
    for (quote_id, application_id) in applications {
        sqlx::query("UPDATE advisor_quotes SET bundle_id = $1, application_id = $2 WHERE id = $3")
            .bind(&b.id)
            .bind(application_id)
            .bind(quote_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The enterprise's bundles, newest first.
pub async fn bundles(conn: &mut AnyConnection, enterprise_id: &str) -> Result<Vec<BundleRow>> {
    let rows = sqlx::query(
        "SELECT id, enterprise_id, broker_id, start_date, premium_fen, subsidy_fen, uncovered, applied_by, \
         applied_at_us FROM advisor_bundles WHERE enterprise_id = $1 ORDER BY applied_at_us DESC, id",
    )
    .bind(enterprise_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(BundleRow {
                id: r.try_get("id")?,
                enterprise_id: r.try_get("enterprise_id")?,
                broker_id: r.try_get("broker_id")?,
                start_date: date_col(r, "start_date")?,
                premium_fen: r.try_get("premium_fen")?,
                subsidy_fen: r.try_get("subsidy_fen")?,
                uncovered: r.try_get("uncovered")?,
                applied_by: r.try_get("applied_by")?,
                applied_at_us: r.try_get("applied_at_us")?,
            })
        })
        .collect()
}

/// The quotes of a bundle.
pub async fn bundle_quotes(conn: &mut AnyConnection, bundle_id: &str) -> Result<Vec<QuoteRow>> {
    let rows =
        sqlx::query(&format!("SELECT {QUOTE_COLS} FROM advisor_quotes WHERE bundle_id = $1 ORDER BY id"))
            .bind(bundle_id)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter().map(quote_row).collect()
}

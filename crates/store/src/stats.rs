//! The reads behind the zone's statistics (C11): each one bounded by the period, each one a
//! single statement that lets the database do the filtering and, where it can, the adding up.
//! The keys are always (insurer, product, enterprise), which every breakdown maps from.

use crate::{Backend, Result};
use sqlx::{AnyConnection, Row};

/// Policy statuses the statistics count: written and not refused or waiting on the insurer.
const COUNTED: &str = "('in_force', 'registered', 'cancelled')";

/// Who a figure belongs to: the insurer, the product and the policyholder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub insurer_id: String,
    pub product_id: String,
    pub enterprise_id: String,
}

fn key(r: &sqlx::any::AnyRow) -> Result<Key> {
    Ok(Key {
        insurer_id: r.try_get("insurer_id")?,
        product_id: r.try_get("product_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
    })
}

/// How finely the sums are keyed: per enterprise (when the rows depend on the policyholder),
/// or per product only (the key's enterprise is then empty), which is far fewer groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Enterprise,
    Product,
}

impl Grain {
    /// The key's columns as selected, and the grouping.
    fn cols(self, insurer: &str, product: &str, enterprise: &str) -> (String, String) {
        match self {
            Grain::Enterprise => (
                format!("{insurer} AS insurer_id, {product} AS product_id, {enterprise} AS enterprise_id"),
                format!("{insurer}, {product}, {enterprise}"),
            ),
            Grain::Product => (
                format!("{insurer} AS insurer_id, {product} AS product_id, '' AS enterprise_id"),
                format!("{insurer}, {product}"),
            ),
        }
    }
}

/// Policies written in `[from_us, to_us)`: per key, how many and their risk cover.
pub async fn written(conn: &mut AnyConnection, from_us: i64, to_us: i64) -> Result<Vec<(Key, i64, i64)>> {
    let sql = format!(
        "SELECT insurer_id, product_id, enterprise_id, COUNT(*) AS n, CAST(SUM(cover_fen) AS BIGINT) AS cover FROM policies \
         WHERE bound_at_us >= $1 AND bound_at_us < $2 AND status IN {COUNTED} \
         GROUP BY insurer_id, product_id, enterprise_id"
    );
    let rows = sqlx::query(&sql).bind(from_us).bind(to_us).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((key(r)?, r.try_get::<i64, _>("n")?, r.try_get::<i64, _>("cover")?))).collect()
}

/// Days since 1970-01-01 of an ISO date column, in the backend's own date arithmetic.
fn days(backend: Backend, col: &str) -> String {
    match backend {
        Backend::Sqlite => format!("CAST(julianday({col}) - 2440587.5 AS BIGINT)"),
        Backend::Postgres => format!("(CAST({col} AS DATE) - DATE '1970-01-01')"),
    }
}

/// Days since 1970-01-01 of a date.
pub fn day_number(d: time::Date) -> i64 {
    i64::from(d.to_julian_day()) - 2_440_588
}

/// Premium earned on the days `[first, last]` per key: for each policy, what it has earned by
/// `last` less what it had earned the day before `first`, each rounded half up to the fen as
/// [`kebao_domain::policy::earned_premium`] rounds (the premium pro rata to the days of cover
/// run, the first day counted, up to the last day of cover).
pub async fn earned(
    conn: &mut AnyConnection,
    backend: Backend,
    grain: Grain,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<(Key, i64)>> {
    let (cols, group) = grain.cols("insurer_id", "product_id", "enterprise_id");
    let (s, e, c) = (days(backend, "start_date"), days(backend, "end_date"), days(backend, "cancelled_on"));
    // run(x) = the days of cover up to x, within 0..=term; earned(x) = (2·P·run + term) div (2·term).
    let run = |x: &str| {
        format!(
            "(CASE WHEN (CASE WHEN {x} < last_d THEN {x} ELSE last_d END) - s + 1 < 0 THEN 0 \
             WHEN (CASE WHEN {x} < last_d THEN {x} ELSE last_d END) - s + 1 > term THEN term \
             ELSE (CASE WHEN {x} < last_d THEN {x} ELSE last_d END) - s + 1 END)"
        )
    };
    let earned = |x: &str| format!("(2 * premium_fen * {r} + term) / (2 * term)", r = run(x));
    let sql = format!(
        "SELECT {cols}, CAST(SUM({to} - {from}) AS BIGINT) AS amount FROM ( \
           SELECT insurer_id, product_id, enterprise_id, premium_fen, s, e - s + 1 AS term, \
             CASE WHEN c IS NOT NULL AND c < e THEN c ELSE e END AS last_d \
           FROM (SELECT insurer_id, product_id, enterprise_id, premium_fen, {s} AS s, {e} AS e, {c} AS c \
                 FROM policies WHERE start_date <= $1 AND end_date >= $2 \
                 AND (cancelled_on IS NULL OR cancelled_on >= $2) AND status IN {COUNTED}) d \
         ) p WHERE term > 0 GROUP BY {group}",
        to = earned("$3"),
        from = earned("$4"),
    );
    let rows = sqlx::query(&sql)
        .bind(last.to_string())
        .bind(first.to_string())
        .bind(day_number(last))
        .bind(day_number(first) - 1)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| Ok((key(r)?, r.try_get::<i64, _>("amount")?))).collect()
}

/// Premium written in `[from_us, to_us)` per key, the insurer being the owner of the
/// `premium_written` account each transfer moves (a co-insurer its share), net of returns.
pub async fn premium_written(
    conn: &mut AnyConnection,
    grain: Grain,
    from_us: i64,
    to_us: i64,
) -> Result<Vec<(Key, i64)>> {
    let (cols, group) = grain.cols("a.owner_id", "p.product_id", "p.enterprise_id");
    // Both sides in one pass: credits add, debits subtract. Only the premium codes touch
    // these accounts, and none of them is ever pending.
    let sql = format!(
        "SELECT {cols}, \
         CAST(SUM(CASE WHEN a.id = t.credit_account_id THEN t.amount ELSE -t.amount END) AS BIGINT) AS amount \
         FROM ledger_transfers t \
         JOIN ledger_accounts a ON a.id IN (t.credit_account_id, t.debit_account_id) AND a.kind = 'premium_written' \
         JOIN policies p ON p.id = t.event_ref \
         WHERE t.timestamp_us >= $1 AND t.timestamp_us < $2 AND t.code IN (101, 103, 104, 105, 111) \
         AND t.flag_pending = 0 \
         GROUP BY {group}"
    );
    let rows = sqlx::query(&sql).bind(from_us).bind(to_us).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((key(r)?, r.try_get::<i64, _>("amount")?))).collect()
}

/// Claims reported on a day of `[first, last]` per key: how many and the amounts claimed.
pub async fn claims_reported(
    conn: &mut AnyConnection,
    grain: Grain,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<(Key, i64, i64)>> {
    let (cols, group) = grain.cols("c.insurer_id", "p.product_id", "c.enterprise_id");
    let sql = format!(
        "SELECT {cols}, COUNT(*) AS n, CAST(SUM(c.claimed_fen) AS BIGINT) AS claimed \
         FROM claims c JOIN policies p ON p.id = c.policy_id \
         WHERE c.reported_on >= $1 AND c.reported_on <= $2 \
         GROUP BY {group}"
    );
    let rows = sqlx::query(&sql).bind(first.to_string()).bind(last.to_string()).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((key(r)?, r.try_get::<i64, _>("n")?, r.try_get::<i64, _>("claimed")?))).collect()
}

/// Claim payments made in `[from_us, to_us)` per key: the lead insurer's payments (code 202),
/// less what co-insurers bear of them (code 112, which moves each follower's share of the
/// claims expense from the lead to the follower).
pub async fn claims_paid(
    conn: &mut AnyConnection,
    grain: Grain,
    from_us: i64,
    to_us: i64,
) -> Result<Vec<(Key, i64)>> {
    let (lead, lead_group) = grain.cols("c.insurer_id", "p.product_id", "c.enterprise_id");
    let (co, co_group) = grain.cols("a.owner_id", "p.product_id", "c.enterprise_id");
    let sql = format!(
        "SELECT {lead}, CAST(SUM(t.amount) AS BIGINT) AS amount \
         FROM ledger_transfers t JOIN claims c ON c.id = t.event_ref JOIN policies p ON p.id = c.policy_id \
         WHERE t.timestamp_us >= $1 AND t.timestamp_us < $2 AND t.code = 202 AND t.flag_pending = 0 \
         GROUP BY {lead_group} \
         UNION ALL \
         SELECT {co}, \
         CAST(SUM(CASE WHEN a.id = t.debit_account_id THEN t.amount ELSE -t.amount END) AS BIGINT) AS amount \
         FROM ledger_transfers t \
         JOIN ledger_accounts a ON a.id IN (t.credit_account_id, t.debit_account_id) AND a.kind = 'claims_expense' \
         JOIN claims c ON c.id = t.event_ref JOIN policies p ON p.id = c.policy_id \
         WHERE t.timestamp_us >= $1 AND t.timestamp_us < $2 AND t.code = 112 AND t.flag_pending = 0 \
         GROUP BY {co_group}"
    );
    let rows = sqlx::query(&sql).bind(from_us).bind(to_us).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((key(r)?, r.try_get::<i64, _>("amount")?))).collect()
}

/// What a breakdown needs of an enterprise: its stage, park, industry tags and the
/// qualifications it holds on `on`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnterpriseDims {
    pub stage: Option<String>,
    pub park: Option<String>,
    pub tags: Vec<String>,
    pub qualifications: Vec<String>,
}

/// Every enterprise's dimensions (three statements, whatever the number of enterprises).
pub async fn enterprise_dims(
    conn: &mut AnyConnection,
    on: time::Date,
) -> Result<std::collections::HashMap<String, EnterpriseDims>> {
    let mut out: std::collections::HashMap<String, EnterpriseDims> = std::collections::HashMap::new();
    for r in sqlx::query("SELECT id, lifecycle_stage, park FROM organisations WHERE kind = 'enterprise'")
        .fetch_all(&mut *conn)
        .await?
    {
        out.insert(
            r.try_get("id")?,
            EnterpriseDims {
                stage: crate::opt_text(&r, "lifecycle_stage")?,
                park: crate::opt_text(&r, "park")?,
                ..EnterpriseDims::default()
            },
        );
    }
    for r in sqlx::query("SELECT org_id, tag FROM org_industries ORDER BY org_id, tag")
        .fetch_all(&mut *conn)
        .await?
    {
        let id: String = r.try_get("org_id")?;
        if let Some(d) = out.get_mut(&id) {
            d.tags.push(r.try_get("tag")?);
        }
    }
    for r in sqlx::query("SELECT org_id, kind FROM qualifications WHERE valid_from <= $1 AND valid_to >= $1")
        .bind(on.to_string())
        .fetch_all(&mut *conn)
        .await?
    {
        let id: String = r.try_get("org_id")?;
        if let Some(d) = out.get_mut(&id) {
            d.qualifications.push(r.try_get("kind")?);
        }
    }
    Ok(out)
}

/// Every product's catalogue type: (product id, type id).
pub async fn product_types(conn: &mut AnyConnection) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT id, type_id FROM products").fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("type_id")?))).collect()
}

/// Every insurer with its parent and name: (id, parent id, name).
pub async fn insurers(conn: &mut AnyConnection) -> Result<Vec<(String, Option<String>, String)>> {
    let rows =
        sqlx::query("SELECT id, parent_id, name FROM organisations WHERE kind = 'insurer' ORDER BY name, id")
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, crate::opt_text(r, "parent_id")?, r.try_get("name")?)))
        .collect()
}

/// Distinct enterprises with a policy written in `[from_us, to_us)`, and the risk cover of
/// those policies (fen).
pub async fn insured(conn: &mut AnyConnection, from_us: i64, to_us: i64) -> Result<(i64, i64)> {
    let sql = format!(
        "SELECT COUNT(DISTINCT enterprise_id) AS n, CAST(COALESCE(SUM(cover_fen), 0) AS BIGINT) AS cover FROM policies \
         WHERE bound_at_us >= $1 AND bound_at_us < $2 AND status IN {COUNTED}"
    );
    let r = sqlx::query(&sql).bind(from_us).bind(to_us).fetch_one(&mut *conn).await?;
    Ok((r.try_get("n")?, r.try_get("cover")?))
}

/// Registered institutions of these kinds established on a day of `[from, on]`.
pub async fn institutions(
    conn: &mut AnyConnection,
    kinds: &[&str],
    from: time::Date,
    on: time::Date,
) -> Result<i64> {
    let mut n = 0;
    for kind in kinds {
        let c: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM organisations WHERE institution_kind = $1 AND founded_on >= $2 AND founded_on <= $3",
        )
        .bind(*kind)
        .bind(from.to_string())
        .bind(on.to_string())
        .fetch_one(&mut *conn)
        .await?;
        n += c;
    }
    Ok(n)
}

/// Products published before `to_us` (first publication of any version).
pub async fn products_published(conn: &mut AnyConnection, to_us: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(DISTINCT product_id) FROM product_versions WHERE published_at_us IS NOT NULL AND published_at_us < $1",
    )
    .bind(to_us)
    .fetch_one(&mut *conn)
    .await?)
}

//! What the monitoring gauges count: work waiting on people, clocks past due, money pending,
//! the freshness of the signed log, failed sign-ins. Counts only, never content.

use crate::Result;
use sqlx::{AnyConnection, Row};

/// The gauges' raw counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Open to-dos per kind: (kind, count, oldest creation time).
    pub todos: Vec<(String, i64, i64)>,
    /// Claims still undecided after the deadline to decide.
    pub claims_decide_past_due: i64,
    /// Claims decided to pay and not closed after the deadline to pay.
    pub claims_pay_past_due: i64,
    /// Pending (reserved, not yet posted) debits and credits over all ledger accounts, in fen.
    pub ledger_debits_pending: i64,
    pub ledger_credits_pending: i64,
    /// When the newest signed tree head was signed.
    pub newest_head_us: Option<i64>,
    /// Failed sign-ins since the time asked for.
    pub failed_sign_ins: i64,
    /// Personal-data requests still unanswered after their deadline.
    pub data_requests_past_due: i64,
}

/// The counts on `today` (`YYYY-MM-DD`): claims reported before `decide_cutoff` (a date, `YYYY-MM-DD`) and
/// still undecided, or decided to pay before `pay_cutoff` and not closed, are past due;
/// failed sign-ins are counted from `since_us`.
pub async fn counts(
    conn: &mut AnyConnection,
    decide_cutoff: &str,
    pay_cutoff: &str,
    since_us: i64,
    today: &str,
) -> Result<Counts> {
    let todos = sqlx::query(
        "SELECT kind, COUNT(*) AS n, MIN(created_at_us) AS oldest FROM todos WHERE done_at_us IS NULL \
         GROUP BY kind ORDER BY kind",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?, r.try_get("oldest")?)))
    .collect::<Result<Vec<_>>>()?;
    let one = |sql: &'static str| sqlx::query(sql);
    let decide: i64 = one(
        "SELECT COUNT(*) AS n FROM claims WHERE status IN ('reported', 'investigating') AND reported_on < $1",
    )
    .bind(decide_cutoff)
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    let pay: i64 =
        one("SELECT COUNT(*) AS n FROM claims WHERE status = 'decided' AND outcome IN ('pay', 'partial') \
         AND decided_on < $1")
        .bind(pay_cutoff)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    let ledger = one("SELECT CAST(COALESCE(SUM(debits_pending), 0) AS BIGINT) AS d, \
         CAST(COALESCE(SUM(credits_pending), 0) AS BIGINT) AS c FROM ledger_accounts")
    .fetch_one(&mut *conn)
    .await?;
    let newest_head_us: Option<i64> =
        one("SELECT MAX(timestamp_us) AS t FROM tree_heads").fetch_one(&mut *conn).await?.try_get("t")?;
    let failed: i64 = one("SELECT COUNT(*) AS n FROM login_attempts WHERE succeeded = 0 AND at_us >= $1")
        .bind(since_us)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    let requests: i64 = one("SELECT COUNT(*) AS n FROM data_requests WHERE state = 'open' AND due_on < $1")
        .bind(today)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    Ok(Counts {
        data_requests_past_due: requests,
        todos,
        claims_decide_past_due: decide,
        claims_pay_past_due: pay,
        ledger_debits_pending: ledger.try_get("d")?,
        ledger_credits_pending: ledger.try_get("c")?,
        newest_head_us,
        failed_sign_ins: failed,
    })
}

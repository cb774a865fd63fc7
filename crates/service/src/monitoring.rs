//! The monitoring gauges (`/metrics`, which is not public): to-dos waiting per kind and the
//! oldest one's age, deadline clocks past due, money pending in the ledger, the age of the
//! newest signed tree head, failed sign-ins, jobs by state. Counts only, never content, so no
//! reader is authorised here: the edge keeps `/metrics` to a token or a private address.

use crate::{Result, Service};
use kebao_domain::job::{JobKind, JobState};

/// The gauges at one moment.
#[derive(Debug, Clone)]
pub struct Gauges {
    pub now_us: i64,
    pub counts: kebao_store::monitoring::Counts,
    /// (kind, state, count, oldest request time).
    pub jobs: Vec<(JobKind, JobState, i64, i64)>,
}

/// Failed sign-ins are counted over this window.
pub const SIGN_IN_WINDOW_US: i64 = 24 * 3600 * 1_000_000;

impl Service {
    /// The gauges now.
    pub async fn gauges(&self) -> Result<Gauges> {
        let d = self.claim_deadlines();
        let today = self.today();
        let cutoff = |days: i64| (today - time::Duration::days(days)).to_string();
        let now_us = self.now_us();
        let mut tx = self.store.begin_read().await?;
        let counts = kebao_store::monitoring::counts(
            tx.conn(),
            &cutoff(d.decide_days),
            &cutoff(d.pay_days),
            now_us - SIGN_IN_WINDOW_US,
            &today.to_string(),
        )
        .await?;
        let jobs = kebao_store::jobs::counts(tx.conn()).await?;
        Ok(Gauges { now_us, counts, jobs })
    }
}

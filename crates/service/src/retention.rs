//! Retention (issue 18.3): the daily job that applies `data/retention.toml`, and the list of
//! what it erased.
//!
//! The hash-chained log is never edited: its payloads carry ids, codes and amounts, not the
//! personal data the rules erase — that lives in tables (external records, consents) and in
//! documents. Erasing it leaves every event, so `audit verify` and the ledger's recomputation
//! from the events still pass. Each erasure is recorded (`erasures`) as it is done; the job's
//! end event counts them per rule.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::jobs::{JobContext, JobFuture, JobHandler, JobStop};
use crate::{Result, Service};
use kebao_domain::job::JobResult;
use kebao_domain::retention::{RetentionRule, RetentionRules, ENDED_PERSONAL_CONSENTS, NEGATIVE_RECORDS};
use kebao_store::retention::{self as store, Erasure};
use kebao_store::Unlogged;

/// Records erased per transaction.
const BATCH: u32 = 200;

/// One erasure as the audit page lists it.
#[derive(Debug, Clone)]
pub struct ErasureView {
    pub erasure: Erasure,
    /// The rule, as configured (absent if the rules changed since).
    pub rule: Option<RetentionRule>,
    /// The organisation the data was about, named.
    pub org_name: Option<String>,
}

impl Service {
    /// The retention rules in force.
    pub fn retention_rules(&self) -> RetentionRules {
        RetentionRules::embedded()
    }

    /// The newest erasures (readers of the audit log).
    pub async fn erasures(&self, actor: &Actor, limit: u32) -> Result<Vec<ErasureView>> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let rules = self.retention_rules();
        let mut tx = self.store.begin_read().await?;
        Ok(store::list(tx.conn(), limit.min(500))
            .await?
            .into_iter()
            .map(|(erasure, org_name)| ErasureView {
                rule: rules.get(&erasure.rule).cloned(),
                erasure,
                org_name,
            })
            .collect())
    }

    /// Applies one batch of a rule; returns how many records it erased.
    async fn retention_batch(&self, rule: &RetentionRule, job_id: &str) -> Result<u64> {
        let Some(through) = rule.due_through(self.today()) else { return Ok(0) };
        let now = self.now_us();
        let mut tx = self.store.begin_write().await?;
        let mut n = 0;
        if rule.id == NEGATIVE_RECORDS {
            for (id, org) in
                store::negative_records_due(tx.conn(), &rule.record_kinds, &through.to_string(), BATCH)
                    .await?
            {
                if store::delete_record(tx.conn(), &id).await? {
                    let e = self.erasure(rule, "external_record", &id, Some(org), "*", now, job_id);
                    store::record(tx.conn(), &e).await?;
                    n += 1;
                }
            }
        } else if rule.id == ENDED_PERSONAL_CONSENTS {
            let revoked_before = kebao_domain::time_zone::to_unix_us(
                through
                    .next_day()
                    .unwrap_or(through)
                    .midnight()
                    .assume_offset(kebao_domain::time_zone::SHANGHAI),
            );
            for (id, org, sha) in
                store::consents_due(tx.conn(), revoked_before, &through.to_string(), BATCH).await?
            {
                if store::anonymise_consent(tx.conn(), &id, now).await? {
                    let doc = store::erase_blob_of(tx.conn(), &sha, "consent", &id).await?;
                    let fields =
                        if doc { "signer_name,person_name,document" } else { "signer_name,person_name" };
                    let e = self.erasure(rule, "consent", &id, Some(org), fields, now, job_id);
                    store::record(tx.conn(), &e).await?;
                    n += 1;
                }
            }
        }
        tx.commit_unlogged(Unlogged::RetentionErasure).await?;
        Ok(n)
    }

    #[allow(clippy::too_many_arguments, reason = "one erasure's fields")]
    fn erasure(
        &self,
        rule: &RetentionRule,
        kind: &str,
        id: &str,
        org: Option<String>,
        fields: &str,
        at_us: i64,
        job_id: &str,
    ) -> Erasure {
        Erasure {
            id: self.new_id(),
            rule: rule.id.clone(),
            subject_kind: kind.to_owned(),
            subject_id: id.to_owned(),
            org_id: org,
            fields: fields.to_owned(),
            at_us,
            job_id: job_id.to_owned(),
        }
    }
}

/// The retention job: each `delete` and `anonymise` rule, batch by batch until nothing is due.
#[derive(Debug)]
pub struct RetentionJob;

impl JobHandler for RetentionJob {
    fn run<'a>(&'a self, svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let rules = svc.retention_rules();
            let active: Vec<&RetentionRule> = rules
                .0
                .iter()
                .filter(|r| [NEGATIVE_RECORDS, ENDED_PERSONAL_CONSENTS].contains(&r.id.as_str()))
                .collect();
            let total = i64::try_from(active.len()).unwrap_or(0);
            let mut erased = Vec::new();
            for (i, rule) in active.iter().enumerate() {
                let mut n = 0u64;
                loop {
                    let done = svc.retention_batch(rule, &ctx.job.id).await.map_err(JobStop::from)?;
                    n += done;
                    ctx.progress(i64::try_from(i).unwrap_or(0), total, None).await?;
                    if done < u64::from(BATCH) {
                        break;
                    }
                }
                erased.push((rule.id.clone(), n));
            }
            ctx.progress(total, total, None).await?;
            Ok(JobResult::RetentionApplied { erased })
        })
    }
}

//! Retention (issue 18.3): the daily job that applies `data/retention.toml`, and the list of
//! what it erased.
//!
//! The hash-chained log is never edited: its payloads carry ids, codes and amounts, not the
//! personal data the rules erase — that lives in tables (external records, consents, users),
//! in documents, and in the personal parts kept beside events (the payload holds their salted
//! digest). Erasing it leaves every event, so `audit verify` and the ledger's recomputation
//! from the events still pass. Each erasure is recorded (`erasures`) as it is done; the job's
//! end event counts them per rule.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::jobs::{JobContext, JobFuture, JobHandler, JobStop};
use crate::{Result, Service};
use kebao_domain::event::Personal;
use kebao_domain::job::JobResult;
use kebao_domain::retention::{
    RetentionRule, RetentionRules, APPLIED_DAILY, DEACTIVATED_USER_CREDENTIALS, ENDED_PERSONAL_CONSENTS,
    NEGATIVE_RECORDS, SIGN_IN_ATTEMPTS,
};
use kebao_store::events;
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
        // The first instant after the last day due (Shanghai midnight).
        let before_us = kebao_domain::time_zone::to_unix_us(
            through.next_day().unwrap_or(through).midnight().assume_offset(kebao_domain::time_zone::SHANGHAI),
        );
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
            for (id, org, sha) in
                store::consents_due(tx.conn(), before_us, &through.to_string(), BATCH).await?
            {
                if store::anonymise_consent(tx.conn(), &id, now).await? {
                    let doc = store::erase_blob_of(tx.conn(), &sha, "consent", &id).await?;
                    let mut fields = vec!["signer_name", "person_name"];
                    if doc {
                        fields.push("document");
                    }
                    // Documents added to the consent later: their names sit beside their events.
                    let mut names = 0;
                    for e in events::for_subject(tx.conn(), &id, 1000).await? {
                        if matches!(e.personal, Some(Personal::Kept(_))) {
                            self.erase_words(&mut tx, &e).await?;
                            names += 1;
                        }
                    }
                    if names > 0 {
                        fields.push("file_name");
                    }
                    let e = self.erasure(rule, "consent", &id, Some(org), &fields.join(","), now, job_id);
                    store::record(tx.conn(), &e).await?;
                    n += 1;
                }
            }
        } else if rule.id == DEACTIVATED_USER_CREDENTIALS {
            for (id, org) in store::users_due(tx.conn(), before_us, BATCH).await? {
                if store::erase_password(tx.conn(), &id).await? {
                    let e = self.erasure(rule, "user", &id, Some(org), "password_hash", now, job_id);
                    store::record(tx.conn(), &e).await?;
                    n += 1;
                }
            }
        } else if rule.id == SIGN_IN_ATTEMPTS {
            let gone = store::delete_sign_in_attempts(tx.conn(), before_us, BATCH).await?;
            if gone > 0 {
                let fields = format!("count:{gone}");
                let e = self.erasure(rule, "login_attempt", &through.to_string(), None, &fields, now, job_id);
                store::record(tx.conn(), &e).await?;
            }
            n += gone;
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
            job_id: Some(job_id.to_owned()),
            request_id: None,
        }
    }

    /// Erases an event's kept personal part, and the copies its case keeps of those words
    /// (a claim's reason, an uploaded file's name). The event's digest stays in the chain.
    pub(crate) async fn erase_words(
        &self,
        tx: &mut kebao_store::Tx,
        e: &kebao_domain::event::EventRecord,
    ) -> Result<Vec<String>> {
        let Some(Personal::Kept(part)) = &e.personal else { return Ok(Vec::new()) };
        let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
        let words: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&part.data).unwrap_or_default();
        let mut keys = Vec::new();
        for (key, text) in &words {
            if let Some(text) = text.as_str() {
                kebao_store::privacy::erase_copy(tx.conn(), &e.action, &e.subject, &payload, key, text)
                    .await?;
            }
            keys.push(key.clone());
        }
        events::erase_personal(tx.conn(), e.seq, self.now_us()).await?;
        Ok(keys)
    }
}

/// The retention job: each `delete` and `anonymise` rule, batch by batch until nothing is due.
#[derive(Debug)]
pub struct RetentionJob;

impl JobHandler for RetentionJob {
    fn run<'a>(&'a self, svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(async move {
            let rules = svc.retention_rules();
            let active: Vec<&RetentionRule> =
                rules.0.iter().filter(|r| APPLIED_DAILY.contains(&r.id.as_str())).collect();
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
